// The fuzz targets: one per parser entry point. Each `fuzz(data)` returns normally or throws
// only a GuestkitError for any input; anything else it throws is a finding (see ../README.md).

import { fuzzBtrfs, fuzzExt, fuzzFat, fuzzNtfs, fuzzXfs } from './fs.js';
import { fuzzLvm, fuzzLvmText, fuzzPartitions } from './volume.js';
import { fuzzQcow2 } from './qcow2.js';
import { fuzzRegf, fuzzRegImport } from './registry.js';
import { fuzzBdb, fuzzDpkg, fuzzFstab, fuzzNdb, fuzzOsRelease, fuzzRpmHeader } from './inspect.js';

export interface FuzzTarget {
  name: string;
  /** What the input is and which entry points it reaches. */
  what: string;
  fuzz(data: Uint8Array): void;
}

const t = (name: string, what: string, fuzz: (d: Uint8Array) => void): FuzzTarget => ({ name, what, fuzz });

export const TARGETS: readonly FuzzTarget[] = [
  t('qcow2', 'qcow2 file: header, extensions, L1/L2 walk (map), data/zero/compressed reads, snapshots', fuzzQcow2),
  t('partitions', 'sparse disk: MBR + EBR chain, GPT (primary/backup), probe of each partition', fuzzPartitions),
  t('lvm', 'sparse PV: label, metadata area, VG metadata, LV segments, reads from each LV', fuzzLvm),
  t('lvm-text', 'LVM2 metadata text: config parser + VG interpretation', fuzzLvmText),
  t('ext', 'sparse ext2/3/4 image: open (journal replay), walk, read, xattrs, statfs', fuzzExt),
  t('fat', 'sparse FAT12/16/32 image: open, walk, read, statfs', fuzzFat),
  t('ntfs', 'sparse NTFS image: open, walk, read (runlists, LZNT1, ADS), statfs', fuzzNtfs),
  t('xfs', 'sparse XFS image: open, walk (all directory forms), read, xattrs, statfs', fuzzXfs),
  t('btrfs', 'sparse btrfs image: open (chunk tree), walk, read (inline/compressed extents), statfs', fuzzBtrfs),
  t('regf', 'registry hive: base block, bins, nk/vk/sk/lists/big data, walk of every key and value', fuzzRegf),
  t('reg-import', '.reg file: BOM/encoding detection and regedit-format parsing', fuzzRegImport),
  t('dpkg', '/var/lib/dpkg/status text', fuzzDpkg),
  t('rpm-header', 'one rpm header blob: index, store, tags of an installed package', fuzzRpmHeader),
  t('bdb', 'rpm Berkeley DB Packages (hash): meta page, buckets, overflow chains, then each header', fuzzBdb),
  t('ndb', 'rpm ndb Packages.db: slots, blobs, then each header', fuzzNdb),
  t('os-release', 'os-release, lsb-release and every release file inspection reads', fuzzOsRelease),
  t('fstab', '/etc/fstab text: fields, escapes, mount points, mount specs', fuzzFstab),
];

export function target(name: string): FuzzTarget {
  const found = TARGETS.find((x) => x.name === name);
  if (!found) throw new Error(`no fuzz target "${name}" (targets: ${TARGETS.map((x) => x.name).join(', ')})`);
  return found;
}

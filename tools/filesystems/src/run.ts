// guestkit filesystems: what virt-filesystems (guestfs-tools 1.48 cat/filesystems.c) lists, in
// its order (filesystems, LVs, VGs, PVs, partitions, block devices) and columns (Name, Type,
// VFS, Label, MBR, Size, Parent, UUID), read natively from the images. --json prints the same
// rows as an array of objects with every field.
//
// Where the values come from, as libguestfs gets them:
//   filesystems  list_filesystems; VFS/Label/UUID from blkid; Size: the mounted filesystem's
//                statvfs blocks × bsize (the probe works it out from the superblock as the
//                kernel does), else the device size (swap, unknown, unsupported types);
//   partitions   list_partitions; MBR: the type byte on MBR disks; Size: the device size
//                (an extended partition is Linux's 1 KiB stub); Parent: the disk;
//   LVM          lvs / vgs_full / pvs_full: LV UUIDs as lvs prints them, VG/PV UUIDs as 32
//                characters without dashes.

import { hideBin } from 'yargs/helpers';
import { DiskSet, GuestkitError, type DiskSpec, type DeviceEntry, type PhysicalVolume, type VolumeGroup } from '@guestkit/core';
import { runTool, writeOut, humanSize, driveArgs, resolveDrives, openOptionsFrom } from '@guestkit/clikit';
import type { FilesystemsArgs } from './command.js';
import { formatCsv, formatText, type Row } from './table.js';

const OUT_FILESYSTEMS = 1;
const OUT_FILESYSTEMS_EXTRA = 2;
const OUT_PARTITIONS = 4;
const OUT_BLOCKDEVS = 8;
const OUT_LVS = 16;
const OUT_VGS = 32;
const OUT_PVS = 64;
const OUT_ALL = 0x7fffffff;

const COL_NAME = 1;
const COL_TYPE = 2;
const COL_VFS_TYPE = 4;
const COL_VFS_LABEL = 8;
const COL_MBR = 16;
const COL_SIZE = 32;
const COL_PARENTS = 64;
const COL_UUID = 128;

/** One listed item with every field (null: not applicable, as virt-filesystems' NULL). */
export interface Item {
  name: string;
  type: 'filesystem' | 'lv' | 'vg' | 'pv' | 'partition' | 'device';
  vfs: string | null;
  label: string | null;
  /** MBR partition type byte as two hex digits. */
  mbr: string | null;
  size: number | null;
  parents: string[];
  uuid: string | null;
}

export async function run(argv: FilesystemsArgs, rawArgs: readonly string[] = hideBin(process.argv)): Promise<void> {
  await runTool(argv, async () => {
    const human = !!argv['human-readable'];
    if (human && argv.csv) throw new GuestkitError('USAGE', 'you cannot use -h and --csv options together.');
    let output = 0;
    if (argv.all) output = OUT_ALL;
    if (argv['block-devices']) output |= OUT_BLOCKDEVS;
    if (argv.extra) output |= OUT_FILESYSTEMS | OUT_FILESYSTEMS_EXTRA;
    if (argv.filesystems) output |= OUT_FILESYSTEMS;
    if (argv['logical-volumes']) output |= OUT_LVS;
    if (argv.partitions) output |= OUT_PARTITIONS;
    if (argv['physical-volumes']) output |= OUT_PVS;
    if (argv['volume-groups']) output |= OUT_VGS;
    if (output === 0) output = OUT_FILESYSTEMS;

    let columns = COL_NAME;
    if (argv.long) {
      columns |= COL_TYPE | COL_SIZE | COL_PARENTS;
      if (output & OUT_FILESYSTEMS) columns |= COL_VFS_TYPE | COL_VFS_LABEL;
      if (output & OUT_PARTITIONS) columns |= COL_MBR;
      if (argv.uuid) columns |= COL_UUID;
    }
    const title = !!argv.long && !argv['no-title'];

    const specs = diskSpecs(argv, rawArgs);
    const disks = DiskSet.open(specs, openOptionsFrom(argv));
    let items: Item[];
    try {
      items = collect(disks, output);
    } finally {
      disks.close();
    }

    if (argv.json) {
      await writeOut(JSON.stringify(items, null, 2) + '\n');
      return;
    }
    const rows: Row[] = [];
    if (title) rows.push(headings(columns));
    for (const it of items) rows.push(row(it, columns, human));
    await writeOut(argv.csv ? formatCsv(rows) : formatText(rows));
  });
}

/** Disk specs from -a (with the --format and --blocksize in force for each) and -d. */
function diskSpecs(argv: FilesystemsArgs, rawArgs: readonly string[]): DiskSpec[] {
  const drives = driveArgs(rawArgs);
  if (drives.length === 0) throw new GuestkitError('USAGE', 'you must specify at least one -a or -d option');
  const sizes = blocksizes(rawArgs);
  const specs: DiskSpec[] = [];
  let a = 0;
  for (const d of drives) {
    if (d.kind === 'a') {
      const s: DiskSpec = d.format ? { path: d.path, format: d.format } : { path: d.path };
      const bs = sizes[a++];
      if (bs !== undefined) s.blocksize = bs;
      specs.push(s);
    } else {
      specs.push(...resolveDrives([d], argv.connect).specs);
    }
  }
  return specs;
}

/**
 * The --blocksize in force for each -a, in order: like --format, it applies to the -a options
 * after it ("--blocksize=4096" or "--blocksize 4096"); "--blocksize" alone or "--blocksize="
 * goes back to the default.
 */
export function blocksizes(rawArgs: readonly string[]): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  let bs: number | undefined;
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i];
    if (a === '--') break;
    if (a === '-a' || a === '--add') {
      i++;
      out.push(bs);
    } else if (a.startsWith('--add=') || (a.startsWith('-a') && a.length > 2 && !a.startsWith('--'))) {
      out.push(bs);
    } else if (a === '--blocksize=' || (a === '--blocksize' && !/^\d+$/.test(rawArgs[i + 1] ?? ''))) {
      bs = undefined;
    } else if (a.startsWith('--blocksize')) {
      const v = a === '--blocksize' ? rawArgs[++i] : a.slice('--blocksize='.length);
      const n = Number(v);
      if (n !== 512 && n !== 4096) throw new GuestkitError('USAGE', `--blocksize=${v}: the sector size must be 512 or 4096`);
      bs = n;
    } else if (['--format', '-d', '--domain', '-c', '--connect', '--snapshot', '--backing-dir'].includes(a)) {
      if (a !== '--format' || (rawArgs[i + 1] !== undefined && !rawArgs[i + 1].startsWith('-'))) i++;
    }
  }
  return out;
}

function collect(disks: DiskSet, output: number): Item[] {
  const items: Item[] = [];
  if (output & OUT_FILESYSTEMS) {
    // btrfs subvolumes other than the default are items of their own (btrfsvol:/dev/sda/NAME)
    // with the filesystem's label and UUID and no size (blockdev_getsize64 has no device to ask).
    for (const { device, type, subvolume, mountable } of disks.filesystems({ btrfsSubvolumes: true })) {
      if (!(output & OUT_FILESYSTEMS_EXTRA) && (type === 'swap' || type === 'unknown')) continue;
      const p = device.probe();
      items.push({
        name: mountable,
        type: 'filesystem',
        vfs: type,
        label: p?.label ?? '',
        mbr: null,
        size: subvolume !== undefined ? null : p?.fsSize ?? device.size,
        parents: [],
        uuid: p?.uuid ?? '',
      });
    }
  }
  const needLvm = output & (OUT_LVS | OUT_VGS | OUT_PVS);
  const lvm = needLvm ? disks.lvm() : undefined;
  if (output & OUT_LVS) {
    for (const lv of disks.lvs()) {
      items.push({
        name: lv.name,
        type: 'lv',
        vfs: null,
        label: null,
        mbr: null,
        size: lv.size,
        parents: [lv.parent ?? ''],
        uuid: lv.lvUuid ?? '',
      });
    }
  }
  if (output & OUT_VGS && lvm) {
    for (const vg of [...lvm.vgs].sort((a, b) => cmp(a.name, b.name))) {
      items.push({
        name: `/dev/${vg.name}`,
        type: 'vg',
        vfs: null,
        label: null,
        mbr: null,
        size: vg.extentCount * vg.extentSize,
        parents: vg.pvs.map((pv) => disks.resolveDeviceName(pv) ?? pv),
        uuid: undashed(vg.uuid),
      });
    }
  }
  if (output & OUT_PVS && lvm) {
    for (const pv of [...lvm.physicalVolumes].sort((a, b) => cmp(a.name, b.name))) {
      items.push({
        name: disks.resolveDeviceName(pv.name) ?? pv.name,
        type: 'pv',
        vfs: null,
        label: null,
        mbr: null,
        size: pvSize(pv, lvm.vgs.find((v) => v.name === pv.vg)),
        parents: [],
        uuid: undashed(pv.uuid),
      });
    }
  }
  if (output & OUT_PARTITIONS) {
    for (const p of disks.partitions()) items.push(partitionItem(p));
  }
  if (output & OUT_BLOCKDEVS) {
    for (const d of disks.disks) {
      items.push({ name: d.name, type: 'device', vfs: null, label: null, mbr: null, size: d.size, parents: [], uuid: null });
    }
  }
  return items;
}

function partitionItem(p: DeviceEntry): Item {
  const mbr = p.mbrId;
  return {
    name: p.name,
    type: 'partition',
    vfs: null,
    label: null,
    mbr: mbr === undefined ? null : mbr.toString(16).padStart(2, '0'),
    size: p.size,
    parents: [p.parent ?? ''],
    uuid: null,
  };
}

/**
 * pvs -o pv_size (LVM pv_size_field()): pe_count × extent size for a PV in a VG, else the
 * device size its label records. pe_count is what pvcreate/vgextend computed: the extents
 * that fit between pe_start (the first data area) and the end of the device.
 */
function pvSize(pv: PhysicalVolume, vg: VolumeGroup | undefined): number {
  const dev = pv.label.deviceSize || pv.dev.size;
  if (!vg || !vg.extentSize) return dev;
  const peStart = pv.label.dataAreas[0]?.offset ?? 0;
  return Math.floor(Math.max(0, dev - peStart) / vg.extentSize) * vg.extentSize;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function undashed(uuid: string | undefined): string {
  return (uuid ?? '').replace(/-/g, '');
}

function headings(columns: number): Row {
  const h: Row = ['Name'];
  if (columns & COL_TYPE) h.push('Type');
  if (columns & COL_VFS_TYPE) h.push('VFS');
  if (columns & COL_VFS_LABEL) h.push('Label');
  if (columns & COL_MBR) h.push('MBR');
  if (columns & COL_SIZE) h.push('Size');
  if (columns & COL_PARENTS) h.push('Parent');
  if (columns & COL_UUID) h.push('UUID');
  return h;
}

/** virt-filesystems write_row(): the displayed columns of one item. */
function row(it: Item, columns: number, human: boolean): Row {
  const r: Row = [it.name];
  if (columns & COL_TYPE) r.push(it.type);
  if (columns & COL_VFS_TYPE) r.push(it.vfs);
  if (columns & COL_VFS_LABEL) r.push(it.label);
  if (columns & COL_MBR) r.push(it.mbr);
  if (columns & COL_SIZE) r.push(it.size === null ? null : human ? humanSize(it.size) : String(it.size));
  if (columns & COL_PARENTS) r.push(it.parents.join(','));
  if (columns & COL_UUID) r.push(it.uuid);
  return r;
}

// struct btrfs_super_block (btrfs docs, "On-disk Format" § Superblock; btrfs_tree.h): 4 KiB
// at 64 KiB of every device, with mirror copies at 64 MiB and 256 GiB where the device is that
// large. The primary is used when it is valid; otherwise the valid mirror with the highest
// generation (btrfs-progs' `-s`/`btrfs rescue super-recover` logic, done read-only).

import { Bytes, formatUuid } from '../../bytes.js';
import type { BlockDevice } from '../../block/device.js';
import { readExact } from '../../block/device.js';
import { GuestkitError } from '../../errors.js';
import { canVerify, csumMatches, csumSize, csumTypeName } from './csum.js';
import { parseDevItem, type DevItem } from './dev-item.js';

export const BTRFS_MAGIC = '_BHRfS_M';
export const BTRFS_SUPER_INFO_SIZE = 4096;
export const BTRFS_SUPER_MIRROR_MAX = 3;
export const BTRFS_SYSTEM_CHUNK_ARRAY_SIZE = 2048;
/** Levels 0..7 (BTRFS_MAX_LEVEL = 8). */
export const BTRFS_MAX_LEVEL = 8;
export const BTRFS_LABEL_SIZE = 256;

/** btrfs_sb_offset(): 64 KiB, then 16 KiB << 12 (64 MiB) and 16 KiB << 24 (256 GiB). */
export function superblockOffset(mirror: number): number {
  return mirror === 0 ? 64 * 1024 : 16 * 1024 * 2 ** (12 * mirror);
}

// incompat_flags (btrfs_tree.h BTRFS_FEATURE_INCOMPAT_*).
export const INCOMPAT = {
  MIXED_BACKREF: 1 << 0,
  DEFAULT_SUBVOL: 1 << 1,
  MIXED_GROUPS: 1 << 2,
  COMPRESS_LZO: 1 << 3,
  COMPRESS_ZSTD: 1 << 4,
  BIG_METADATA: 1 << 5,
  EXTENDED_IREF: 1 << 6,
  RAID56: 1 << 7,
  SKINNY_METADATA: 1 << 8,
  NO_HOLES: 1 << 9,
  METADATA_UUID: 1 << 10,
  RAID1C34: 1 << 11,
  ZONED: 1 << 12,
  EXTENT_TREE_V2: 1 << 13,
  RAID_STRIPE_TREE: 1 << 14,
  SIMPLE_QUOTA: 1 << 16,
} as const;
/** Incompat features this reader understands (or that do not change what it reads). */
export const INCOMPAT_SUPPORTED =
  INCOMPAT.MIXED_BACKREF | INCOMPAT.DEFAULT_SUBVOL | INCOMPAT.MIXED_GROUPS | INCOMPAT.COMPRESS_LZO |
  INCOMPAT.COMPRESS_ZSTD | INCOMPAT.BIG_METADATA | INCOMPAT.EXTENDED_IREF | INCOMPAT.RAID56 |
  INCOMPAT.SKINNY_METADATA | INCOMPAT.NO_HOLES | INCOMPAT.METADATA_UUID | INCOMPAT.RAID1C34 |
  INCOMPAT.ZONED | INCOMPAT.SIMPLE_QUOTA;

export const COMPAT_RO = {
  FREE_SPACE_TREE: 1 << 0,
  FREE_SPACE_TREE_VALID: 1 << 1,
  VERITY: 1 << 2,
  BLOCK_GROUP_TREE: 1 << 3,
} as const;

/** Superblock flags (btrfs_tree.h BTRFS_SUPER_FLAG_*), as the high word of `flags`. */
export const BTRFS_SUPER_FLAG_ERROR = 1 << 2;
export const BTRFS_SUPER_FLAG_SEEDING_HI = 1 << 0; // 1ULL << 32
export const BTRFS_SUPER_FLAG_METADUMP_HI = 1 << 1; // 1ULL << 33
export const BTRFS_SUPER_FLAG_METADUMP_V2_HI = 1 << 2; // 1ULL << 34

export interface Superblock {
  /** Byte offset of this copy on the device. */
  bytenr: number;
  fsid: string;
  /** fsid written in tree block headers: metadata_uuid with METADATA_UUID, else fsid. */
  metadataFsid: string;
  /** The same as 16 raw bytes, for comparison with tree block headers. */
  metadataFsidRaw: Uint8Array;
  flagsLo: number;
  flagsHi: number;
  generation: number;
  root: number;
  chunkRoot: number;
  logRoot: number;
  totalBytes: number;
  bytesUsed: number;
  rootDirObjectid: number;
  numDevices: number;
  sectorSize: number;
  nodeSize: number;
  stripeSize: number;
  sysChunkArray: Bytes;
  chunkRootGeneration: number;
  compatFlags: bigint;
  compatRoFlags: number;
  /** Low 32 bits of incompat_flags (every defined feature is there). */
  incompatFlags: number;
  /** High 32 bits of incompat_flags (no feature defined: must be 0). */
  incompatFlagsHigh: number;
  csumType: number;
  rootLevel: number;
  chunkRootLevel: number;
  logRootLevel: number;
  devItem: DevItem;
  label: string;
  /** Checksum not verified (a type this reader cannot compute). */
  csumSkipped: boolean;
}

const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** Parse and check one superblock copy read from `bytenr`; throws CORRUPT naming it. */
export function parseSuperblock(buf: Uint8Array, bytenr: number, what: string): Superblock {
  const b = new Bytes(buf, what);
  const bad = (detail: string) => new GuestkitError('CORRUPT', `${what}: ${detail}`);
  if (b.cstring(0x40, 8, 'latin1') !== BTRFS_MAGIC) throw bad('bad magic (not a btrfs superblock)');
  const csumType = b.u16le(0xc4);
  csumSize(csumType); // throws UNSUPPORTED for an unknown type
  const csumSkipped = !canVerify(csumType);
  if (!csumSkipped && !csumMatches(csumType, b.raw(0, BTRFS_SUPER_INFO_SIZE))) {
    throw bad(`${csumTypeName(csumType)} checksum mismatch`);
  }
  const own = b.u64le(0x30);
  if (own !== bytenr) throw bad(`records its own offset as ${own}, not ${bytenr}`);
  const incompat = Number(b.u64leBig(0xbc) & 0xffffffffn);
  const incompatHi = Number(b.u64leBig(0xbc) >> 32n);
  const sectorSize = b.u32le(0x90);
  const nodeSize = b.u32le(0x94);
  if (!isPow2(sectorSize) || sectorSize < 4096 || sectorSize > 65536) throw bad(`invalid sectorsize ${sectorSize}`);
  if (!isPow2(nodeSize) || nodeSize < sectorSize || nodeSize > 65536) throw bad(`invalid nodesize ${nodeSize}`);
  const sysSize = b.u32le(0xa0);
  if (sysSize > BTRFS_SYSTEM_CHUNK_ARRAY_SIZE) throw bad(`sys_chunk_array_size ${sysSize} exceeds ${BTRFS_SYSTEM_CHUNK_ARRAY_SIZE}`);
  const rootLevel = b.u8(0xc6);
  const chunkRootLevel = b.u8(0xc7);
  const logRootLevel = b.u8(0xc8);
  if (rootLevel >= BTRFS_MAX_LEVEL) throw bad(`root_level ${rootLevel} is not below ${BTRFS_MAX_LEVEL}`);
  if (chunkRootLevel >= BTRFS_MAX_LEVEL) throw bad(`chunk_root_level ${chunkRootLevel} is not below ${BTRFS_MAX_LEVEL}`);
  const root = b.u64le(0x50);
  const chunkRoot = b.u64le(0x58);
  if (root % sectorSize || chunkRoot % sectorSize) throw bad(`root (${root}) or chunk_root (${chunkRoot}) is not sector-aligned`);
  const numDevices = b.u64le(0x88);
  if (numDevices < 1) throw bad('num_devices is 0');
  const fsidRaw = b.raw(0x20, 16);
  const metaRaw = incompat & INCOMPAT.METADATA_UUID ? b.raw(0x23b, 16) : fsidRaw;
  const labelBytes = b.raw(0x12b, BTRFS_LABEL_SIZE);
  const nul = labelBytes.indexOf(0);
  return {
    bytenr,
    fsid: formatUuid(fsidRaw),
    metadataFsid: formatUuid(metaRaw),
    metadataFsidRaw: new Uint8Array(metaRaw),
    flagsLo: b.u32le(0x38),
    flagsHi: b.u32le(0x3c),
    generation: b.u64le(0x48),
    root,
    chunkRoot,
    logRoot: b.u64le(0x60),
    totalBytes: b.u64le(0x70),
    bytesUsed: b.u64le(0x78),
    rootDirObjectid: b.u64le(0x80),
    numDevices,
    sectorSize,
    nodeSize,
    stripeSize: b.u32le(0x9c),
    sysChunkArray: b.slice(0x32b, sysSize, `${what} sys_chunk_array`),
    chunkRootGeneration: b.u64le(0xa4),
    compatFlags: b.u64leBig(0xac),
    compatRoFlags: Number(b.u64leBig(0xb4) & 0xffffffffn),
    incompatFlags: incompat >>> 0,
    incompatFlagsHigh: incompatHi >>> 0,
    csumType,
    rootLevel,
    chunkRootLevel,
    logRootLevel,
    devItem: parseDevItem(b, 0xc9),
    label: Buffer.from(labelBytes.subarray(0, nul < 0 ? BTRFS_LABEL_SIZE : nul)).toString('utf8'),
    csumSkipped,
  };
}

/** Whether a device holds a btrfs superblock magic at 64 KiB (no other check). */
export function hasBtrfsMagic(dev: BlockDevice): boolean {
  if (dev.size < superblockOffset(0) + BTRFS_SUPER_INFO_SIZE) return false;
  const b = new Uint8Array(8);
  return dev.pread(b, superblockOffset(0) + 0x40) === 8 && Buffer.from(b).toString('latin1') === BTRFS_MAGIC;
}

/**
 * The superblock of `dev`: the primary copy when valid, else the best valid mirror (with a
 * note through `note`). Throws the primary's error when no copy is valid.
 */
export function readSuperblock(dev: BlockDevice, note: (m: string) => void): Superblock {
  let primaryError: GuestkitError | null = null;
  const mirrors: Superblock[] = [];
  for (let i = 0; i < BTRFS_SUPER_MIRROR_MAX; i++) {
    const off = superblockOffset(i);
    if (off + BTRFS_SUPER_INFO_SIZE > dev.size) {
      if (i === 0) {
        throw new GuestkitError('CORRUPT', `btrfs superblock of ${dev.description}: the device (${dev.size} bytes) is too small to hold one`);
      }
      break;
    }
    const what = i === 0 ? `btrfs superblock of ${dev.description}` : `btrfs superblock mirror ${i} (at ${off}) of ${dev.description}`;
    try {
      const sb = parseSuperblock(readExact(dev, off, BTRFS_SUPER_INFO_SIZE, what), off, what);
      if (i === 0) return sb;
      mirrors.push(sb);
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      if (i === 0) primaryError = e;
    }
  }
  if (!mirrors.length) throw primaryError!;
  mirrors.sort((a, b) => b.generation - a.generation);
  const best = mirrors[0];
  note(`${primaryError!.message}; using the superblock mirror at ${best.bytenr} (generation ${best.generation})`);
  return best;
}

// ext2/3/4 superblock: "The Super Block" in the kernel's ext4 disk-layout documentation
// (Documentation/filesystems/ext4/super.rst), struct ext4_super_block. 1024 bytes at byte
// offset 1024 of the volume; little-endian.

import { Bytes, formatUuid } from '../../bytes.js';
import { GuestkitError, corrupt } from '../../errors.js';
import { crc32cRaw } from '../../util/crc32c.js';

export const SUPERBLOCK_OFFSET = 1024;
export const SUPERBLOCK_SIZE = 1024;
export const EXT4_SUPER_MAGIC = 0xef53;

// s_feature_compat
export const COMPAT_DIR_PREALLOC = 0x1;
export const COMPAT_IMAGIC_INODES = 0x2;
export const COMPAT_HAS_JOURNAL = 0x4;
export const COMPAT_EXT_ATTR = 0x8;
export const COMPAT_RESIZE_INODE = 0x10;
export const COMPAT_DIR_INDEX = 0x20;
export const COMPAT_SPARSE_SUPER2 = 0x200;
export const COMPAT_FAST_COMMIT = 0x400;
export const COMPAT_ORPHAN_FILE = 0x1000;

// s_feature_incompat
export const INCOMPAT_COMPRESSION = 0x1;
export const INCOMPAT_FILETYPE = 0x2;
export const INCOMPAT_RECOVER = 0x4;
export const INCOMPAT_JOURNAL_DEV = 0x8;
export const INCOMPAT_META_BG = 0x10;
export const INCOMPAT_EXTENTS = 0x40;
export const INCOMPAT_64BIT = 0x80;
export const INCOMPAT_MMP = 0x100;
export const INCOMPAT_FLEX_BG = 0x200;
export const INCOMPAT_EA_INODE = 0x400;
export const INCOMPAT_DIRDATA = 0x1000;
export const INCOMPAT_CSUM_SEED = 0x2000;
export const INCOMPAT_LARGEDIR = 0x4000;
export const INCOMPAT_INLINE_DATA = 0x8000;
export const INCOMPAT_ENCRYPT = 0x10000;
export const INCOMPAT_CASEFOLD = 0x20000;

// s_feature_ro_compat
export const RO_COMPAT_SPARSE_SUPER = 0x1;
export const RO_COMPAT_LARGE_FILE = 0x2;
export const RO_COMPAT_BTREE_DIR = 0x4;
export const RO_COMPAT_HUGE_FILE = 0x8;
export const RO_COMPAT_GDT_CSUM = 0x10;
export const RO_COMPAT_DIR_NLINK = 0x20;
export const RO_COMPAT_EXTRA_ISIZE = 0x40;
export const RO_COMPAT_QUOTA = 0x100;
export const RO_COMPAT_BIGALLOC = 0x200;
export const RO_COMPAT_METADATA_CSUM = 0x400;
export const RO_COMPAT_VERITY = 0x8000;

/** Incompatible features a reader can honour. Anything else is refused by name. */
const INCOMPAT_SUPPORTED =
  INCOMPAT_FILETYPE |
  INCOMPAT_RECOVER |
  INCOMPAT_META_BG |
  INCOMPAT_EXTENTS |
  INCOMPAT_64BIT |
  INCOMPAT_MMP |
  INCOMPAT_FLEX_BG |
  INCOMPAT_EA_INODE |
  INCOMPAT_CSUM_SEED |
  INCOMPAT_LARGEDIR |
  INCOMPAT_INLINE_DATA |
  INCOMPAT_ENCRYPT |
  INCOMPAT_CASEFOLD;

/** Names (as e2fsprogs spells them) of the incompatible features we refuse. */
const INCOMPAT_NAMES: Record<number, string> = {
  [INCOMPAT_COMPRESSION]: 'compression',
  [INCOMPAT_JOURNAL_DEV]: 'journal_dev',
  [INCOMPAT_DIRDATA]: 'dirdata',
};

// ext3 (blkid's EXT3_FEATURE_*_SUPP): anything beyond these makes the filesystem "ext4".
const EXT3_INCOMPAT = INCOMPAT_FILETYPE | INCOMPAT_RECOVER | INCOMPAT_META_BG;
const EXT3_RO_COMPAT = RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_BTREE_DIR;

// s_flags
export const FLAGS_SIGNED_HASH = 0x1;
export const FLAGS_UNSIGNED_HASH = 0x2;

/** Largest block size ext4 defines (s_log_block_size <= 6). */
const MAX_LOG_BLOCK_SIZE = 6;

export interface Superblock {
  s_inodes_count: number;
  s_blocks_count: number;
  s_r_blocks_count: number;
  s_free_blocks_count: number;
  s_free_inodes_count: number;
  s_first_data_block: number;
  s_log_block_size: number;
  s_log_cluster_size: number;
  s_blocks_per_group: number;
  s_clusters_per_group: number;
  s_inodes_per_group: number;
  s_magic: number;
  s_state: number;
  s_creator_os: number;
  s_rev_level: number;
  s_first_ino: number;
  s_inode_size: number;
  s_feature_compat: number;
  s_feature_incompat: number;
  s_feature_ro_compat: number;
  s_uuid: Uint8Array;
  s_volume_name: string;
  s_reserved_gdt_blocks: number;
  s_journal_uuid: Uint8Array;
  s_journal_inum: number;
  s_journal_dev: number;
  s_hash_seed: [number, number, number, number];
  s_def_hash_version: number;
  s_desc_size: number;
  s_first_meta_bg: number;
  s_min_extra_isize: number;
  s_flags: number;
  s_log_groups_per_flex: number;
  s_overhead_clusters: number;
  s_backup_bgs: [number, number];
  s_checksum_seed: number;
  s_encoding: number;
  s_checksum: number;

  // Derived values.
  blockSize: number;
  /** log2(blockSize). */
  blockBits: number;
  /** Cluster size in bytes (bigalloc), else the block size. */
  clusterSize: number;
  /** log2(blocks per cluster). */
  clusterBits: number;
  /** Group descriptor size: 32, or s_desc_size with the 64bit feature. */
  descSize: number;
  descPerBlock: number;
  groupCount: number;
  /** Seed of every metadata_csum checksum. */
  csumSeed: number;
  /** Superblock checksum matches (always true without metadata_csum). */
  checksumOk: boolean;
  /** blkid's name: ext2, ext3 or ext4. */
  fsType: 'ext2' | 'ext3' | 'ext4';
}

export function hasCompat(sb: Superblock, f: number): boolean {
  return (sb.s_feature_compat & f) !== 0;
}
export function hasIncompat(sb: Superblock, f: number): boolean {
  return (sb.s_feature_incompat & f) !== 0;
}
export function hasRoCompat(sb: Superblock, f: number): boolean {
  return (sb.s_feature_ro_compat & f) !== 0;
}

/** Parse and validate the 1024-byte superblock. `where` names the device for messages. */
export function parseSuperblock(buf: Uint8Array, where: string): Superblock {
  const what = `ext superblock of ${where}`;
  const b = new Bytes(buf, what);
  if (b.length < SUPERBLOCK_SIZE) throw corrupt(what, `only ${b.length} bytes`);
  const s_magic = b.u16le(0x38);
  if (s_magic !== EXT4_SUPER_MAGIC) {
    throw new GuestkitError('UNKNOWN_FORMAT', `${where}: no ext2/3/4 superblock (magic 0x${s_magic.toString(16)})`);
  }
  const incompat = b.u32le(0x60);
  const roCompat = b.u32le(0x64);
  const is64 = (incompat & INCOMPAT_64BIT) !== 0;
  const rev = b.u32le(0x4c);
  const s_log_block_size = b.u32le(0x18);
  if (s_log_block_size > MAX_LOG_BLOCK_SIZE) {
    throw corrupt(what, `s_log_block_size ${s_log_block_size} is out of range (block size above 64 KiB)`);
  }
  const blockSize = 1024 << s_log_block_size;
  const bigalloc = (roCompat & RO_COMPAT_BIGALLOC) !== 0;
  const s_log_cluster_size = b.u32le(0x1c);
  if (bigalloc && (s_log_cluster_size < s_log_block_size || s_log_cluster_size > s_log_block_size + 16)) {
    throw corrupt(what, `s_log_cluster_size ${s_log_cluster_size} is out of range for block size ${blockSize}`);
  }
  const clusterSize = bigalloc ? 1024 << s_log_cluster_size : blockSize;
  const hi = (off: number) => (is64 ? b.u32le(off) * 2 ** 32 : 0);

  const sb: Superblock = {
    s_inodes_count: b.u32le(0x0),
    s_blocks_count: b.u32le(0x4) + hi(0x150),
    s_r_blocks_count: b.u32le(0x8) + hi(0x154),
    s_free_blocks_count: b.u32le(0xc) + hi(0x158),
    s_free_inodes_count: b.u32le(0x10),
    s_first_data_block: b.u32le(0x14),
    s_log_block_size,
    s_log_cluster_size,
    s_blocks_per_group: b.u32le(0x20),
    s_clusters_per_group: b.u32le(0x24),
    s_inodes_per_group: b.u32le(0x28),
    s_magic,
    s_state: b.u16le(0x3a),
    s_creator_os: b.u32le(0x48),
    s_rev_level: rev,
    s_first_ino: rev === 0 ? 11 : b.u32le(0x54),
    s_inode_size: rev === 0 ? 128 : b.u16le(0x58),
    // Feature words are honoured even on a revision-0 filesystem, as the kernel does.
    s_feature_compat: b.u32le(0x5c),
    s_feature_incompat: incompat,
    s_feature_ro_compat: roCompat,
    s_uuid: b.raw(0x68, 16).slice(),
    s_volume_name: b.cstring(0x78, 16),
    s_reserved_gdt_blocks: b.u16le(0xce),
    s_journal_uuid: b.raw(0xd0, 16).slice(),
    s_journal_inum: b.u32le(0xe0),
    s_journal_dev: b.u32le(0xe4),
    s_hash_seed: [b.u32le(0xec), b.u32le(0xf0), b.u32le(0xf4), b.u32le(0xf8)],
    s_def_hash_version: b.u8(0xfc),
    s_desc_size: b.u16le(0xfe),
    s_first_meta_bg: b.u32le(0x104),
    s_min_extra_isize: b.u16le(0x15c),
    s_flags: b.u32le(0x160),
    s_log_groups_per_flex: b.u8(0x174),
    s_overhead_clusters: b.u32le(0x248),
    s_backup_bgs: [b.u32le(0x24c), b.u32le(0x250)],
    s_checksum_seed: b.u32le(0x270),
    s_encoding: b.u16le(0x27c),
    s_checksum: b.u32le(0x3fc),
    blockSize,
    blockBits: 10 + s_log_block_size,
    clusterSize,
    clusterBits: Math.log2(clusterSize / blockSize),
    descSize: 32,
    descPerBlock: 0,
    groupCount: 0,
    csumSeed: 0,
    checksumOk: true,
    fsType: 'ext2',
  };

  // Refuse what we cannot read, naming the feature (kernel: ext4_feature_set_ok).
  const unknown = sb.s_feature_incompat & ~INCOMPAT_SUPPORTED;
  if (unknown) {
    const names: string[] = [];
    for (let bit = 0; bit < 32; bit++) {
      const f = (1 << bit) >>> 0;
      if (unknown & f) names.push(INCOMPAT_NAMES[f] ?? `incompat_0x${f.toString(16)}`);
    }
    if (sb.s_feature_incompat & INCOMPAT_JOURNAL_DEV) {
      throw new GuestkitError('UNSUPPORTED', `${where}: this is an ext3/4 external journal device, not a filesystem`);
    }
    throw new GuestkitError('UNSUPPORTED', `${where}: ext filesystem uses unsupported feature(s): ${names.join(', ')}`);
  }

  if (sb.s_inode_size < 128 || sb.s_inode_size > blockSize || (sb.s_inode_size & (sb.s_inode_size - 1)) !== 0) {
    throw corrupt(what, `s_inode_size ${sb.s_inode_size} is invalid`);
  }
  if (is64) {
    if (sb.s_desc_size < 64 || sb.s_desc_size > 1024 || (sb.s_desc_size & (sb.s_desc_size - 1)) !== 0) {
      throw corrupt(what, `s_desc_size ${sb.s_desc_size} is invalid for a 64bit filesystem`);
    }
    sb.descSize = sb.s_desc_size;
  }
  sb.descPerBlock = blockSize / sb.descSize;
  const ratio = clusterSize / blockSize;
  if (sb.s_blocks_per_group === 0 || sb.s_blocks_per_group > 8 * blockSize * ratio) {
    throw corrupt(what, `s_blocks_per_group ${sb.s_blocks_per_group} is invalid`);
  }
  if (bigalloc && sb.s_clusters_per_group * ratio !== sb.s_blocks_per_group) {
    throw corrupt(what, `s_clusters_per_group ${sb.s_clusters_per_group} does not match s_blocks_per_group`);
  }
  if (sb.s_inodes_per_group === 0 || sb.s_inodes_per_group > 8 * blockSize) {
    throw corrupt(what, `s_inodes_per_group ${sb.s_inodes_per_group} is invalid`);
  }
  if (sb.s_first_data_block >= sb.s_blocks_count || sb.s_blocks_count === 0) {
    throw corrupt(what, `s_first_data_block ${sb.s_first_data_block} / s_blocks_count ${sb.s_blocks_count} are invalid`);
  }
  sb.groupCount = Math.ceil((sb.s_blocks_count - sb.s_first_data_block) / sb.s_blocks_per_group);
  if (sb.s_inodes_count > sb.groupCount * sb.s_inodes_per_group) {
    throw corrupt(what, `s_inodes_count ${sb.s_inodes_count} exceeds ${sb.groupCount} groups of ${sb.s_inodes_per_group} inodes`);
  }
  if (sb.s_first_ino < 11 && rev !== 0) throw corrupt(what, `s_first_ino ${sb.s_first_ino} is invalid`);

  if (hasRoCompat(sb, RO_COMPAT_METADATA_CSUM)) {
    sb.csumSeed = hasIncompat(sb, INCOMPAT_CSUM_SEED) ? sb.s_checksum_seed : crc32cRaw(0xffffffff, sb.s_uuid);
    sb.checksumOk = crc32cRaw(0xffffffff, buf, 0, 0x3fc) === sb.s_checksum;
  }

  if ((sb.s_feature_incompat & ~EXT3_INCOMPAT) !== 0 || (sb.s_feature_ro_compat & ~EXT3_RO_COMPAT) !== 0) sb.fsType = 'ext4';
  else if (hasCompat(sb, COMPAT_HAS_JOURNAL)) sb.fsType = 'ext3';
  return sb;
}

export function fsUuid(sb: Superblock): string {
  return formatUuid(sb.s_uuid);
}

/** Does block group `g` hold a superblock backup? (kernel: ext4_bg_has_super) */
export function groupHasSuper(sb: Superblock, g: number): boolean {
  if (g === 0) return true;
  if (hasCompat(sb, COMPAT_SPARSE_SUPER2)) return g === sb.s_backup_bgs[0] || g === sb.s_backup_bgs[1];
  if (g <= 1 || !hasRoCompat(sb, RO_COMPAT_SPARSE_SUPER)) return true;
  if ((g & 1) === 0) return false;
  return isPowerOf(g, 3) || isPowerOf(g, 5) || isPowerOf(g, 7);
}

function isPowerOf(n: number, base: number): boolean {
  let x = base;
  while (x < n) x *= base;
  return x === n;
}

/** First block of group `g`. */
export function groupFirstBlock(sb: Superblock, g: number): number {
  return g * sb.s_blocks_per_group + sb.s_first_data_block;
}

/** Blocks of group-descriptor table in group `g` (kernel: ext4_bg_num_gdb). */
export function groupDescBlocks(sb: Superblock, g: number): number {
  const gdbCount = Math.ceil(sb.groupCount / sb.descPerBlock);
  const metagroup = Math.floor(g / sb.descPerBlock);
  if (!hasIncompat(sb, INCOMPAT_META_BG) || metagroup < sb.s_first_meta_bg) {
    if (!groupHasSuper(sb, g)) return 0;
    return hasIncompat(sb, INCOMPAT_META_BG) ? sb.s_first_meta_bg : gdbCount;
  }
  const first = metagroup * sb.descPerBlock;
  return g === first || g === first + 1 || g === first + sb.descPerBlock - 1 ? 1 : 0;
}

/** Inode-table blocks per group. */
export function inodeTableBlocks(sb: Superblock): number {
  return Math.ceil((sb.s_inodes_per_group * sb.s_inode_size) / sb.blockSize);
}

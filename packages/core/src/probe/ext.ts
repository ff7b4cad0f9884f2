// ext2/ext3/ext4 superblock (kernel Documentation/filesystems/ext4/super.rst), told apart by
// feature flags and the journal exactly as libblkid's superblocks/ext.c does, and the size
// that ext4_statfs() reports (fs/ext4/super.c: blocks count minus ext4_calculate_overhead()).

import type { ProbeContext } from './context.js';
import { labelFromBytes, uuidOrNone } from './context.js';
import type { ProbeResult } from './types.js';
import type { Bytes } from '../bytes.js';

const SB_OFFSET = 1024;
const SB_SIZE = 1024;
const EXT4_SUPER_MAGIC = 0xef53;

// s_feature_compat
const COMPAT_HAS_JOURNAL = 0x0004;
const COMPAT_SPARSE_SUPER2 = 0x0200;
// s_feature_ro_compat
const RO_COMPAT_SPARSE_SUPER = 0x0001;
const RO_COMPAT_LARGE_FILE = 0x0002;
const RO_COMPAT_BTREE_DIR = 0x0004;
const RO_COMPAT_BIGALLOC = 0x0200;
// s_feature_incompat
const INCOMPAT_FILETYPE = 0x0002;
const INCOMPAT_RECOVER = 0x0004;
const INCOMPAT_JOURNAL_DEV = 0x0008;
const INCOMPAT_META_BG = 0x0010;
const INCOMPAT_64BIT = 0x0080;
// s_flags
const FLAGS_TEST_FILESYS = 0x0004;

const EXT2_RO_COMPAT_SUPP = RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_BTREE_DIR;
const EXT2_INCOMPAT_SUPP = INCOMPAT_FILETYPE | INCOMPAT_META_BG;
const EXT3_RO_COMPAT_SUPP = EXT2_RO_COMPAT_SUPP;
const EXT3_INCOMPAT_SUPP = INCOMPAT_FILETYPE | INCOMPAT_RECOVER | INCOMPAT_META_BG;

/** The superblock fields the probe and the statfs size need. */
export interface ExtSuperblock {
  s_blocks_count: number;
  s_first_data_block: number;
  s_log_block_size: number;
  s_log_cluster_size: number;
  s_blocks_per_group: number;
  s_inodes_per_group: number;
  s_rev_level: number;
  s_minor_rev_level: number;
  s_inode_size: number;
  s_feature_compat: number;
  s_feature_incompat: number;
  s_feature_ro_compat: number;
  s_uuid: Uint8Array;
  s_volume_name: Uint8Array;
  s_reserved_gdt_blocks: number;
  s_journal_inum: number;
  s_jnl_blocks: number[];
  s_jnl_backup_type: number;
  s_desc_size: number;
  s_first_meta_bg: number;
  s_flags: number;
  s_overhead_clusters: number;
  s_backup_bgs: [number, number];
}

export function parseExtSuperblock(b: Bytes): ExtSuperblock {
  const jnl: number[] = [];
  for (let i = 0; i < 17; i++) jnl.push(b.u32le(0x10c + 4 * i));
  return {
    s_blocks_count: b.u32le(0x4) + (b.u32le(0x60) & INCOMPAT_64BIT ? b.u32le(0x150) * 2 ** 32 : 0),
    s_first_data_block: b.u32le(0x14),
    s_log_block_size: b.u32le(0x18),
    s_log_cluster_size: b.u32le(0x1c),
    s_blocks_per_group: b.u32le(0x20),
    s_inodes_per_group: b.u32le(0x28),
    s_rev_level: b.u32le(0x4c),
    s_minor_rev_level: b.u16le(0x3e),
    s_inode_size: b.u16le(0x58),
    s_feature_compat: b.u32le(0x5c),
    s_feature_incompat: b.u32le(0x60),
    s_feature_ro_compat: b.u32le(0x64),
    s_uuid: b.raw(0x68, 16),
    s_volume_name: b.raw(0x78, 16),
    s_reserved_gdt_blocks: b.u16le(0xce),
    s_journal_inum: b.u32le(0xe0),
    s_jnl_blocks: jnl,
    s_jnl_backup_type: b.u8(0xfd),
    s_desc_size: b.u16le(0xfe),
    s_first_meta_bg: b.u32le(0x104),
    s_flags: b.u32le(0x160),
    s_overhead_clusters: b.u32le(0x248),
    s_backup_bgs: [b.u32le(0x24c), b.u32le(0x250)],
  };
}

/** blkid's choice among jbd, ext2, ext3, ext4, ext4dev; null when none applies. */
export function extType(sb: ExtSuperblock): string | null {
  const fc = sb.s_feature_compat;
  const fi = sb.s_feature_incompat;
  const frc = sb.s_feature_ro_compat;
  const hasJournal = (fc & COMPAT_HAS_JOURNAL) !== 0;
  const test = (sb.s_flags & FLAGS_TEST_FILESYS) !== 0;
  if (fi & INCOMPAT_JOURNAL_DEV) return 'jbd';
  if (test) return 'ext4dev';
  const ext3Unsupported = (frc & ~EXT3_RO_COMPAT_SUPP) !== 0 || (fi & ~EXT3_INCOMPAT_SUPP) !== 0;
  if (ext3Unsupported) return 'ext4';
  if (hasJournal) return 'ext3';
  const ext2Unsupported = (frc & ~EXT2_RO_COMPAT_SUPP) !== 0 || (fi & ~EXT2_INCOMPAT_SUPP) !== 0;
  if (!ext2Unsupported) return 'ext2';
  return null;
}

export function probeExt(ctx: ProbeContext): ProbeResult | null {
  const b = ctx.read(SB_OFFSET, SB_SIZE, 'ext superblock');
  if (!b || b.u16le(0x38) !== EXT4_SUPER_MAGIC) return null;
  const sb = parseExtSuperblock(b);
  const type = extType(sb);
  if (!type) return null;
  const r: ProbeResult = { type, usage: type === 'jbd' ? 'other' : 'filesystem' };
  const uuid = uuidOrNone(sb.s_uuid);
  if (uuid) r.uuid = uuid;
  if (sb.s_volume_name[0] !== 0) {
    const label = labelFromBytes(sb.s_volume_name);
    if (label !== undefined) r.label = label;
  }
  r.version = `${sb.s_rev_level}.${sb.s_minor_rev_level}`;
  if (type !== 'jbd') {
    const size = extStatfsSize(ctx, sb);
    if (size !== undefined) r.fsSize = size;
  }
  return r;
}

/**
 * Groups extStatfsSize sums the overhead of (4M: 512 TiB with 4 KiB blocks); past it the size
 * is left unknown (fuzz target lvm found the hang: a hostile block count made the loop endless).
 */
export const MAX_STATFS_GROUPS = 1 << 22;

/**
 * Bytes that statfs reports for a mounted ext2/3/4 (Linux 6.1 ext4_statfs, the driver Debian's
 * kernel also uses for ext2 and ext3): (blocks count − overhead) × block size, the overhead
 * counted by ext4_calculate_overhead(). Undefined when the superblock is not sane enough.
 */
export function extStatfsSize(ctx: ProbeContext, sb: ExtSuperblock): number | undefined {
  if (sb.s_log_block_size > 6) return undefined;
  const blockSize = 1024 << sb.s_log_block_size;
  const bpg = sb.s_blocks_per_group;
  if (bpg === 0 || sb.s_blocks_count <= sb.s_first_data_block) return undefined;
  const ngroups = Math.ceil((sb.s_blocks_count - sb.s_first_data_block) / bpg);
  // The overhead below is summed group by group: a hostile block count must not make that a hang.
  if (ngroups > MAX_STATFS_GROUPS) return undefined;
  const bigalloc = (sb.s_feature_ro_compat & RO_COMPAT_BIGALLOC) !== 0;
  let overhead: number;
  if (bigalloc) {
    // The kernel keeps the recorded value for bigalloc (else it walks every group's bitmaps).
    const ratioLog = sb.s_log_cluster_size - sb.s_log_block_size;
    if (ratioLog < 0 || ratioLog > 20) return undefined;
    if (sb.s_overhead_clusters === 0 || sb.s_overhead_clusters > sb.s_blocks_count) return undefined;
    overhead = sb.s_overhead_clusters * 2 ** ratioLog;
  } else {
    const inodeSize = sb.s_rev_level === 0 ? 128 : sb.s_inode_size;
    if (inodeSize < 128 || inodeSize > blockSize) return undefined;
    const itbPerGroup = Math.floor(sb.s_inodes_per_group / Math.floor(blockSize / inodeSize));
    const is64 = (sb.s_feature_incompat & INCOMPAT_64BIT) !== 0;
    const descSize = is64 ? sb.s_desc_size : 32;
    if (descSize < 32 || descSize > blockSize) return undefined;
    const descPerBlock = Math.floor(blockSize / descSize);
    const gdbCount = Math.ceil(ngroups / descPerBlock);
    overhead = sb.s_first_data_block;
    for (let g = 0; g < ngroups; g++) {
      const hasSuper = bgHasSuper(sb, g) ? 1 : 0;
      overhead += hasSuper + bgNumGdb(sb, g, hasSuper === 1, descPerBlock, gdbCount);
      overhead += (hasSuper ? sb.s_reserved_gdt_blocks : 0) + itbPerGroup + 2;
    }
    const journal = journalBlocks(ctx, sb, blockSize, descSize);
    if (journal === undefined) return undefined;
    overhead += journal;
  }
  if (overhead > sb.s_blocks_count) return undefined;
  return (sb.s_blocks_count - overhead) * blockSize;
}

/** ext4_bg_has_super(). */
function bgHasSuper(sb: ExtSuperblock, g: number): boolean {
  if (g === 0) return true;
  if (sb.s_feature_compat & COMPAT_SPARSE_SUPER2) return g === sb.s_backup_bgs[0] || g === sb.s_backup_bgs[1];
  if (g <= 1 || !(sb.s_feature_ro_compat & RO_COMPAT_SPARSE_SUPER)) return true;
  if (!(g & 1)) return false;
  return isPowerOf(g, 3) || isPowerOf(g, 5) || isPowerOf(g, 7);
}

function isPowerOf(n: number, base: number): boolean {
  let x = base;
  while (x < n) x *= base;
  return x === n;
}

/** ext4_bg_num_gdb(): group descriptor blocks kept in group `g`. */
function bgNumGdb(sb: ExtSuperblock, g: number, hasSuper: boolean, descPerBlock: number, gdbCount: number): number {
  const metaBg = (sb.s_feature_incompat & INCOMPAT_META_BG) !== 0;
  const metagroup = Math.floor(g / descPerBlock);
  if (!metaBg || metagroup < sb.s_first_meta_bg) {
    if (!hasSuper) return 0;
    return metaBg ? sb.s_first_meta_bg : gdbCount;
  }
  const first = metagroup * descPerBlock;
  return g === first || g === first + 1 || g === first + descPerBlock - 1 ? 1 : 0;
}

/**
 * Blocks of the internal journal (the journal inode's i_size / block size): from the copy of
 * the journal inode the superblock keeps (s_jnl_blocks, EXT3_JNL_BACKUP_BLOCKS), else from the
 * inode itself. 0 without an internal journal.
 */
function journalBlocks(ctx: ProbeContext, sb: ExtSuperblock, blockSize: number, descSize: number): number | undefined {
  if (!(sb.s_feature_compat & COMPAT_HAS_JOURNAL) || sb.s_journal_inum === 0) return 0;
  let iSize: number;
  if (sb.s_jnl_backup_type === 1) {
    iSize = sb.s_jnl_blocks[15] * 2 ** 32 + sb.s_jnl_blocks[16];
  } else {
    const ino = sb.s_journal_inum;
    if (sb.s_inodes_per_group === 0) return undefined;
    const group = Math.floor((ino - 1) / sb.s_inodes_per_group);
    const index = (ino - 1) % sb.s_inodes_per_group;
    const inodeSize = sb.s_rev_level === 0 ? 128 : sb.s_inode_size;
    const gdtStart = (sb.s_first_data_block + 1) * blockSize;
    const gd = ctx.read(gdtStart + group * descSize, descSize, `ext group descriptor ${group}`);
    if (!gd) return undefined;
    const table = gd.u32le(0x8) + (descSize >= 64 ? gd.u32le(0x28) * 2 ** 32 : 0);
    const inode = ctx.read(table * blockSize + index * inodeSize, 128, `ext journal inode ${ino}`);
    if (!inode) return undefined;
    iSize = inode.u32le(0x4) + inode.u32le(0x6c) * 2 ** 32;
  }
  return Math.floor(iSize / blockSize);
}

// statfs(2) for ext2/3/4 as Linux computes it (fs/ext4/super.c: ext4_statfs,
// ext4_calculate_overhead, count_overhead, ext4_calculate_resv_clusters), so that the
// numbers equal what virt-df reports from the libguestfs appliance's kernel.

import type { StatFs } from '../vfs.js';
import type { GroupDesc } from './group-desc.js';
import {
  COMPAT_SPARSE_SUPER2,
  INCOMPAT_EXTENTS,
  INCOMPAT_META_BG,
  RO_COMPAT_BIGALLOC,
  RO_COMPAT_SPARSE_SUPER,
  groupDescBlocks,
  groupFirstBlock,
  groupHasSuper,
  hasCompat,
  hasIncompat,
  hasRoCompat,
  inodeTableBlocks,
  type Superblock,
} from './superblock.js';
import { EXT4_NAME_LEN } from './dir.js';
import { GuestkitError } from '../../errors.js';

/**
 * With bigalloc and no recorded s_overhead_clusters, the overhead is counted group by group over
 * every group (quadratic, as the kernel's count_overhead): past this many groups statfs refuses
 * (LIMIT) instead of running for minutes (fuzz target ext found the hang).
 */
export const MAX_BIGALLOC_OVERHEAD_GROUPS = 4096;
/**
 * Groups statfs walks at all (4M: 512 TiB with 4 KiB blocks); a hostile 64-bit block count gave
 * 2^49 groups (fuzz target ext: a hang). Past it statfs refuses with LIMIT.
 */
export const MAX_STATFS_GROUPS = 1 << 22;

/**
 * Groups in [0, n) that hold a superblock (groupHasSuper), counted without visiting each: group
 * 0, then the sparse_super2 backups, or with sparse_super groups 1 and the powers of 3, 5 and 7,
 * or else every group.
 */
export function groupsWithSuper(sb: Superblock, n: number): number {
  if (n <= 0) return 0;
  if (hasCompat(sb, COMPAT_SPARSE_SUPER2)) {
    return new Set([0, ...sb.s_backup_bgs.filter((g) => g < n)]).size;
  }
  if (!hasRoCompat(sb, RO_COMPAT_SPARSE_SUPER)) return n;
  let count = Math.min(n, 2);
  for (const base of [3, 5, 7]) for (let x = base; x < n; x *= base) count++;
  return count;
}

/**
 * Sum of groupDescBlocks over every group, in closed form: without meta_bg each group with a
 * superblock holds the whole table; with it, the groups of the first s_first_meta_bg
 * metagroups that have a superblock hold those blocks, and each later metagroup keeps one block
 * in its first, second and last group.
 */
function descBlocksTotal(sb: Superblock): number {
  const n = sb.groupCount;
  const dpb = sb.descPerBlock;
  if (!hasIncompat(sb, INCOMPAT_META_BG)) return groupsWithSuper(sb, n) * Math.ceil(n / dpb);
  const fmb = sb.s_first_meta_bg;
  let total = groupsWithSuper(sb, Math.min(n, fmb * dpb)) * fmb;
  // Offsets in a metagroup that hold a descriptor block (distinct even for tiny metagroups).
  const at = [...new Set([0, 1, dpb - 1])].filter((o) => o < dpb);
  const full = Math.floor(n / dpb);
  if (full > fmb) total += (full - fmb) * at.length;
  const rest = n - full * dpb;
  if (rest > 0 && full >= fmb) total += at.filter((o) => o < rest).length;
  return total;
}

/** Metadata clusters of group `grp` (count_overhead). */
export function countOverhead(sb: Superblock, grp: number, groups: (g: number) => GroupDesc): number {
  const itb = inodeTableBlocks(sb);
  const hasSuper = groupHasSuper(sb, grp) ? 1 : 0;
  if (!hasRoCompat(sb, RO_COMPAT_BIGALLOC)) {
    return hasSuper + groupDescBlocks(sb, grp) + (hasSuper ? sb.s_reserved_gdt_blocks : 0) + itb + 2;
  }
  // bigalloc: mark the clusters of this group used by any group's metadata.
  const ratio = 2 ** sb.clusterBits;
  const clustersPerGroup = sb.s_clusters_per_group;
  const used = new Uint8Array(clustersPerGroup);
  const firstBlock = groupFirstBlock(sb, grp);
  const lastBlock = firstBlock + sb.s_blocks_per_group - 1;
  let count = 0;
  const mark = (b: number) => {
    const c = Math.floor((b - firstBlock) / ratio);
    if (c >= 0 && c < clustersPerGroup) used[c] = 1;
  };
  for (let i = 0; i < sb.groupCount; i++) {
    const gd = groups(i);
    let b = gd.bg_block_bitmap;
    if (b >= firstBlock && b <= lastBlock) {
      mark(b);
      count++;
    }
    b = gd.bg_inode_bitmap;
    if (b >= firstBlock && b <= lastBlock) {
      mark(b);
      count++;
    }
    b = gd.bg_inode_table;
    if (b >= firstBlock && b + itb <= lastBlock) {
      for (let j = 0; j < itb; j++, b++) {
        mark(b);
        count++;
      }
    }
    if (i !== grp) continue;
    let s = 0;
    if (groupHasSuper(sb, grp)) {
      used[s++] = 1;
      count++;
    }
    let j = groupDescBlocks(sb, grp);
    if (s + j > sb.s_blocks_per_group) j = sb.s_blocks_per_group - s;
    count += j;
    for (; j > 0; j--) mark(firstBlock + s++);
  }
  if (!count) return 0;
  let free = 0;
  for (let c = 0; c < clustersPerGroup; c++) if (!used[c]) free++;
  return clustersPerGroup - free;
}

/** Overhead in clusters (ext4_calculate_overhead, or s_overhead_clusters with bigalloc). */
export function calculateOverhead(sb: Superblock, groups: (g: number) => GroupDesc, journalBlocks: number): number {
  const ratio = 2 ** sb.clusterBits;
  if (hasRoCompat(sb, RO_COMPAT_BIGALLOC) && sb.s_overhead_clusters > 0 && sb.s_overhead_clusters <= sb.s_blocks_count) {
    return sb.s_overhead_clusters;
  }
  if (hasRoCompat(sb, RO_COMPAT_BIGALLOC) && sb.groupCount > MAX_BIGALLOC_OVERHEAD_GROUPS) {
    throw new GuestkitError('LIMIT', `ext4 statfs: ${sb.groupCount} bigalloc block groups without s_overhead_clusters (counting their overhead is quadratic; limit ${MAX_BIGALLOC_OVERHEAD_GROUPS})`);
  }
  let overhead = Math.floor(sb.s_first_data_block / ratio);
  if (hasRoCompat(sb, RO_COMPAT_BIGALLOC)) {
    for (let g = 0; g < sb.groupCount; g++) overhead += countOverhead(sb, g, groups);
  } else {
    // Without bigalloc count_overhead is a sum of per-group terms (superblock, descriptor
    // blocks, reserved GDT blocks, bitmaps, inode table): summed in closed form, not over
    // millions of groups one by one (the sum of countOverhead over every group; tested).
    const withSuper = groupsWithSuper(sb, sb.groupCount);
    overhead += withSuper * (1 + sb.s_reserved_gdt_blocks) + descBlocksTotal(sb) + sb.groupCount * (inodeTableBlocks(sb) + 2);
  }
  overhead += Math.ceil(journalBlocks / ratio);
  return overhead;
}

export function extStatfs(sb: Superblock, groups: (g: number) => GroupDesc, journalBlocks: number): StatFs {
  if (sb.groupCount > MAX_STATFS_GROUPS) {
    throw new GuestkitError('LIMIT', `ext4 statfs: ${sb.groupCount} block groups (limit ${MAX_STATFS_GROUPS})`);
  }
  const ratio = 2 ** sb.clusterBits;
  const overhead = calculateOverhead(sb, groups, journalBlocks);
  let freeClusters = 0;
  let freeInodes = 0;
  for (let g = 0; g < sb.groupCount; g++) {
    const gd = groups(g);
    freeClusters += gd.bg_free_blocks_count;
    freeInodes += gd.bg_free_inodes_count;
  }
  // ext4_calculate_resv_clusters: 2% or 4096 clusters, whichever is smaller (extents only).
  let resvClusters = 0;
  if (hasIncompat(sb, INCOMPAT_EXTENTS)) {
    resvClusters = Math.min(Math.floor(Math.floor(sb.s_blocks_count / ratio) / 50), 4096);
  }
  const blocks = sb.s_blocks_count - overhead * ratio;
  const bfree = Math.max(freeClusters, 0) * ratio;
  const reserved = sb.s_r_blocks_count + resvClusters * ratio;
  const bavail = bfree < reserved ? 0 : bfree - reserved;
  return {
    bsize: sb.blockSize,
    frsize: sb.blockSize,
    blocks,
    bfree,
    bavail,
    files: sb.s_inodes_count,
    ffree: freeInodes,
    favail: freeInodes,
    namemax: EXT4_NAME_LEN,
  };
}

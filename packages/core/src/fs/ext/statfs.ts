// statfs(2) for ext2/3/4 as Linux computes it (fs/ext4/super.c: ext4_statfs,
// ext4_calculate_overhead, count_overhead, ext4_calculate_resv_clusters), so that the
// numbers equal what virt-df reports from the libguestfs appliance's kernel.

import type { StatFs } from '../vfs.js';
import type { GroupDesc } from './group-desc.js';
import {
  INCOMPAT_EXTENTS,
  RO_COMPAT_BIGALLOC,
  groupDescBlocks,
  groupFirstBlock,
  groupHasSuper,
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

/** Metadata clusters of group `grp` (count_overhead). */
function countOverhead(sb: Superblock, grp: number, groups: (g: number) => GroupDesc): number {
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
  for (let g = 0; g < sb.groupCount; g++) overhead += countOverhead(sb, g, groups);
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

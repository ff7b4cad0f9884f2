// statfs as Linux's xfs_fs_statfs reports it on a read-only mount (what libguestfs's
// statvfs/virt-df see): f_blocks = sb_dblocks minus an internal log; f_bfree = free blocks
// minus what the kernel keeps unavailable (m_alloc_set_aside = 8 per AG, plus the free-space
// btree blocks counted in m_allocbt_blks for the AGFs read at mount); f_files = allocated
// inodes plus the inodes the free space could hold, capped by imax_pct; f_ffree follows.
// Free counts come from the superblock unless the kernel would recompute them from the
// AGF/AGI headers: a lazy-counter filesystem with a dirty log, or counters that are
// impossible (xfs_check_summary_counts, xfs_initialize_perag_data). Read-only mounts take no
// reserve pool and no per-AG reservations (xfs_mountfs reserves only when writable).

import type { StatFs } from '../vfs.js';
import type { XfsAgf, XfsAgi } from './agheader.js';
import type { XfsSuperblock } from './superblock.js';

/** XFS_ALLOCBT_AGFL_RESERVE + 4: blocks per AG held back by xfs_alloc_set_aside. */
const SET_ASIDE_PER_AG = 8;
const XFS_INODES_PER_CHUNK = 64;
const XFS_MAXINUMBER = 2 ** 56 - 1;
/** MAXNAMELEN - 1. */
const XFS_NAMELEN = 255;

export interface XfsAgCounts {
  agf: XfsAgf;
  agi: XfsAgi;
}

/** Whether the kernel would recompute the summary counters from the AG headers. */
export function needsRecount(sb: XfsSuperblock, logClean: boolean): boolean {
  const maxInodes = sb.sb_dblocks * sb.sb_inopblock;
  return (
    (sb.hasLazySbCount && !logClean) ||
    sb.sb_fdblocks > sb.sb_dblocks ||
    sb.sb_icount < XFS_INODES_PER_CHUNK ||
    sb.sb_icount > maxInodes ||
    sb.sb_ifree > sb.sb_icount
  );
}

/** Whether the AGFs are read at mount (per-AG reservations probe them), so m_allocbt_blks counts them. */
export function agfsReadAtMount(sb: XfsSuperblock, recount: boolean): boolean {
  return recount || sb.hasFinobt || sb.hasReflink || sb.hasRmapbt;
}

export function xfsStatfs(sb: XfsSuperblock, logClean: boolean, ags: () => XfsAgCounts[]): StatFs {
  const recount = needsRecount(sb, logClean);
  let fdblocks = sb.sb_fdblocks;
  let icount = sb.sb_icount;
  let ifree = sb.sb_ifree;
  let allocbt = 0;
  if (agfsReadAtMount(sb, recount)) {
    const all = ags();
    if (recount) {
      fdblocks = 0;
      icount = 0;
      ifree = 0;
      for (const { agf, agi } of all) {
        fdblocks += agf.agf_freeblks + agf.agf_flcount + agf.agf_btreeblks;
        icount += agi.agi_count;
        ifree += agi.agi_freecount;
      }
    }
    for (const { agf } of all) {
      let n = agf.agf_btreeblks;
      if (sb.hasRmapbt) n -= agf.agf_rmap_blocks - 1;
      if (n > 0) allocbt += n;
    }
  }
  const lsize = sb.sb_logstart ? sb.sb_logblocks : 0;
  const blocks = sb.sb_dblocks - lsize;
  const bfree = Math.max(0, fdblocks - (sb.sb_agcount * SET_ASIDE_PER_AG + allocbt));
  // Inodes: allocated plus what the free blocks could hold, within imax_pct (maxicount).
  let files = Math.min(icount + bfree * sb.sb_inopblock, XFS_MAXINUMBER);
  if (sb.sb_imax_pct) {
    const iallocBlks = Math.max(1, XFS_INODES_PER_CHUNK >> sb.sb_inopblog);
    const chunks = Math.floor(Math.floor((sb.sb_dblocks * sb.sb_imax_pct) / 100) / iallocBlks);
    const maxicount = chunks * iallocBlks * sb.sb_inopblock;
    if (maxicount) files = Math.min(files, maxicount);
  }
  files = Math.max(files, icount);
  const ffree = Math.max(0, files - (icount - ifree));
  return {
    bsize: sb.sb_blocksize,
    frsize: sb.sb_blocksize,
    blocks,
    bfree,
    bavail: bfree,
    files,
    ffree,
    favail: ffree,
    namemax: XFS_NAMELEN,
  };
}

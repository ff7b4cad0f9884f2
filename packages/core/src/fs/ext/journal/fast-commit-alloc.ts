// The allocation side of ext4 fast-commit replay: block and inode bitmaps and the free
// counts of the group descriptors, changed as the kernel's replay changes them
// (fs/ext4/mballoc.c ext4_mb_mark_bb, fs/ext4/ialloc.c ext4_mark_inode_used and
// ext4_free_inode; their callers in fs/ext4/fast_commit.c, ext4_fc_replay_* and
// ext4_fc_set_bitmaps_and_counters). Bitmap blocks are copied on first use (read through the
// jbd2 overlay) and changed in memory; descriptors are copies. Statfs then sums the replayed
// descriptors' counts, as the kernel's counters start from them after recovery.
// Like the kernel, a count changes by the number of bits that actually flip.

import type { GroupDesc } from '../group-desc.js';
import { BG_BLOCK_UNINIT, BG_INODE_UNINIT } from '../group-desc.js';
import { RO_COMPAT_GDT_CSUM, RO_COMPAT_METADATA_CSUM, hasRoCompat, type Superblock } from '../superblock.js';

export interface FcAllocHooks {
  sb: Superblock;
  /** The group's descriptor (after jbd2 replay). */
  group(g: number): GroupDesc;
  /** One metadata block through the jbd2 overlay (shared: not modified here). */
  block(pblk: number, what: string): Uint8Array;
}

export class FcAllocator {
  private readonly groups = new Map<number, GroupDesc>();
  private readonly blockBitmaps = new Map<number, Uint8Array>();
  private readonly inodeBitmaps = new Map<number, Uint8Array>();
  private readonly excluded: { pblk: number; len: number }[] = [];
  /** Why a change could not be made (the kernel reports an error and goes on). */
  readonly problems: string[] = [];
  private readonly gdtCsum: boolean;
  /** bg_free_*_count and friends wrap like the on-disk fields (16 or 32 bits). */
  private readonly countMod: number;

  constructor(private readonly hooks: FcAllocHooks) {
    this.gdtCsum = hasRoCompat(hooks.sb, RO_COMPAT_GDT_CSUM) || hasRoCompat(hooks.sb, RO_COMPAT_METADATA_CSUM);
    this.countMod = hooks.sb.descSize >= 64 ? 2 ** 32 : 2 ** 16;
  }

  /** Replayed descriptors (only the groups that changed). */
  get changedGroups(): ReadonlyMap<number, GroupDesc> {
    return this.groups;
  }

  private gd(g: number): GroupDesc {
    let gd = this.groups.get(g);
    if (!gd) {
      gd = { ...this.hooks.group(g) };
      this.groups.set(g, gd);
    }
    return gd;
  }

  private wrap(v: number): number {
    return ((v % this.countMod) + this.countMod) % this.countMod;
  }

  /**
   * A group's block or inode bitmap (ext4_read_block_bitmap / ext4_read_inode_bitmap): an
   * uninitialized one reads as all free (the data clusters and inodes of such a group are).
   */
  private bitmap(g: number, gd: GroupDesc, kind: 'block' | 'inode'): Uint8Array {
    const cache = kind === 'block' ? this.blockBitmaps : this.inodeBitmaps;
    let bm = cache.get(g);
    if (!bm) {
      const bs = this.hooks.sb.blockSize;
      const uninit = kind === 'block' ? BG_BLOCK_UNINIT : BG_INODE_UNINIT;
      bm = this.gdtCsum && gd.bg_flags & uninit
        ? new Uint8Array(bs)
        : this.hooks.block(kind === 'block' ? gd.bg_block_bitmap : gd.bg_inode_bitmap, `${kind} bitmap of group ${g}`).slice(0, bs);
      cache.set(g, bm);
    }
    return bm;
  }

  /**
   * ext4_mb_mark_bb: mark blocks [pblk, pblk+len) used (`used`) or free, group by group, in
   * clusters; each group's free count changes by the clusters whose bit flipped.
   */
  markBlocks(pblk: number, len: number, used: boolean): void {
    const sb = this.hooks.sb;
    if (len <= 0) return;
    if (pblk < sb.s_first_data_block || pblk + len > sb.s_blocks_count) {
      // ext4_sb_block_valid fails: the kernel logs an error and marks nothing.
      this.problems.push(`blocks ${pblk}..${pblk + len - 1} are outside the filesystem`);
      return;
    }
    const ratio = 2 ** sb.clusterBits;
    while (len > 0) {
      const rel = pblk - sb.s_first_data_block;
      const g = Math.floor(rel / sb.s_blocks_per_group);
      const off = Math.floor((rel % sb.s_blocks_per_group) / ratio);
      const thisLen = Math.min(len, sb.s_blocks_per_group - off * ratio);
      const clen = Math.ceil(thisLen / ratio);
      let gd: GroupDesc;
      let bm: Uint8Array;
      try {
        gd = this.gd(g);
        bm = this.bitmap(g, gd, 'block');
      } catch (e) {
        this.problems.push(`block bitmap of group ${g} is unreadable (${(e as Error).message})`);
        return;
      }
      let flipped = 0;
      for (let c = off; c < off + clen && c >> 3 < bm.length; c++) {
        const bit = 1 << (c & 7);
        const isSet = (bm[c >> 3] & bit) !== 0;
        if (isSet !== used) flipped++;
        if (used) bm[c >> 3] |= bit;
        else bm[c >> 3] &= ~bit;
      }
      // A BLOCK_UNINIT group is initialized first (the kernel recomputes its free count, which
      // mke2fs and the kernel keep equal to the recorded one).
      if (this.gdtCsum) gd.bg_flags &= ~BG_BLOCK_UNINIT;
      gd.bg_free_blocks_count = this.wrap(gd.bg_free_blocks_count + (used ? -flipped : flipped));
      pblk += thisLen;
      len -= thisLen;
    }
  }

  private inodeSlot(ino: number): { g: number; bit: number; gd: GroupDesc; bm: Uint8Array } | null {
    const sb = this.hooks.sb;
    if (!Number.isInteger(ino) || ino < 1 || ino > sb.s_inodes_count) {
      this.problems.push(`inode ${ino} does not exist`);
      return null;
    }
    const g = Math.floor((ino - 1) / sb.s_inodes_per_group);
    const bit = (ino - 1) % sb.s_inodes_per_group;
    try {
      const gd = this.gd(g);
      const bm = this.bitmap(g, gd, 'inode');
      if (bit >> 3 >= bm.length) throw new Error(`bit ${bit} is past the bitmap block`);
      return { g, bit, gd, bm };
    } catch (e) {
      this.problems.push(`inode bitmap of group ${g} is unreadable (${(e as Error).message})`);
      return null;
    }
  }

  /** ext4_mark_inode_used: set the inode's bit; a newly set bit takes one free inode. */
  markInodeUsed(ino: number): void {
    const sb = this.hooks.sb;
    if (ino < sb.s_first_ino || ino > sb.s_inodes_count) {
      this.problems.push(`inode ${ino} cannot be marked in use`);
      return;
    }
    const s = this.inodeSlot(ino);
    if (!s) return;
    const { bit, gd, bm } = s;
    if (bm[bit >> 3] & (1 << (bit & 7))) return;
    bm[bit >> 3] |= 1 << (bit & 7);
    if (this.gdtCsum) {
      gd.bg_flags &= ~BG_BLOCK_UNINIT;
      let free = sb.s_inodes_per_group - gd.bg_itable_unused;
      if (gd.bg_flags & BG_INODE_UNINIT) {
        gd.bg_flags &= ~BG_INODE_UNINIT;
        free = 0;
      }
      if (bit >= free) gd.bg_itable_unused = sb.s_inodes_per_group - bit - 1;
    }
    gd.bg_free_inodes_count = this.wrap(gd.bg_free_inodes_count - 1);
  }

  /** ext4_free_inode: clear the inode's bit; a cleared bit gives one free inode (and one directory less). */
  freeInode(ino: number, isDir: boolean): void {
    const s = this.inodeSlot(ino);
    if (!s) return;
    const { bit, gd, bm } = s;
    if (!(bm[bit >> 3] & (1 << (bit & 7)))) return;
    bm[bit >> 3] &= ~(1 << (bit & 7));
    gd.bg_free_inodes_count = this.wrap(gd.bg_free_inodes_count + 1);
    if (isDir) gd.bg_used_dirs_count = this.wrap(gd.bg_used_dirs_count - 1);
  }

  /** ext4_fc_record_regions: blocks the replay allocator must not hand out. */
  exclude(pblk: number, len: number): void {
    if (len > 0) this.excluded.push({ pblk, len });
  }

  private isExcluded(blk: number): boolean {
    for (const x of this.excluded) if (blk >= x.pblk && blk < x.pblk + x.len) return true;
    return false;
  }

  /**
   * ext4_mb_new_blocks_simple, the allocator of the replay: the first free cluster at or
   * after `goal` that no region excludes, marked in use; -1 when there is none.
   */
  allocBlock(goal: number): number {
    const sb = this.hooks.sb;
    const ratio = 2 ** sb.clusterBits;
    if (!(goal >= sb.s_first_data_block && goal < sb.s_blocks_count)) goal = sb.s_first_data_block;
    const rel = goal - sb.s_first_data_block;
    let off = Math.floor((rel % sb.s_blocks_per_group) / ratio);
    for (let g = Math.floor(rel / sb.s_blocks_per_group); g < sb.groupCount; g++, off = 0) {
      let bm: Uint8Array;
      try {
        bm = this.bitmap(g, this.gd(g), 'block');
      } catch (e) {
        this.problems.push(`block bitmap of group ${g} is unreadable (${(e as Error).message})`);
        return -1;
      }
      const max = Math.min(sb.s_clusters_per_group, bm.length * 8);
      const first = sb.s_first_data_block + g * sb.s_blocks_per_group;
      for (let c = off; c < max; c++) {
        if (bm[c >> 3] & (1 << (c & 7))) continue;
        const blk = first + c * ratio;
        if (this.isExcluded(blk)) continue;
        if (blk >= sb.s_blocks_count) return -1;
        this.markBlocks(blk, 1, true);
        return blk;
      }
    }
    return -1;
  }
}

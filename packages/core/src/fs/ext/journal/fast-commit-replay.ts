// The replay pass of ext4 fast commits (fs/ext4/fast_commit.c, ext4_fc_replay_*), applied
// to an in-memory view instead of the disk. The kernel rewrites inodes, inserts and removes
// extents (allocating extent blocks) and adds or removes directory entries; here the result
// is kept logically, per inode and per directory, and the reader consults it. As in the
// kernel, records about an inode that is not in use (ext4_iget fails: link count 0) are
// ignored, except INODE (which brings it into use) and CREAT.
//   INODE     the inode's bytes replaced by the logged ones, except i_block (the extent
//             tree stays; an invalid tree root becomes an empty tree; inline data is copied);
//             i_blocks recounted from the mapping (ext4_ext_replay_set_iblocks);
//   ADD_RANGE logical blocks [lblk, lblk+len) now map to pblk.. (written or unwritten);
//   DEL_RANGE logical blocks [lblk, lblk+len) become a hole;
//   CREAT     link count 1, a new directory starts empty (only "." and "..": its block comes
//             from the replay allocator), then LINK;
//   LINK      the name is added unless it exists (the kernel ignores -EEXIST);
//   UNLINK    the name is removed if it names that inode (__ext4_unlink: another inode's
//             entry stays, the link count drops all the same); at link count 0 the inode is
//             evicted: its blocks and its inode number are freed.
// With an allocator (fast-commit-alloc.ts), block and inode bitmaps and the group free counts
// change where the kernel's replay changes them: ext4_ext_clear_bb before an INODE record
// (the inode's old blocks freed and excluded from allocation), the old blocks of a remapped
// ADD_RANGE and the blocks of a DEL_RANGE freed, ext4_mark_inode_used for INODE and CREAT,
// ext4_evict_inode's frees, and at the end ext4_fc_set_bitmaps_and_counters (every block of
// every modified inode marked in use). Not modelled: extent-tree blocks the kernel's
// ext4_ext_insert_extent allocates or frees when a replayed tree splits or shrinks, blocks
// of indirect-mapped inodes' indirect blocks and of xattr blocks freed by eviction.

import type { Run } from '../context.js';
import type { FcOp } from './fast-commit.js';
import type { FcAllocator } from './fast-commit-alloc.js';
import { le16 as u16, le32 as u32 } from '../../../bytes.js';

/** i_block in struct ext4_inode, and the extent header magic. */
const I_BLOCK_OFFSET = 0x28;
const I_GENERATION_OFFSET = 0x64;
const I_LINKS_COUNT_OFFSET = 0x1a;
const I_FLAGS_OFFSET = 0x20;
const I_SIZE_LO_OFFSET = 0x4;
const I_DTIME_OFFSET = 0x14;
const I_BLOCKS_LO_OFFSET = 0x1c;
const I_SIZE_HIGH_OFFSET = 0x6c;
/** osd2.linux2.l_i_blocks_high. */
const I_BLOCKS_HIGH_OFFSET = 0x74;
const EXT4_HUGE_FILE_FL = 0x40000;
const EXT4_ROOT_INO = 2;
/** Mapped runs or tree nodes of one inode that replay walks (an on-disk tree may be hostile). */
export const FC_MAX_RUNS_PER_INODE = 1 << 20;
/** Logical blocks are 32-bit (EXT_MAX_BLOCKS). */
const EXT_MAX_BLOCKS = 2 ** 32;
const EXT4_EXT_MAGIC = 0xf30a;
const EXT4_EXTENTS_FL = 0x80000;
const EXT4_INLINE_DATA_FL = 0x10000000;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

/** A replayed extent change: pblk -1 is a hole (DEL_RANGE). */
export interface FcRange {
  lblk: number;
  len: number;
  pblk: number;
  unwritten: boolean;
}

export interface FcInodeState {
  /** The inode's bytes after replay. */
  raw: Uint8Array;
  /** The on-disk extent tree is not used (it was not a valid tree when the inode was replayed). */
  emptyTree: boolean;
  /** Extent changes, in log order (later ones win). */
  ranges: FcRange[];
}

export interface FcDirState {
  /** Entry name (as the reader decodes it) → inode, or 0 when removed. */
  names: Map<string, number>;
  /** Created by a fast commit: no on-disk entries; ".." is `parent`. */
  fresh: boolean;
  parent: number;
}

/** An inode's block mapping in some replay state (see FcReplayHooks.blocks). */
export interface FcBlocks {
  map(lblk: number, maxLen: number): Run;
  /** Extent-tree index and leaf blocks (the kernel marks the paths to mapped extents). */
  nodes: number[];
  /** Extent-mapped (ext4_ext_clear_bb does nothing for other inodes). */
  extents: boolean;
}

export interface FcReplayHooks {
  /** The inode's current bytes (on disk, after jbd2 replay); throws when it does not exist. */
  raw(ino: number): Uint8Array;
  /** The on-disk entry `name` of directory `dir` (inode or null); throws when unreadable. */
  lookup(dir: number, name: string): number | null;
  /** A name's bytes as the reader decodes names. */
  decode(name: Uint8Array): string;
  inodeSize: number;
  /** s_first_ino: ext4_iget refuses lower (reserved) inodes other than the root. */
  firstIno: number;
  blockSize: number;
  /** Block and inode bitmaps and free counts; without it only the file view is replayed. */
  alloc?: FcAllocator;
  /**
   * The block mapping of inode `ino` in state `st` (null: inline data, or nothing mapped);
   * needed with `alloc`. Throws when the on-disk tree is unreadable.
   */
  blocks?(ino: number, st: FcInodeState): FcBlocks | null;
  /** The first block of the flex group of `ino`'s group (the replay allocator's goal for a directory). */
  dirGoal?(ino: number): number;
}

export interface FcReplay {
  inodes: Map<number, FcInodeState>;
  dirs: Map<number, FcDirState>;
  /** Records that could not be applied (the kernel skips them too), with why. */
  skipped: string[];
}

const setU16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
};
const setU32 = (b: Uint8Array, o: number, v: number) => {
  setU16(b, o, v & 0xffff);
  setU16(b, o + 2, Math.floor(v / 65536) & 0xffff);
};

/** Mapped runs of `m` in [from, to), at most FC_MAX_RUNS_PER_INODE steps. */
function mappedRuns(m: FcBlocks, from: number, to: number, visit: (r: Run) => void): void {
  let steps = 0;
  for (let lblk = from; lblk < to; ) {
    if (++steps > FC_MAX_RUNS_PER_INODE) throw new Error(`more than ${FC_MAX_RUNS_PER_INODE} runs`);
    const r = m.map(lblk, to - lblk);
    const len = Math.max(1, Math.min(r.len, to - lblk));
    if (r.pblk >= 0) visit({ ...r, len });
    lblk += len;
  }
}

/** Apply the scanned records in order. */
export function replayFastCommits(ops: FcOp[], hooks: FcReplayHooks): FcReplay {
  const r: FcReplay = { inodes: new Map(), dirs: new Map(), skipped: [] };
  const alloc = hooks.alloc;
  /** ext4_fc_record_modified_inode: inodes whose blocks are marked in use at the end, in order. */
  const modified = new Set<number>();
  const inode = (ino: number): FcInodeState | null => {
    let st = r.inodes.get(ino);
    if (st) return st;
    let raw: Uint8Array;
    try {
      raw = hooks.raw(ino).slice();
    } catch {
      return null;
    }
    st = { raw, emptyTree: false, ranges: [] };
    r.inodes.set(ino, st);
    return st;
  };
  /** ext4_iget(EXT4_IGET_NORMAL) succeeds: a normal inode number, in use. */
  const live = (ino: number, st: FcInodeState | null): st is FcInodeState =>
    st !== null && (ino === EXT4_ROOT_INO || ino >= hooks.firstIno) && u16(st.raw, I_LINKS_COUNT_OFFSET) > 0;
  const isDir = (st: FcInodeState) => (u16(st.raw, 0) & S_IFMT) === S_IFDIR;
  const dir = (ino: number): FcDirState => {
    let d = r.dirs.get(ino);
    if (!d) {
      d = { names: new Map(), fresh: false, parent: 0 };
      r.dirs.set(ino, d);
    }
    return d;
  };
  /** The inode `name` names in `parent` now (0: none). */
  const current = (parent: number, name: string): number => {
    const d = r.dirs.get(parent);
    const v = d?.names.get(name);
    if (v !== undefined) return v;
    if (d?.fresh) return 0;
    try {
      return hooks.lookup(parent, name) ?? 0;
    } catch {
      return 0;
    }
  };
  const link = (parent: number, ino: number, name: string): boolean => {
    if (current(parent, name) !== 0) return false;
    dir(parent).names.set(name, ino);
    return true;
  };
  const blocksOf = (ino: number, st: FcInodeState): FcBlocks | null => {
    if (!alloc || !hooks.blocks) return null;
    try {
      return hooks.blocks(ino, st);
    } catch (e) {
      r.skipped.push(`block bookkeeping of inode ${ino}: ${(e as Error).message}`);
      return null;
    }
  };
  /** Visit the mapped runs of [from, to); false when the mapping is unreadable. */
  const eachRun = (ino: number, m: FcBlocks, from: number, to: number, visit: (x: Run) => void): boolean => {
    try {
      mappedRuns(m, from, to, visit);
      return true;
    } catch (e) {
      r.skipped.push(`block bookkeeping of inode ${ino}: ${(e as Error).message}`);
      return false;
    }
  };
  /** Mark every block of the inode (tree nodes, then data) used or free; freed ones may be excluded from allocation. */
  const markAll = (ino: number, st: FcInodeState, used: boolean, exclude: boolean): void => {
    const m = blocksOf(ino, st);
    if (!m || !alloc) return;
    if (!used && !m.extents && exclude) return; // ext4_ext_clear_bb: extent trees only
    for (const b of m.nodes) {
      alloc.markBlocks(b, 1, used);
      if (exclude) alloc.exclude(b, 1);
    }
    eachRun(ino, m, 0, EXT_MAX_BLOCKS, (x) => {
      alloc.markBlocks(x.pblk, x.len, used);
      if (exclude) alloc.exclude(x.pblk, x.len);
    });
  };
  /** ext4_ext_replay_set_iblocks: i_blocks from the mapped blocks and tree nodes. */
  const setIblocks = (ino: number, st: FcInodeState): void => {
    const m = blocksOf(ino, st);
    if (!m) return;
    let n = m.nodes.length;
    if (!eachRun(ino, m, 0, EXT_MAX_BLOCKS, (x) => { n += x.len; })) return;
    const v512 = n * (hooks.blockSize / 512);
    let flags = u32(st.raw, I_FLAGS_OFFSET);
    let v = v512;
    if (v512 >= 2 ** 48) {
      flags |= EXT4_HUGE_FILE_FL;
      v = n;
    } else flags &= ~EXT4_HUGE_FILE_FL;
    setU32(st.raw, I_FLAGS_OFFSET, flags >>> 0);
    setU32(st.raw, I_BLOCKS_LO_OFFSET, v % 2 ** 32);
    setU16(st.raw, I_BLOCKS_HIGH_OFFSET, Math.floor(v / 2 ** 32) & 0xffff);
  };
  /** ext4_evict_inode of an inode whose last link went: its blocks and its number freed. */
  const evict = (ino: number, st: FcInodeState): void => {
    markAll(ino, st, false, false);
    alloc?.freeInode(ino, isDir(st));
    st.ranges = [];
    st.emptyTree = true;
    st.raw.fill(0, I_BLOCK_OFFSET, I_GENERATION_OFFSET);
    st.raw.set([0x0a, 0xf3, 0, 0, 4, 0], I_BLOCK_OFFSET);
    setU32(st.raw, I_SIZE_LO_OFFSET, 0);
    setU32(st.raw, I_SIZE_HIGH_OFFSET, 0);
    setU32(st.raw, I_BLOCKS_LO_OFFSET, 0);
    setU16(st.raw, I_BLOCKS_HIGH_OFFSET, 0);
    setU32(st.raw, I_DTIME_OFFSET, 1); // deleted (the kernel writes the current time)
  };

  // The scan pass records every ADD_RANGE's blocks: the replay allocator never hands them out.
  if (alloc) for (const op of ops) if (op.tag === 'add_range') alloc.exclude(op.pblk, op.len);

  for (const op of ops) {
    switch (op.tag) {
      case 'inode': {
        const st = inode(op.ino);
        if (!st) {
          r.skipped.push(`inode ${op.ino} does not exist`);
          break;
        }
        if (live(op.ino, st)) markAll(op.ino, st, false, true);
        modified.add(op.ino);
        const len = Math.min(op.raw.length, hooks.inodeSize);
        const raw = st.raw;
        // ext4_fc_replay_inode: everything but i_block.
        raw.set(op.raw.subarray(0, Math.min(len, I_BLOCK_OFFSET)), 0);
        if (len > I_GENERATION_OFFSET) raw.set(op.raw.subarray(I_GENERATION_OFFSET, len), I_GENERATION_OFFSET);
        const flags = u32(raw, I_FLAGS_OFFSET);
        if (flags & EXT4_EXTENTS_FL) {
          if (st.emptyTree || u16(raw, I_BLOCK_OFFSET) !== EXT4_EXT_MAGIC) {
            // An empty tree: eh_magic, eh_entries 0, eh_max 4, eh_depth 0.
            raw.fill(0, I_BLOCK_OFFSET, I_GENERATION_OFFSET);
            raw.set([0x0a, 0xf3, 0, 0, 4, 0], I_BLOCK_OFFSET);
            if (!st.emptyTree) st.ranges = [];
            st.emptyTree = true;
          }
        } else if (flags & EXT4_INLINE_DATA_FL && op.raw.length >= I_GENERATION_OFFSET) {
          raw.set(op.raw.subarray(I_BLOCK_OFFSET, I_GENERATION_OFFSET), I_BLOCK_OFFSET);
        }
        alloc?.markInodeUsed(op.ino);
        if (live(op.ino, st)) setIblocks(op.ino, st);
        break;
      }
      case 'add_range':
      case 'del_range': {
        const st = inode(op.ino);
        if (!live(op.ino, st)) {
          r.skipped.push(`extent change of inode ${op.ino}, which is not in use`);
          break;
        }
        modified.add(op.ino);
        const m = blocksOf(op.ino, st);
        if (op.tag === 'add_range') {
          // A block now mapped elsewhere is freed (and marked again at the end if still used).
          if (m && alloc) {
            eachRun(op.ino, m, op.lblk, op.lblk + op.len, (x) => {
              const want = op.pblk + (x.lblk - op.lblk);
              if (x.pblk !== want) alloc.markBlocks(x.pblk, x.len, false);
            });
          }
          st.ranges.push({ lblk: op.lblk, len: op.len, pblk: op.pblk, unwritten: op.unwritten });
        } else {
          if (m && alloc) eachRun(op.ino, m, op.lblk, op.lblk + op.len, (x) => alloc.markBlocks(x.pblk, x.len, false));
          st.ranges.push({ lblk: op.lblk, len: op.len, pblk: -1, unwritten: false });
        }
        break;
      }
      case 'creat': {
        alloc?.markInodeUsed(op.ino);
        const st = inode(op.ino);
        if (!st) {
          r.skipped.push(`created inode ${op.ino} does not exist`);
          break;
        }
        if (isDir(st)) {
          const d = dir(op.ino);
          d.fresh = true;
          d.names.clear();
          d.parent = op.parent;
          // ext4_init_new_dir: "." and ".." in a block from the replay allocator
          // (ext4_mb_new_blocks_simple), goal the first block of the inode's flex group.
          if (alloc && live(op.ino, st)) {
            const b = alloc.allocBlock(hooks.dirGoal ? hooks.dirGoal(op.ino) : 0);
            if (b >= 0) st.ranges.push({ lblk: 0, len: 1, pblk: b, unwritten: false });
            else r.skipped.push(`no free block for the new directory inode ${op.ino}`);
          }
        }
        link(op.parent, op.ino, hooks.decode(op.name));
        setU16(st.raw, I_LINKS_COUNT_OFFSET, 1);
        break;
      }
      case 'link': {
        const st = inode(op.ino);
        if (!live(op.ino, st)) {
          r.skipped.push(`link of inode ${op.ino}, which is not in use`);
          break;
        }
        // __ext4_link: one more link, unless the name exists (-EEXIST).
        if (link(op.parent, op.ino, hooks.decode(op.name))) setU16(st.raw, I_LINKS_COUNT_OFFSET, Math.min(0xffff, u16(st.raw, I_LINKS_COUNT_OFFSET) + 1));
        break;
      }
      case 'unlink': {
        const name = hooks.decode(op.name);
        const st = inode(op.ino);
        if (!live(op.ino, st)) {
          r.skipped.push(`unlink of ${JSON.stringify(name)} in directory ${op.parent}: inode ${op.ino} is not in use`);
          break;
        }
        const cur = current(op.parent, name);
        if (cur === 0) {
          r.skipped.push(`unlink of ${JSON.stringify(name)} in directory ${op.parent}: no such entry`);
          break;
        }
        // __ext4_unlink: an entry naming another inode stays (replay of a name deleted and
        // created again), but the link count drops all the same.
        if (cur === op.ino) dir(op.parent).names.set(name, 0);
        const nlink = u16(st.raw, I_LINKS_COUNT_OFFSET) - 1;
        setU16(st.raw, I_LINKS_COUNT_OFFSET, nlink);
        if (nlink === 0) evict(op.ino, st);
        break;
      }
    }
  }
  // ext4_fc_set_bitmaps_and_counters: the blocks of every modified inode still in use.
  if (alloc) for (const ino of modified) { const st = r.inodes.get(ino) ?? null; if (live(ino, st)) markAll(ino, st, true, false); }
  return r;
}

/**
 * The block mapping of a replayed inode: the latest range that covers a block wins, else
 * the on-disk tree (none when `base` is null).
 */
export class FcMapper {
  constructor(
    private readonly base: { map(lblk: number, maxLen: number): Run } | null,
    private readonly ranges: FcRange[],
  ) {}

  map(lblk: number, maxLen: number): Run {
    let limit = maxLen;
    for (let k = this.ranges.length - 1; k >= 0; k--) {
      const x = this.ranges[k];
      if (lblk >= x.lblk && lblk < x.lblk + x.len) {
        const len = Math.max(1, Math.min(limit, x.lblk + x.len - lblk));
        return { lblk, len, pblk: x.pblk < 0 ? -1 : x.pblk + (lblk - x.lblk), unwritten: x.pblk >= 0 && x.unwritten };
      }
      // A later range starting further on ends this run.
      if (x.lblk > lblk) limit = Math.min(limit, x.lblk - lblk);
    }
    if (!this.base) return { lblk, len: Math.max(1, limit), pblk: -1, unwritten: false };
    const r = this.base.map(lblk, Math.max(1, limit));
    return r.len > limit ? { ...r, len: Math.max(1, limit) } : r;
  }
}

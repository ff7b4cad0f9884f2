// The replay pass of ext4 fast commits (fs/ext4/fast_commit.c, ext4_fc_replay_*), applied
// to an in-memory view instead of the disk. The kernel rewrites inodes, inserts and removes
// extents (allocating extent blocks) and adds or removes directory entries; here the result
// is kept logically, per inode and per directory, and the reader consults it:
//   INODE     the inode's bytes replaced by the logged ones, except i_block (the extent
//             tree stays; an invalid tree root becomes an empty tree; inline data is copied);
//   ADD_RANGE logical blocks [lblk, lblk+len) now map to pblk.. (written or unwritten);
//   DEL_RANGE logical blocks [lblk, lblk+len) become a hole;
//   CREAT     link count 1, a new directory starts empty (only "." and ".."), then LINK;
//   LINK      the name is added unless it exists (the kernel ignores -EEXIST);
//   UNLINK    the name is removed if it names that inode.
// Not replayed, as in this read-only view they do not show: block and inode bitmaps and
// free counts (statfs keeps the on-disk counts), i_blocks recomputation.

import type { Run } from '../context.js';
import type { FcOp } from './fast-commit.js';

/** i_block in struct ext4_inode, and the extent header magic. */
const I_BLOCK_OFFSET = 0x28;
const I_GENERATION_OFFSET = 0x64;
const I_LINKS_COUNT_OFFSET = 0x1a;
const I_FLAGS_OFFSET = 0x20;
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

export interface FcReplayHooks {
  /** The inode's current bytes (on disk, after jbd2 replay); throws when it does not exist. */
  raw(ino: number): Uint8Array;
  /** The on-disk entry `name` of directory `dir` (inode or null); throws when unreadable. */
  lookup(dir: number, name: string): number | null;
  /** A name's bytes as the reader decodes names. */
  decode(name: Uint8Array): string;
  inodeSize: number;
}

export interface FcReplay {
  inodes: Map<number, FcInodeState>;
  dirs: Map<number, FcDirState>;
  /** Records that could not be applied (the kernel skips them too), with why. */
  skipped: string[];
}

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

/** Apply the scanned records in order. */
export function replayFastCommits(ops: FcOp[], hooks: FcReplayHooks): FcReplay {
  const r: FcReplay = { inodes: new Map(), dirs: new Map(), skipped: [] };
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
  const link = (parent: number, ino: number, name: string): void => {
    if (current(parent, name) === 0) dir(parent).names.set(name, ino);
  };

  for (const op of ops) {
    switch (op.tag) {
      case 'inode': {
        const st = inode(op.ino);
        if (!st) {
          r.skipped.push(`inode ${op.ino} does not exist`);
          break;
        }
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
        break;
      }
      case 'add_range':
      case 'del_range': {
        const st = inode(op.ino);
        if (!st) {
          r.skipped.push(`extent change of inode ${op.ino}, which does not exist`);
          break;
        }
        st.ranges.push(op.tag === 'add_range'
          ? { lblk: op.lblk, len: op.len, pblk: op.pblk, unwritten: op.unwritten }
          : { lblk: op.lblk, len: op.len, pblk: -1, unwritten: false });
        break;
      }
      case 'creat': {
        const st = inode(op.ino);
        if (!st) {
          r.skipped.push(`created inode ${op.ino} does not exist`);
          break;
        }
        st.raw[I_LINKS_COUNT_OFFSET] = 1;
        st.raw[I_LINKS_COUNT_OFFSET + 1] = 0;
        if ((u16(st.raw, 0) & S_IFMT) === S_IFDIR) {
          const d = dir(op.ino);
          d.fresh = true;
          d.names.clear();
          d.parent = op.parent;
        }
        link(op.parent, op.ino, hooks.decode(op.name));
        break;
      }
      case 'link':
        link(op.parent, op.ino, hooks.decode(op.name));
        break;
      case 'unlink': {
        const name = hooks.decode(op.name);
        if (current(op.parent, name) === op.ino) dir(op.parent).names.set(name, 0);
        else r.skipped.push(`unlink of ${JSON.stringify(name)} in directory ${op.parent}: it does not name inode ${op.ino}`);
        break;
      }
    }
  }
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

// XFS file block mapping: extent records (struct xfs_bmbt_rec, 128-bit packed) held in the
// inode fork (XFS_DINODE_FMT_EXTENTS) or in a bmap btree (XFS_DINODE_FMT_BTREE) whose root
// (struct xfs_bmdr_block) sits in the fork and whose other blocks are long-format btree blocks
// 'BMAP' / 'BMA3' (XFS Algorithms & Data Structures, "Data Extents", "B+tree Extent List";
// libxfs/xfs_format.h, xfs_bmap_btree.h).

import { Bytes } from '../../bytes.js';
import { corrupt, GuestkitError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { NULL64, type XfsContext } from './context.js';
import { XFS_DINODE_FMT_BTREE, XFS_DINODE_FMT_EXTENTS } from './dinode.js';

export const XFS_BMAP_MAGIC = 0x424d4150; // 'BMAP'
export const XFS_BMAP_CRC_MAGIC = 0x424d4133; // 'BMA3'
/** Long-format btree block header sizes (XFS_BTREE_LBLOCK_LEN / _CRC_LEN). */
export const XFS_BTREE_LBLOCK_LEN = 24;
export const XFS_BTREE_LBLOCK_CRC_LEN = 72;
const BB_CRC_OFF = 64;
/** sizeof(xfs_bmbt_rec) and sizeof(key) + sizeof(ptr). */
const REC_SIZE = 16;
const KEYPTR_SIZE = 16;
/** Leaves kept decoded per fork (a sequential read of a big file walks them in order). */
const LEAF_CACHE_ENTRIES = 16;

export interface XfsExtent {
  /** First file block (br_startoff). */
  startoff: number;
  /** First filesystem block (br_startblock). */
  startblock: number;
  blockcount: number;
  /** XFS_EXT_UNWRITTEN: allocated, reads as zeros. */
  unwritten: boolean;
}

/** Decode one packed extent record (xfs_bmbt_disk_get_all). */
export function decodeBmbtRec(b: Bytes, off: number, what: string): XfsExtent {
  const a = b.u32be(off), lo0 = b.u32be(off + 4), c = b.u32be(off + 8), d = b.u32be(off + 12);
  const startoffHi = a & 0x7fffffff; // bits 62..32 of l0
  const startoff = startoffHi * 2 ** 23 + Math.floor(lo0 / 512);
  if (!Number.isSafeInteger(startoff)) throw corrupt(what, `extent file offset is too large`);
  return {
    startoff,
    startblock: (lo0 & 0x1ff) * 2 ** 43 + c * 2 ** 11 + Math.floor(d / 2 ** 21),
    blockcount: d & 0x1fffff,
    unwritten: a >>> 31 === 1,
  };
}

interface BtNode {
  level: number;
  keys: number[];
  ptrs: number[];
}

interface BtLeaf {
  fsb: number;
  recs: XfsExtent[];
  rightsib: number | null;
  leftsib: number | null;
}

/**
 * The block map of one inode fork. `lookup` finds the extent holding a file block (or the next
 * one, to size a hole); `extents` walks them all in file order. Every extent is checked to lie
 * inside the filesystem; btree levels must decrease by one per step (so descents cannot loop)
 * and sibling chains are walked with a visited set.
 */
export class BmapFork {
  private readonly what: string;
  private list: XfsExtent[] | null = null;
  private root: BtNode | null = null;
  private readonly leafCache = new Map<number, BtLeaf>();

  constructor(
    private readonly ctx: XfsContext,
    private readonly ino: number,
    fork: 'data' | 'attr',
    format: number,
    private readonly forkBytes: Bytes,
    private readonly nextents: number,
  ) {
    this.what = `xfs inode ${ino} ${fork} fork`;
    if (format === XFS_DINODE_FMT_EXTENTS) {
      if (nextents * REC_SIZE > forkBytes.length) {
        throw corrupt(this.what, `${nextents} extents do not fit in the ${forkBytes.length}-byte fork`);
      }
      const recs: XfsExtent[] = [];
      for (let i = 0; i < nextents; i++) recs.push(this.checked(decodeBmbtRec(forkBytes, i * REC_SIZE, this.what), recs[i - 1]));
      this.list = recs;
    } else if (format === XFS_DINODE_FMT_BTREE) {
      // struct xfs_bmdr_block: bb_level, bb_numrecs, then keys and pointers sized for the fork.
      const level = forkBytes.u16be(0);
      const numrecs = forkBytes.u16be(2);
      const maxrecs = Math.floor((forkBytes.length - 4) / KEYPTR_SIZE);
      if (level < 1 || level > LIMITS.maxTreeDepth) throw corrupt(this.what, `bmap btree root level ${level} is invalid`);
      if (numrecs < 1 || numrecs > maxrecs) throw corrupt(this.what, `bmap btree root has ${numrecs} records (at most ${maxrecs})`);
      const keys: number[] = [], ptrs: number[] = [];
      for (let i = 0; i < numrecs; i++) {
        keys.push(forkBytes.u64be(4 + i * 8));
        ptrs.push(this.ptr(forkBytes, 4 + maxrecs * 8 + i * 8));
      }
      this.root = { level, keys, ptrs };
    } else {
      throw corrupt(this.what, `format ${format} has no block map`);
    }
  }

  /** Whether the fork maps nothing. */
  get empty(): boolean {
    return this.list !== null && this.list.length === 0;
  }

  private ptr(b: Bytes, off: number): number {
    const v = b.u64beBig(off);
    if (v === NULL64 || v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(this.what, `bmap btree pointer ${v} is invalid`);
    return Number(v);
  }

  private checked(e: XfsExtent, prev: XfsExtent | undefined): XfsExtent {
    if (e.blockcount === 0) throw corrupt(this.what, `extent at file block ${e.startoff} has no blocks`);
    if (prev && e.startoff < prev.startoff + prev.blockcount) {
      throw corrupt(this.what, `extent at file block ${e.startoff} overlaps or precedes the one at ${prev.startoff}`);
    }
    this.ctx.checkFsbRange(e.startblock, e.blockcount, `${this.what} extent at file block ${e.startoff}`);
    return e;
  }

  /** Read and check one btree block at `fsb`, expected at `level`. */
  private readBlock(fsb: number, level: number): { b: Bytes; numrecs: number; hdr: number; leftsib: number | null; rightsib: number | null } {
    const sb = this.ctx.sb;
    const what = `${this.what} bmap btree block ${fsb}`;
    const b = this.ctx.readFsBlocks(fsb, 1, what);
    const magic = b.u32be(0);
    const want = sb.hasCrc ? XFS_BMAP_CRC_MAGIC : XFS_BMAP_MAGIC;
    if (magic !== want) throw corrupt(what, `bad magic 0x${magic.toString(16)} (expected 0x${want.toString(16)})`);
    const hdr = sb.hasCrc ? XFS_BTREE_LBLOCK_CRC_LEN : XFS_BTREE_LBLOCK_LEN;
    if (sb.hasCrc) this.ctx.checkV5(what, b, BB_CRC_OFF, { blknoOff: 24, daddr: this.ctx.fsbToDaddr(fsb), ownerOff: 56, owner: this.ino, uuidOff: 40 });
    const lvl = b.u16be(4);
    if (lvl !== level) throw corrupt(what, `level ${lvl} where ${level} was expected (a btree loop?)`);
    const numrecs = b.u16be(6);
    const maxrecs = Math.floor((b.length - hdr) / REC_SIZE);
    if (numrecs === 0 || numrecs > maxrecs) throw corrupt(what, `${numrecs} records (at most ${maxrecs})`);
    const sib = (off: number) => {
      const v = b.u64beBig(off);
      if (v === NULL64) return null;
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(what, `sibling pointer ${v} is invalid`);
      return Number(v);
    };
    return { b, numrecs, hdr, leftsib: sib(8), rightsib: sib(16) };
  }

  private node(fsb: number, level: number): BtNode {
    const { b, numrecs, hdr } = this.readBlock(fsb, level);
    const maxrecs = Math.floor((b.length - hdr) / KEYPTR_SIZE);
    const keys: number[] = [], ptrs: number[] = [];
    for (let i = 0; i < numrecs; i++) {
      keys.push(b.u64be(hdr + i * 8));
      ptrs.push(this.ptr(b, hdr + maxrecs * 8 + i * 8));
    }
    return { level, keys, ptrs };
  }

  private leaf(fsb: number): BtLeaf {
    const hit = this.leafCache.get(fsb);
    if (hit) return hit;
    const { b, numrecs, hdr, leftsib, rightsib } = this.readBlock(fsb, 0);
    const recs: XfsExtent[] = [];
    for (let i = 0; i < numrecs; i++) recs.push(this.checked(decodeBmbtRec(b, hdr + i * REC_SIZE, this.what), recs[i - 1]));
    const leaf = { fsb, recs, leftsib, rightsib };
    if (this.leafCache.size >= LEAF_CACHE_ENTRIES) this.leafCache.delete(this.leafCache.keys().next().value as number);
    this.leafCache.set(fsb, leaf);
    return leaf;
  }

  /** Descend from the root to the leaf that would hold file block `fb`. */
  private findLeaf(fb: number): BtLeaf {
    let n = this.root!;
    for (;;) {
      let i = 0;
      // Last key <= fb (keys are the first file block of each subtree).
      let lo = 0, hi = n.keys.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (n.keys[mid] <= fb) { i = mid; lo = mid + 1; } else hi = mid - 1;
      }
      if (n.level === 1) return this.leaf(n.ptrs[i]);
      n = this.node(n.ptrs[i], n.level - 1);
    }
  }

  /** The extent holding file block `fb`, else the first one after it, else null. */
  lookup(fb: number): XfsExtent | null {
    if (this.list) return search(this.list, fb);
    const leaf = this.findLeaf(fb);
    const hit = search(leaf.recs, fb);
    if (hit) return hit;
    // Past this leaf's last extent: the next one is the first of the right sibling.
    if (leaf.rightsib === null) return null;
    const next = this.leaf(leaf.rightsib);
    if (next.recs[0].startoff <= leaf.recs[leaf.recs.length - 1].startoff) {
      throw corrupt(this.what, `bmap btree leaf ${next.fsb} does not follow leaf ${leaf.fsb} (a sibling loop?)`);
    }
    return next.recs[0];
  }

  /** All extents in file order. */
  *extents(): Generator<XfsExtent> {
    if (this.list) {
      yield* this.list;
      return;
    }
    // Leftmost leaf, then the right-sibling chain.
    let n = this.root!;
    while (n.level > 1) n = this.node(n.ptrs[0], n.level - 1);
    let fsb: number | null = n.ptrs[0];
    const seen = new Set<number>();
    let prev: XfsExtent | undefined;
    let count = 0;
    while (fsb !== null) {
      if (seen.has(fsb)) throw new GuestkitError('LOOP', `${this.what}: bmap btree leaf ${fsb} is visited twice`);
      seen.add(fsb);
      if (seen.size > this.ctx.sb.sb_dblocks) throw new GuestkitError('LOOP', `${this.what}: more bmap btree leaves than filesystem blocks`);
      const leaf = this.leaf(fsb);
      for (const r of leaf.recs) {
        if (prev && r.startoff < prev.startoff + prev.blockcount) {
          throw corrupt(this.what, `extent at file block ${r.startoff} in leaf ${fsb} is out of order`);
        }
        prev = r;
        count++;
        yield r;
      }
      fsb = leaf.rightsib;
    }
    if (count > this.nextents && this.nextents > 0) {
      throw corrupt(this.what, `bmap btree holds ${count} extents but the inode says ${this.nextents}`);
    }
  }
}

/** Binary search: extent containing fb, else the next one, else null. */
function search(recs: XfsExtent[], fb: number): XfsExtent | null {
  let lo = 0, hi = recs.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (recs[mid].startoff <= fb) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  if (found >= 0 && fb < recs[found].startoff + recs[found].blockcount) return recs[found];
  return found + 1 < recs.length ? recs[found + 1] : null;
}

// ext4 extent tree: "Extent Tree" in the kernel's ext4 disk-layout documentation
// (Documentation/filesystems/ext4/ifork.rst), struct ext4_extent_header, ext4_extent_idx,
// ext4_extent and ext4_extent_tail. The root lives in i_block (4 entries), interior and
// leaf nodes in blocks of (block size - 12) / 12 entries followed by a crc32c tail.

import { Bytes, le16, le32 } from '../../bytes.js';
import { GuestkitError, corrupt } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { crc32cRaw } from '../../util/crc32c.js';
import { MAX_LBLK, type ExtContext, type Run } from './context.js';
import type { Inode } from './inode.js';

export const EXT4_EXT_MAGIC = 0xf30a;
const HEADER_SIZE = 12;
const ENTRY_SIZE = 12;
/** Kernel EXT4_MAX_EXTENT_DEPTH. */
export const EXT4_MAX_EXTENT_DEPTH = Math.min(5, LIMITS.maxTreeDepth);
/** ee_len above this marks an unwritten extent (length ee_len - 32768). */
const EXT_INIT_MAX_LEN = 32768;

/** One node, parsed: header fields and its entries. */
export interface ExtentNode {
  eh_entries: number;
  eh_max: number;
  eh_depth: number;
  /**
   * Entry i at [3i, 3i + 3): ee_block / ei_block; leaf: the extent's length, negative when
   * it is unwritten (index: unused); leaf: ee_start, index: ei_leaf. One array per node
   * (every directory a listing reads parses its root).
   */
  e: Float64Array;
}


/** `what` names the node in errors; a function, so that it is built only for an error. */
function parseNode(buf: Uint8Array, what: () => string, maxEntries: number): ExtentNode {
  if (buf.length < HEADER_SIZE) throw corrupt(what(), `${buf.length} bytes, shorter than an extent header`);
  const magic = le16(buf, 0);
  if (magic !== EXT4_EXT_MAGIC) throw corrupt(what(), `bad extent header magic 0x${magic.toString(16)}`);
  const eh_entries = le16(buf, 2);
  const eh_max = le16(buf, 4);
  const eh_depth = le16(buf, 6);
  if (eh_max === 0 || eh_max > maxEntries) throw corrupt(what(), `extent header eh_max ${eh_max} is invalid (at most ${maxEntries})`);
  if (eh_entries > eh_max) throw corrupt(what(), `extent header has ${eh_entries} entries but eh_max ${eh_max}`);
  if (HEADER_SIZE + eh_max * ENTRY_SIZE > buf.length) {
    throw corrupt(what(), `extent header eh_max ${eh_max} runs past the end of the node (${buf.length} bytes)`);
  }
  if (eh_depth > EXT4_MAX_EXTENT_DEPTH) {
    throw corrupt(what(), `extent tree depth ${eh_depth} exceeds the maximum of ${EXT4_MAX_EXTENT_DEPTH}`);
  }
  const e = new Float64Array(3 * eh_entries);
  let prevEnd = -1;
  for (let i = 0; i < eh_entries; i++) {
    const o = HEADER_SIZE + i * ENTRY_SIZE;
    const first = le32(buf, o);
    if (first < prevEnd || (eh_depth > 0 && first === prevEnd && i > 0)) {
      throw corrupt(what(), `extent entry ${i} (logical block ${first}) is out of order or overlaps the previous one`);
    }
    e[3 * i] = first;
    if (eh_depth === 0) {
      let len = le16(buf, o + 4);
      let unwritten = false;
      if (len > EXT_INIT_MAX_LEN) {
        len -= EXT_INIT_MAX_LEN;
        unwritten = true;
      }
      if (len === 0) throw corrupt(what(), `extent entry ${i} has length 0`);
      e[3 * i + 1] = unwritten ? -len : len;
      e[3 * i + 2] = le16(buf, o + 6) * 2 ** 32 + le32(buf, o + 8);
      prevEnd = first + len;
    } else {
      e[3 * i + 2] = le16(buf, o + 8) * 2 ** 32 + le32(buf, o + 4);
      prevEnd = first;
    }
  }
  return { eh_entries, eh_max, eh_depth, e };
}

/** Last entry whose first block is <= lblk, or -1. */
function search(n: ExtentNode, lblk: number): number {
  let lo = 0;
  let hi = n.eh_entries - 1;
  let r = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (n.e[3 * mid] <= lblk) {
      r = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return r;
}

/** Parsed extent blocks, keyed by the (shared, cached) block buffer they came from. */
const parsedBlocks = new WeakMap<Uint8Array, ExtentNode>();

export class ExtentTree {
  private readonly root: ExtentNode;

  constructor(
    private readonly ctx: ExtContext,
    private readonly inode: Inode,
  ) {
    this.root = parseNode(inode.i_block, () => `extent tree root of inode ${inode.ino}`, 4);
  }

  private childNode(pblk: number, depth: number): ExtentNode {
    const { ctx, inode } = this;
    const what = `extent block ${pblk} of inode ${inode.ino}`;
    if (pblk < ctx.sb.s_first_data_block || pblk >= ctx.sb.s_blocks_count) {
      throw corrupt(`inode ${inode.ino}`, `extent index points to block ${pblk}, outside the filesystem (${ctx.sb.s_blocks_count} blocks)`);
    }
    const buf = ctx.metaBlock(pblk, what);
    let n = parsedBlocks.get(buf);
    if (!n) {
      const maxEntries = Math.floor((ctx.sb.blockSize - HEADER_SIZE) / ENTRY_SIZE);
      n = parseNode(buf, () => what, maxEntries);
      if (ctx.csum) {
        const tail = HEADER_SIZE + ENTRY_SIZE * n.eh_max;
        if (tail + 4 <= buf.length) {
          const want = new Bytes(buf, what).u32le(tail);
          if (crc32cRaw(inode.csumSeed, buf, 0, tail) !== want) ctx.checksumMismatch(what);
        }
      }
      parsedBlocks.set(buf, n);
    }
    if (n.eh_depth !== depth) {
      throw corrupt(what, `extent node has depth ${n.eh_depth}, expected ${depth}`);
    }
    return n;
  }

  /**
   * The blocks of the tree's index and leaf nodes (not the root in i_block), at most `limit`
   * of them (fast-commit replay marks them in the block bitmap). Depth falls by one per level.
   */
  nodeBlocks(limit: number): number[] {
    const out = new Set<number>();
    const walk = (n: ExtentNode): void => {
      if (n.eh_depth === 0) return;
      for (let i = 0; i < n.eh_entries; i++) {
        if (out.size >= limit) throw new GuestkitError('LIMIT', `extent tree of inode ${this.inode.ino} has more than ${limit} nodes`);
        out.add(n.e[3 * i + 2]);
        walk(this.childNode(n.e[3 * i + 2], n.eh_depth - 1));
      }
    };
    walk(this.root);
    return [...out];
  }

  /** Map logical block `lblk`: the run starting there, at most `maxLen` blocks long. */
  map(lblk: number, maxLen: number): Run {
    if (lblk >= MAX_LBLK) return { lblk, len: maxLen, pblk: -1, unwritten: false };
    let n = this.root;
    let upper = MAX_LBLK;
    let path: number[] | undefined;
    for (let level = 0; n.eh_depth > 0; level++) {
      if (level > EXT4_MAX_EXTENT_DEPTH) {
        throw new GuestkitError('LOOP', `extent tree of inode ${this.inode.ino} is deeper than ${EXT4_MAX_EXTENT_DEPTH} levels`);
      }
      const i = search(n, lblk);
      if (i < 0) {
        // Before the first index: a hole up to it.
        const end = n.eh_entries > 0 ? Math.min(n.e[0], upper) : upper;
        return { lblk, len: Math.min(end - lblk, maxLen), pblk: -1, unwritten: false };
      }
      if (i + 1 < n.eh_entries) upper = Math.min(upper, n.e[3 * (i + 1)]);
      const child = n.e[3 * i + 2];
      path ??= [];
      if (path.includes(child)) {
        throw new GuestkitError('LOOP', `extent tree of inode ${this.inode.ino} loops: block ${child} is its own ancestor`);
      }
      path.push(child);
      n = this.childNode(child, n.eh_depth - 1);
    }
    const i = search(n, lblk);
    const first = i >= 0 ? n.e[3 * i] : 0;
    const len = i >= 0 ? Math.abs(n.e[3 * i + 1]) : 0;
    if (i >= 0 && lblk < first + len) {
      const off = lblk - first;
      const start = n.e[3 * i + 2];
      if (start + len > this.ctx.sb.s_blocks_count || start < this.ctx.sb.s_first_data_block) {
        throw corrupt(
          `inode ${this.inode.ino}`,
          `extent at logical block ${first} maps blocks ${start}..${start + len - 1}, outside the filesystem (${this.ctx.sb.s_blocks_count} blocks)`,
        );
      }
      return { lblk, len: Math.min(len - off, maxLen), pblk: start + off, unwritten: n.e[3 * i + 1] < 0 };
    }
    const next = i + 1 < n.eh_entries ? Math.min(n.e[3 * (i + 1)], upper) : upper;
    return { lblk, len: Math.max(1, Math.min(next - lblk, maxLen)), pblk: -1, unwritten: false };
  }
}

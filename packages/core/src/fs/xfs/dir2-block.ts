// Block directories: one directory block holding the data entries, then the hash-sorted leaf
// array (xfs_dir2_leaf_entry) and struct xfs_dir2_block_tail {count, stale} in its last 8 bytes
// (XFS Algorithms & Data Structures, "Block Directories"; libxfs/xfs_da_format.h).

import type { Bytes } from '../../bytes.js';
import { corrupt } from '../../errors.js';
import type { XfsLeafEntry } from './dir2-leaf.js';

export interface XfsDir2BlockTail {
  count: number;
  stale: number;
  /** Offset of the leaf array, which is also where the data entries end. */
  leafStart: number;
}

export function parseBlockTail(b: Bytes, dataHdr: number, what: string): XfsDir2BlockTail {
  const count = b.u32be(b.length - 8);
  const stale = b.u32be(b.length - 4);
  const leafStart = b.length - 8 - count * 8;
  if (count > (b.length - 8 - dataHdr) / 8 || stale > count) throw corrupt(what, `block tail says ${count} leaf entries (${stale} stale)`);
  return { count, stale, leafStart };
}

export function blockLeafEntries(b: Bytes, tail: XfsDir2BlockTail): XfsLeafEntry[] {
  const out: XfsLeafEntry[] = [];
  for (let i = 0; i < tail.count; i++) out.push({ hashval: b.u32be(tail.leafStart + i * 8), address: b.u32be(tail.leafStart + i * 8 + 4) });
  return out;
}

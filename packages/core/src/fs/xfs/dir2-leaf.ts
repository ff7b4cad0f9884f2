// Directory leaf blocks: struct xfs_dir2_leaf_hdr (v4) / xfs_dir3_leaf_hdr (v5) then hash-sorted
// xfs_dir2_leaf_entry {hashval, address}. LEAF1 ('leaf' directories, one leaf block with a
// best-free tail) and LEAFN ('node' directories, the da-btree's leaves) share the layout
// (XFS Algorithms & Data Structures, "Leaf Directories", "Node Directories").

import type { Bytes } from '../../bytes.js';
import { corrupt } from '../../errors.js';

export const XFS_DIR2_LEAF1_MAGIC = 0xd2f1;
export const XFS_DIR2_LEAFN_MAGIC = 0xd2ff;
export const XFS_DIR3_LEAF1_MAGIC = 0x3df1;
export const XFS_DIR3_LEAFN_MAGIC = 0x3dff;
/** Directory addresses are 8-byte units (XFS_DIR2_DATA_ALIGN_LOG); 0 marks a stale entry. */
export const XFS_DIR2_DATA_ALIGN_LOG = 3;
export const XFS_DIR2_NULL_DATAPTR = 0;

export interface XfsLeafEntry {
  hashval: number;
  /** xfs_dir2_dataptr_t: byte offset in the directory's data space >> 3. */
  address: number;
}

export interface XfsDir2Leaf {
  magic: number;
  forw: number;
  back: number;
  entries: XfsLeafEntry[];
}

/** Magic of a da-btree block (xfs_da_blkinfo.magic, 16 bits at offset 8 in v4 and v5). */
export function daBlockMagic(b: Bytes): number {
  return b.u16be(8);
}

export function isLeafMagic(m: number): boolean {
  return m === XFS_DIR2_LEAF1_MAGIC || m === XFS_DIR2_LEAFN_MAGIC || m === XFS_DIR3_LEAF1_MAGIC || m === XFS_DIR3_LEAFN_MAGIC;
}

export function parseDir2Leaf(b: Bytes, v5: boolean, what: string): XfsDir2Leaf {
  const magic = daBlockMagic(b);
  const ok = v5 ? magic === XFS_DIR3_LEAF1_MAGIC || magic === XFS_DIR3_LEAFN_MAGIC : magic === XFS_DIR2_LEAF1_MAGIC || magic === XFS_DIR2_LEAFN_MAGIC;
  if (!ok) throw corrupt(what, `bad leaf magic 0x${magic.toString(16)}`);
  const hdr = v5 ? 64 : 16;
  const count = b.u16be(v5 ? 56 : 12);
  if (hdr + count * 8 > b.length) throw corrupt(what, `${count} leaf entries do not fit the block`);
  const entries: XfsLeafEntry[] = [];
  for (let i = 0; i < count; i++) entries.push({ hashval: b.u32be(hdr + i * 8), address: b.u32be(hdr + i * 8 + 4) });
  return { magic, forw: b.u32be(0), back: b.u32be(4), entries };
}

/** Index of the first entry with hashval >= `hash` (entries are sorted by hash). */
export function firstAtOrAbove(entries: XfsLeafEntry[], hash: number): number {
  let lo = 0, hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid].hashval < hash) lo = mid + 1; else hi = mid;
  }
  return lo;
}

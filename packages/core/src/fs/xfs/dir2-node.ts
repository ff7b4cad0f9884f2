// da-btree interior nodes, struct xfs_da_intnode (v4) / xfs_da3_intnode (v5): a header with
// count and level, then xfs_da_node_entry {hashval, before} sorted by hash. They index the leaf
// blocks of node directories and of node attribute forks (XFS Algorithms & Data Structures,
// "Node Directories", "Node Attributes"; libxfs/xfs_da_format.h).

import type { Bytes } from '../../bytes.js';
import { corrupt } from '../../errors.js';

export const XFS_DA_NODE_MAGIC = 0xfebe;
export const XFS_DA3_NODE_MAGIC = 0x3ebe;
/** CRC offset in struct xfs_da3_blkinfo; blkno at 16, uuid at 32, owner at 48. */
export const XFS_DA3_BLKINFO_CRC_OFF = 12;
/** Deepest da-btree the kernel builds (XFS_DA_NODE_MAXDEPTH). */
export const XFS_DA_NODE_MAXDEPTH = 5;

export interface XfsDaNodeEntry {
  hashval: number;
  /** da block number (in the fork's logical space) of the subtree. */
  before: number;
}

export interface XfsDaNode {
  level: number;
  forw: number;
  entries: XfsDaNodeEntry[];
}

export function isDaNodeMagic(m: number, v5: boolean): boolean {
  return m === (v5 ? XFS_DA3_NODE_MAGIC : XFS_DA_NODE_MAGIC);
}

export function parseDaNode(b: Bytes, v5: boolean, what: string): XfsDaNode {
  const magic = b.u16be(8);
  if (!isDaNodeMagic(magic, v5)) throw corrupt(what, `bad da node magic 0x${magic.toString(16)}`);
  const hdr = v5 ? 64 : 16;
  const count = b.u16be(v5 ? 56 : 12);
  const level = b.u16be(v5 ? 58 : 14);
  if (level < 1 || level > XFS_DA_NODE_MAXDEPTH) throw corrupt(what, `da node level ${level} is invalid`);
  if (count === 0 || hdr + count * 8 > b.length) throw corrupt(what, `da node has ${count} entries`);
  const entries: XfsDaNodeEntry[] = [];
  for (let i = 0; i < count; i++) entries.push({ hashval: b.u32be(hdr + i * 8), before: b.u32be(hdr + i * 8 + 4) });
  return { level, forw: b.u32be(0), entries };
}

/** The child to follow for `hash`: the first entry whose hashval >= hash, else the last. */
export function daNodeChild(n: XfsDaNode, hash: number): number {
  for (const e of n.entries) if (e.hashval >= hash) return e.before;
  return n.entries[n.entries.length - 1].before;
}

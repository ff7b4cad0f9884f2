// Directory data blocks: header struct xfs_dir2_data_hdr (v4, 'XD2D'/'XD2B') or
// xfs_dir3_data_hdr (v5, 'XDD3'/'XDB3'), then a run of xfs_dir2_data_entry (inumber, namelen,
// name, [ftype], tag) and xfs_dir2_data_unused (freetag 0xffff, length, tag) records, each
// 8-byte aligned (XFS Algorithms & Data Structures, "Block Directories", "Leaf Directories";
// libxfs/xfs_da_format.h). Used by block, leaf and node directories alike.

import type { Bytes } from '../../bytes.js';
import { corrupt } from '../../errors.js';
import type { XfsRawDirent } from './dir2-sf.js';

export const XFS_DIR2_BLOCK_MAGIC = 0x58443242; // XD2B
export const XFS_DIR2_DATA_MAGIC = 0x58443244; // XD2D
export const XFS_DIR3_BLOCK_MAGIC = 0x58444233; // XDB3
export const XFS_DIR3_DATA_MAGIC = 0x58444433; // XDD3
export const XFS_DIR2_DATA_FREE_TAG = 0xffff;
/** Header sizes: magic + bestfree[3] (v4); xfs_dir3_blk_hdr + bestfree[3] + pad (v5). */
export const XFS_DIR2_DATA_HDR_SIZE = 16;
export const XFS_DIR3_DATA_HDR_SIZE = 64;
/** Offset of the CRC in struct xfs_dir3_blk_hdr (shared by data, leaf-less and free blocks). */
export const XFS_DIR3_BLK_CRC_OFF = 4;

export interface XfsDataEntry extends XfsRawDirent {
  /** Byte offset of the entry inside its directory block. */
  offset: number;
}

/** Size of a data entry with an `namelen`-byte name (xfs_dir2_data_entsize). */
export function dataEntsize(namelen: number, hasFtype: boolean): number {
  return (8 + 1 + namelen + (hasFtype ? 1 : 0) + 2 + 7) & ~7;
}

/** Parse the entry at `off` (it must be an active entry, as leaf addresses point at). */
export function dataEntryAt(b: Bytes, off: number, end: number, hasFtype: boolean, what: string): XfsDataEntry {
  if (off < 0 || off + 12 > end || off % 8) throw corrupt(what, `entry offset ${off} is outside the data area`);
  if (b.u16be(off) === XFS_DIR2_DATA_FREE_TAG) throw corrupt(what, `entry at ${off} is unused space`);
  const inoBig = b.u64beBig(off);
  const namelen = b.u8(off + 8);
  if (namelen === 0) throw corrupt(what, `entry at ${off} has an empty name`);
  const size = dataEntsize(namelen, hasFtype);
  if (off + size > end) throw corrupt(what, `entry at ${off} (${size} bytes) runs past the data area (${end})`);
  if (b.u16be(off + size - 2) !== off) throw corrupt(what, `entry at ${off} has tag ${b.u16be(off + size - 2)}`);
  if (inoBig > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(what, `entry at ${off} has inode number ${inoBig}`);
  return {
    name: b.raw(off + 9, namelen),
    ino: Number(inoBig),
    ftype: hasFtype ? b.u8(off + 9 + namelen) : undefined,
    offset: off,
  };
}

/** Check the magic (and v5 header) of a data or block directory block; returns the header size. */
export function dataHeaderSize(b: Bytes, v5: boolean, block: boolean, what: string): number {
  const magic = b.u32be(0);
  const want = v5 ? (block ? XFS_DIR3_BLOCK_MAGIC : XFS_DIR3_DATA_MAGIC) : block ? XFS_DIR2_BLOCK_MAGIC : XFS_DIR2_DATA_MAGIC;
  if (magic !== want) throw corrupt(what, `bad magic 0x${magic.toString(16)} (expected 0x${want.toString(16)})`);
  return v5 ? XFS_DIR3_DATA_HDR_SIZE : XFS_DIR2_DATA_HDR_SIZE;
}

/** Every active entry between `start` and `end` ('.' and '..' included). */
export function* dataEntries(b: Bytes, start: number, end: number, hasFtype: boolean, what: string): Generator<XfsDataEntry> {
  let off = start;
  while (off < end) {
    if (b.u16be(off) === XFS_DIR2_DATA_FREE_TAG) {
      const len = b.u16be(off + 2);
      if (len < 8 || len % 8 || off + len > end) throw corrupt(what, `unused region at ${off} has length ${len}`);
      if (b.u16be(off + len - 2) !== off) throw corrupt(what, `unused region at ${off} has tag ${b.u16be(off + len - 2)}`);
      off += len;
      continue;
    }
    const e = dataEntryAt(b, off, end, hasFtype, what);
    yield e;
    off += dataEntsize(e.name.length, hasFtype);
  }
}

// Remote attribute values: whole filesystem blocks of the attribute fork starting at the
// entry's valueblk; on v5 every block starts with struct xfs_attr3_rmt_hdr ('XARM', offset,
// bytes, crc, uuid, owner, blkno, lsn) (XFS Algorithms & Data Structures, "Remote Attribute
// Values"; libxfs/xfs_da_format.h, xfs_attr_remote.c).

import type { Bytes } from '../../bytes.js';
import { corrupt } from '../../errors.js';

export const XFS_ATTR3_RMT_MAGIC = 0x5841524d; // 'XARM'
export const XFS_ATTR3_RMT_HDR_SIZE = 56;
export const XFS_ATTR3_RMT_CRC_OFF = 12;

/** Filesystem blocks a remote value of `valuelen` bytes occupies (xfs_attr3_rmt_blocks). */
export function rmtBlocks(valuelen: number, blocksize: number, v5: boolean): number {
  const space = blocksize - (v5 ? XFS_ATTR3_RMT_HDR_SIZE : 0);
  return Math.ceil(valuelen / space);
}

/**
 * Check one v5 remote block's header for the part of the value it should hold and return the
 * payload bytes.
 */
export function rmtBlockPayload(b: Bytes, v5: boolean, expectOffset: number, expectBytes: number, owner: number, what: string): Uint8Array {
  if (!v5) return b.raw(0, expectBytes);
  const magic = b.u32be(0);
  if (magic !== XFS_ATTR3_RMT_MAGIC) throw corrupt(what, `bad remote value magic 0x${magic.toString(16)}`);
  const offset = b.u32be(4);
  const bytes = b.u32be(8);
  if (offset !== expectOffset || bytes !== expectBytes) {
    throw corrupt(what, `remote value block holds bytes ${offset}+${bytes}, expected ${expectOffset}+${expectBytes}`);
  }
  const rmOwner = b.u64beBig(32);
  if (rmOwner !== BigInt(owner)) throw corrupt(what, `remote value block belongs to inode ${rmOwner}`);
  return b.raw(XFS_ATTR3_RMT_HDR_SIZE, bytes);
}

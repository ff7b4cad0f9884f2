// Symbolic links: the target in the data fork (XFS_DINODE_FMT_LOCAL) or in remote blocks
// mapped by the data fork; on v5 each mapped extent starts with struct xfs_dsymlink_hdr
// ('XSLM', offset, bytes, crc, uuid, owner, blkno, lsn) (XFS Algorithms & Data Structures,
// "Symbolic Links"; libxfs/xfs_format.h, xfs_symlink_remote.c).

import type { Bytes } from '../../bytes.js';
import { corrupt } from '../../errors.js';

export const XFS_SYMLINK_MAGIC = 0x58534c4d; // 'XSLM'
export const XFS_SYMLINK_HDR_SIZE = 56;
export const XFS_SYMLINK_CRC_OFF = 12;
/** Longest target (XFS_SYMLINK_MAXLEN). */
export const XFS_SYMLINK_MAXLEN = 1024;

export function checkSymlinkSize(size: number, what: string): void {
  if (size <= 0 || size > XFS_SYMLINK_MAXLEN) throw corrupt(what, `symlink length ${size} is invalid`);
}

/** Target bytes of a local symlink. */
export function localSymlink(fork: Bytes, size: number, what: string): Uint8Array {
  checkSymlinkSize(size, what);
  if (size > fork.length) throw corrupt(what, `local symlink of ${size} bytes does not fit the ${fork.length}-byte fork`);
  return fork.raw(0, size);
}

/**
 * Payload of one remote symlink extent (`b` = the extent's blocks). On v5 the header must say
 * it holds bytes [offset, offset+bytes) of inode `owner`'s target.
 */
export function remoteSymlinkPayload(b: Bytes, v5: boolean, offset: number, remaining: number, owner: number, what: string): Uint8Array {
  if (!v5) return b.raw(0, Math.min(remaining, b.length));
  const magic = b.u32be(0);
  if (magic !== XFS_SYMLINK_MAGIC) throw corrupt(what, `bad remote symlink magic 0x${magic.toString(16)}`);
  const slOffset = b.u32be(4);
  const slBytes = b.u32be(8);
  const want = Math.min(remaining, b.length - XFS_SYMLINK_HDR_SIZE);
  if (slOffset !== offset || slBytes !== want) throw corrupt(what, `remote symlink block holds bytes ${slOffset}+${slBytes}, expected ${offset}+${want}`);
  const slOwner = b.u64beBig(32);
  if (slOwner !== BigInt(owner)) throw corrupt(what, `remote symlink block belongs to inode ${slOwner}`);
  return b.raw(XFS_SYMLINK_HDR_SIZE, slBytes);
}

// ext4 linear directory entries: "Linear (Classic) Directories" in the kernel's ext4
// disk-layout documentation (Documentation/filesystems/ext4/directory.rst), struct
// ext4_dir_entry_2 and the metadata_csum leaf tail struct ext4_dir_entry_tail.

import { crc32cRaw } from '../../util/crc32c.js';
import type { FileType } from '../vfs.js';

export const EXT4_NAME_LEN = 255;
/** Fake dirent holding a leaf block's checksum: inode 0, rec_len 12, name_len 0, type 0xDE. */
export const DIR_TAIL_SIZE = 12;
const DIR_TAIL_FT = 0xde;

export const FT_NAMES: FileType[] = ['unknown', 'file', 'dir', 'chardev', 'blockdev', 'fifo', 'socket', 'symlink'];

/** EXT4_DIR_REC_LEN: space an entry with a name of `n` bytes needs. */
export function dirRecLen(n: number): number {
  return (n + 8 + 3) & ~3;
}

export interface Dirent {
  inode: number;
  recLen: number;
  nameLen: number;
  /** file_type byte (0 when the filetype feature is off). */
  fileType: number;
  /** Offset of the name in the buffer. */
  nameOff: number;
  /** Offset of the entry in the buffer. */
  off: number;
}

export interface DirParseOptions {
  blockSize: number;
  filetype: boolean;
  inodesCount: number;
}

/**
 * Walk the entries in buf[start, end), calling `visit` for each in-use entry (inode != 0)
 * until it returns true. Validation is the kernel's ext4_check_dir_entry; on the first bad
 * entry the walk stops and the returned string says what is wrong (the kernel skips the
 * rest of the block, as callers do).
 */
export function scanDirEntries(
  buf: Uint8Array,
  start: number,
  end: number,
  opts: DirParseOptions,
  visit: (inode: number, nameOff: number, nameLen: number, fileType: number, off: number, recLen: number) => boolean | void,
): string | undefined {
  let off = start;
  // Each entry is at least 12 bytes, so the loop is bounded by (end - start) / 12.
  while (off < end) {
    if (off + 8 > end) return `directory entry at offset ${off - start} is truncated`;
    const inode = (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
    let recLen = buf[off + 4] | (buf[off + 5] << 8);
    if (opts.blockSize >= 65536) {
      // ext4_rec_len_from_disk for 64 KiB blocks.
      if (recLen === 65535 || recLen === 0) recLen = opts.blockSize;
      else recLen = (recLen & 65532) | ((recLen & 3) << 16);
    }
    const nameLen = buf[off + 6];
    if (recLen < 12) return `directory entry at offset ${off - start}: rec_len ${recLen} is smaller than the minimum`;
    if (recLen % 4 !== 0) return `directory entry at offset ${off - start}: rec_len ${recLen} is not a multiple of 4`;
    if (recLen < dirRecLen(nameLen)) return `directory entry at offset ${off - start}: rec_len ${recLen} is too small for name_len ${nameLen}`;
    if (off + recLen > end) return `directory entry at offset ${off - start}: rec_len ${recLen} runs past the end of the block`;
    if (inode > opts.inodesCount) return `directory entry at offset ${off - start}: inode ${inode} is out of range`;
    if (inode !== 0) {
      if (nameLen === 0) return `directory entry at offset ${off - start}: inode ${inode} with an empty name`;
      if (visit(inode, off + 8, nameLen, opts.filetype ? buf[off + 7] : 0, off, recLen) === true) return undefined;
    }
    off += recLen;
  }
  return undefined;
}

/** All in-use entries of buf[start, end) (see scanDirEntries). */
export function parseDirEntries(buf: Uint8Array, start: number, end: number, opts: DirParseOptions, out: Dirent[]): string | undefined {
  return scanDirEntries(buf, start, end, opts, (inode, nameOff, nameLen, fileType, off, recLen) => {
    out.push({ inode, recLen, nameLen, fileType, nameOff, off });
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Node's native one-byte decoder, which takes any Uint8Array (no subarray view per name). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: (this: Uint8Array, start: number, end: number) => string }).latin1Slice;

/**
 * A name as a JS string: UTF-8 when it is valid UTF-8 (nearly always), else Latin-1 so that
 * every byte survives (lookup() accepts both spellings).
 */
export function decodeName(buf: Uint8Array, off: number, len: number): string {
  let ascii = true;
  for (let i = off; i < off + len; i++) {
    if (buf[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return latin1Slice.call(buf, off, off + len);
  try {
    return utf8.decode(buf.subarray(off, off + len));
  } catch {
    return Buffer.from(buf.buffer, buf.byteOffset + off, len).toString('latin1');
  }
}

/** The byte spellings under which `name` may be stored (see decodeName). */
export function encodeNameCandidates(name: string): Uint8Array[] {
  const out: Uint8Array[] = [Buffer.from(name, 'utf8')];
  let latin1 = false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0xff) return out;
    if (c >= 0x80) latin1 = true;
  }
  if (latin1) out.push(Buffer.from(name, 'latin1'));
  return out;
}

export function nameEquals(buf: Uint8Array, off: number, len: number, want: Uint8Array): boolean {
  if (len !== want.length) return false;
  for (let i = 0; i < len; i++) if (buf[off + i] !== want[i]) return false;
  return true;
}

/** Does this block end with a checksum tail? Returns the stored checksum or undefined. */
export function dirTailChecksum(buf: Uint8Array): number | undefined {
  const t = buf.length - DIR_TAIL_SIZE;
  if (t < 0) return undefined;
  const inode = buf[t] | (buf[t + 1] << 8) | (buf[t + 2] << 16) | (buf[t + 3] << 24);
  const recLen = buf[t + 4] | (buf[t + 5] << 8);
  if (inode !== 0 || recLen !== DIR_TAIL_SIZE || buf[t + 6] !== 0 || buf[t + 7] !== DIR_TAIL_FT) return undefined;
  return (buf[t + 8] | (buf[t + 9] << 8) | (buf[t + 10] << 16) | (buf[t + 11] << 24)) >>> 0;
}

/** Verify a leaf block's checksum (ext4_dirblock_csum_verify). undefined: no tail. */
export function verifyDirLeaf(buf: Uint8Array, inodeSeed: number): boolean | undefined {
  const want = dirTailChecksum(buf);
  if (want === undefined) return undefined;
  return crc32cRaw(inodeSeed, buf, 0, buf.length - DIR_TAIL_SIZE) === want;
}

/** Is this block an htree interior node (a fake empty entry spanning the whole block)? */
export function isDxNodeBlock(buf: Uint8Array): boolean {
  const inode = buf[0] | (buf[1] << 8) | (buf[2] << 16) | (buf[3] << 24);
  let recLen = buf[4] | (buf[5] << 8);
  if (buf.length >= 65536 && (recLen === 65535 || recLen === 0)) recLen = buf.length;
  return inode === 0 && recLen === buf.length && buf[6] === 0;
}

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

const NO_BYTES = new Uint8Array(0);

/**
 * A cursor over the entries of buf[start, end): next() moves to the next in-use entry
 * (inode != 0) and sets its fields. Validation is the kernel's ext4_check_dir_entry; at the
 * first bad entry next() returns false and `error` says what is wrong (the kernel skips the
 * rest of the block, as callers do). Each entry is at least 12 bytes, so a block takes at
 * most (end - start) / 12 steps. One cursor serves block after block (reset), with no
 * callback to allocate per block.
 */
export class DirEntryCursor {
  inode = 0;
  recLen = 0;
  nameLen = 0;
  /** file_type byte (0 when the filetype feature is off). */
  fileType = 0;
  /** Offset of the entry in the buffer; its name is at off + 8. */
  off = 0;
  /** Set when next() stopped at a bad entry. */
  error: string | undefined = undefined;
  private buf: Uint8Array = NO_BYTES;
  private start = 0;
  private end = 0;
  private next0 = 0;

  constructor(private readonly opts: DirParseOptions) {}

  reset(buf: Uint8Array, start: number, end: number): this {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.next0 = start;
    this.error = undefined;
    return this;
  }

  next(): boolean {
    const { buf, end, start } = this;
    let off = this.next0;
    while (off < end) {
      if (off + 8 > end) return this.fail(`directory entry at offset ${off - start} is truncated`);
      const inode = (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
      let recLen = buf[off + 4] | (buf[off + 5] << 8);
      if (this.opts.blockSize >= 65536) {
        // ext4_rec_len_from_disk for 64 KiB blocks.
        if (recLen === 65535 || recLen === 0) recLen = this.opts.blockSize;
        else recLen = (recLen & 65532) | ((recLen & 3) << 16);
      }
      const nameLen = buf[off + 6];
      if (recLen < 12) return this.fail(`directory entry at offset ${off - start}: rec_len ${recLen} is smaller than the minimum`);
      if (recLen % 4 !== 0) return this.fail(`directory entry at offset ${off - start}: rec_len ${recLen} is not a multiple of 4`);
      if (recLen < dirRecLen(nameLen)) return this.fail(`directory entry at offset ${off - start}: rec_len ${recLen} is too small for name_len ${nameLen}`);
      if (off + recLen > end) return this.fail(`directory entry at offset ${off - start}: rec_len ${recLen} runs past the end of the block`);
      if (inode > this.opts.inodesCount) return this.fail(`directory entry at offset ${off - start}: inode ${inode} is out of range`);
      this.next0 = off + recLen;
      if (inode !== 0) {
        if (nameLen === 0) return this.fail(`directory entry at offset ${off - start}: inode ${inode} with an empty name`);
        this.inode = inode;
        this.recLen = recLen;
        this.nameLen = nameLen;
        this.fileType = this.opts.filetype ? buf[off + 7] : 0;
        this.off = off;
        return true;
      }
      off += recLen;
    }
    return false;
  }

  private fail(why: string): false {
    this.error = why;
    this.next0 = this.end;
    return false;
  }
}

/**
 * Walk the entries in buf[start, end), calling `visit` for each in-use entry (inode != 0)
 * until it returns true (DirEntryCursor with a callback). Returns what is wrong with the
 * first bad entry, where the walk stopped.
 */
export function scanDirEntries(
  buf: Uint8Array,
  start: number,
  end: number,
  opts: DirParseOptions,
  visit: (inode: number, nameOff: number, nameLen: number, fileType: number, off: number, recLen: number) => boolean | void,
): string | undefined {
  const c = new DirEntryCursor(opts).reset(buf, start, end);
  while (c.next()) {
    if (visit(c.inode, c.off + 8, c.nameLen, c.fileType, c.off, c.recLen) === true) return undefined;
  }
  return c.error;
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

/**
 * Does the block buf[off, off + len) end with a checksum tail? Returns the stored checksum
 * or undefined.
 */
export function dirTailChecksum(buf: Uint8Array, off = 0, len = buf.length - off): number | undefined {
  const t = off + len - DIR_TAIL_SIZE;
  if (t < off) return undefined;
  const inode = buf[t] | (buf[t + 1] << 8) | (buf[t + 2] << 16) | (buf[t + 3] << 24);
  const recLen = buf[t + 4] | (buf[t + 5] << 8);
  if (inode !== 0 || recLen !== DIR_TAIL_SIZE || buf[t + 6] !== 0 || buf[t + 7] !== DIR_TAIL_FT) return undefined;
  return (buf[t + 8] | (buf[t + 9] << 8) | (buf[t + 10] << 16) | (buf[t + 11] << 24)) >>> 0;
}

/** Verify a leaf block's checksum (ext4_dirblock_csum_verify). undefined: no tail. */
export function verifyDirLeaf(buf: Uint8Array, inodeSeed: number, off = 0, len = buf.length - off): boolean | undefined {
  const want = dirTailChecksum(buf, off, len);
  if (want === undefined) return undefined;
  return crc32cRaw(inodeSeed, buf, off, off + len - DIR_TAIL_SIZE) === want;
}

/** Is the block buf[off, off + len) an htree interior node (a fake empty entry spanning it)? */
export function isDxNodeBlock(buf: Uint8Array, off = 0, len = buf.length - off): boolean {
  const inode = buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24);
  let recLen = buf[off + 4] | (buf[off + 5] << 8);
  if (len >= 65536 && (recLen === 65535 || recLen === 0)) recLen = len;
  return inode === 0 && recLen === len && buf[off + 6] === 0;
}

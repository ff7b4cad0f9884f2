// Reads for the probes: the first bytes of the device are read once and shared by every
// prober (most superblocks live in the first 68 KiB); reads elsewhere go to the device.

import type { BlockDevice } from '../block/device.js';
import { Bytes } from '../bytes.js';

/** Bytes read up front: up to the end of the btrfs superblock (64 KiB + 4 KiB). */
export const PROBE_HEAD_SIZE = 68 * 1024;

export class ProbeContext {
  readonly dev: BlockDevice;
  readonly size: number;
  private head: Uint8Array;
  /** Set when the device itself failed a read (so its error is not mistaken for a mismatch). */
  deviceError: unknown = undefined;

  constructor(dev: BlockDevice) {
    this.dev = dev;
    this.size = dev.size;
    const n = Math.min(dev.size, PROBE_HEAD_SIZE);
    this.head = new Uint8Array(n);
    if (n > 0) this.pread(this.head, 0);
  }

  private pread(buf: Uint8Array, pos: number): number {
    try {
      return this.dev.pread(buf, pos);
    } catch (e) {
      this.deviceError = e;
      throw e;
    }
  }

  /** `len` bytes at `off` named `what`, or null when the range is not inside the device. */
  read(off: number, len: number, what: string): Bytes | null {
    if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > this.size) return null;
    if (off + len <= this.head.length) return new Bytes(this.head.subarray(off, off + len), what);
    const buf = new Uint8Array(len);
    if (this.pread(buf, off) !== len) return null;
    return new Bytes(buf, what);
  }

  /** True when the bytes at `off` equal `magic`. */
  magicAt(off: number, magic: string | Uint8Array): boolean {
    const m = typeof magic === 'string' ? Buffer.from(magic, 'latin1') : magic;
    const b = this.read(off, m.length, 'magic');
    if (!b) return false;
    for (let i = 0; i < m.length; i++) if (b.buf[i] !== m[i]) return false;
    return true;
  }
}

/** blkid's label rules: the bytes up to the first NUL, trailing whitespace removed; empty → undefined. */
export function labelFromBytes(b: Uint8Array, enc: 'utf8' | 'latin1' = 'utf8'): string | undefined {
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  while (end > 0 && isSpace(b[end - 1])) end--;
  if (end === 0) return undefined;
  const raw = b.subarray(0, end);
  if (enc === 'utf8') {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      /* not UTF-8: fall through to latin1 */
    }
  }
  return Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('latin1');
}

/** UTF-16 text up to the first NUL code unit, trailing whitespace removed (ul_encode_to_utf8). */
export function labelFromUtf16(b: Uint8Array, bigEndian = false): string | undefined {
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) {
    const c = bigEndian ? (b[i] << 8) | b[i + 1] : b[i] | (b[i + 1] << 8);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  // Lone surrogates become U+FFFD, as a UTF-8 encoder would have to.
  s = s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  s = s.replace(/[ \t\n\v\f\r]+$/, '');
  return s === '' ? undefined : s;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** 16 bytes as a lower-case DCE UUID, or undefined when all zero (blkid_uuid_is_empty). */
export function uuidOrNone(b: Uint8Array): string | undefined {
  if (b.every((x) => x === 0)) return undefined;
  const h = Buffer.from(b.buffer, b.byteOffset, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

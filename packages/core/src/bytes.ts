// A bounds-checked little/big-endian view over a byte buffer. Every on-disk field is read
// through one of these so that a short or hostile structure throws CORRUPT naming itself
// instead of reading garbage or throwing a RangeError.

import { GuestkitError } from './errors.js';

export class Bytes {
  readonly buf: Uint8Array;
  readonly dv: DataView;
  /** Name of the structure, used in error messages ("qcow2 header", "GPT entry 3"). */
  readonly what: string;

  constructor(buf: Uint8Array, what: string) {
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.what = what;
  }

  get length(): number {
    return this.buf.length;
  }

  private check(off: number, len: number): void {
    if (!Number.isInteger(off) || off < 0 || off + len > this.buf.length) {
      throw new GuestkitError(
        'CORRUPT',
        `${this.what}: field at offset ${off} (+${len}) is past its end (${this.buf.length} bytes)`,
      );
    }
  }

  u8(off: number): number {
    this.check(off, 1);
    return this.buf[off];
  }
  u16le(off: number): number {
    this.check(off, 2);
    return this.dv.getUint16(off, true);
  }
  u16be(off: number): number {
    this.check(off, 2);
    return this.dv.getUint16(off, false);
  }
  u32le(off: number): number {
    this.check(off, 4);
    return this.dv.getUint32(off, true);
  }
  u32be(off: number): number {
    this.check(off, 4);
    return this.dv.getUint32(off, false);
  }
  i32le(off: number): number {
    this.check(off, 4);
    return this.dv.getInt32(off, true);
  }
  /** 64-bit value as a JS number; throws CORRUPT when it exceeds 2^53. */
  u64le(off: number): number {
    return safe(this.u64leBig(off), this.what, off);
  }
  u64be(off: number): number {
    return safe(this.u64beBig(off), this.what, off);
  }
  u64leBig(off: number): bigint {
    this.check(off, 8);
    return this.dv.getBigUint64(off, true);
  }
  u64beBig(off: number): bigint {
    this.check(off, 8);
    return this.dv.getBigUint64(off, false);
  }
  i64le(off: number): bigint {
    this.check(off, 8);
    return this.dv.getBigInt64(off, true);
  }
  /** A sub-range, bounds-checked, sharing memory. */
  slice(off: number, len: number, what = this.what): Bytes {
    this.check(off, len);
    return new Bytes(this.buf.subarray(off, off + len), what);
  }
  raw(off: number, len: number): Uint8Array {
    this.check(off, len);
    return this.buf.subarray(off, off + len);
  }
  /** Bytes as text up to the first NUL. */
  cstring(off: number, len: number, enc: 'utf8' | 'latin1' = 'utf8'): string {
    const b = this.raw(off, len);
    const nul = b.indexOf(0);
    return Buffer.from(b.buffer, b.byteOffset, nul < 0 ? len : nul).toString(enc);
  }
  utf16le(off: number, len: number): string {
    const b = this.raw(off, len);
    return Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf16le');
  }
}

function safe(v: bigint, what: string, off: number): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new GuestkitError('CORRUPT', `${what}: 64-bit field at offset ${off} is too large (${v})`);
  }
  return Number(v);
}

/** Checked allocation for a size that came from disk. */
export function allocFromDisk(size: number, what: string, limit: number): Uint8Array {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new GuestkitError('CORRUPT', `${what}: invalid size ${size}`);
  }
  if (size > limit) {
    throw new GuestkitError('LIMIT', `${what}: size ${size} exceeds the limit of ${limit} bytes`);
  }
  return new Uint8Array(size);
}

export function formatUuid(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** GUID as stored by Microsoft/UEFI (first three fields little-endian). */
export function formatGuid(b: Uint8Array): string {
  const r = (a: number, n: number) => Buffer.from(b.subarray(a, a + n)).reverse().toString('hex');
  const h = (a: number, n: number) => Buffer.from(b.subarray(a, a + n)).toString('hex');
  return `${r(0, 4)}-${r(4, 2)}-${r(6, 2)}-${h(8, 2)}-${h(10, 6)}`.toUpperCase();
}

/**
 * Little-endian fields read straight from a buffer, for parsers of fixed-size structures that
 * checked the buffer's length once (per-field checks cost a call each in code that runs for
 * every inode of a listing).
 */
export function le16(b: Uint8Array, off: number): number {
  return b[off] | (b[off + 1] << 8);
}
export function le32(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}

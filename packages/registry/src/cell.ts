// Cells: the 4-byte size (negative when allocated) and the data that fill each hive bin with no
// gaps. The map below records where every cell starts, so that an offset read from a record can
// be checked to name an allocated cell before it is followed (hivex does the same).
// Spec: msuhanov "Cell"; libregf section 3.2 "Hive bin cell".

import { Bytes, GuestkitError } from '@guestkit/core';
import { BASE_BLOCK_SIZE } from './base-block.js';
import { HBIN_ALIGN, HBIN_HEADER_SIZE, readHiveBin, type HiveBin } from './hbin.js';

/** The "no cell" offset. */
export const NO_CELL = 0xffffffff;

export interface CellMapOptions {
  /** Name of the hive in messages. */
  what: string;
  /** Stop on structural damage instead of skipping the damaged bin with a warning. */
  strict: boolean;
  warn: (message: string) => void;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** What the structure parsers need from a hive: checked access to allocated cells. */
export interface CellSource {
  /** Name of the hive in messages. */
  readonly what: string;
  data(rel: number, what: string): Bytes;
}

export class CellMap implements CellSource {
  readonly buf: Uint8Array;
  readonly dv: DataView;
  readonly bins: HiveBin[] = [];
  /** File offset where the hive bins data ends (clamped to the file). */
  readonly end: number;
  /** One bit per 4 bytes of the file: a cell starts here / an allocated cell starts here. */
  private readonly starts: Uint8Array;
  private readonly used: Uint8Array;
  readonly what: string;
  /** A bin or cell was skipped as damaged (unsafe open). */
  damaged = false;

  constructor(buf: Uint8Array, hiveBinsDataSize: number, opts: CellMapOptions) {
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.what = opts.what;
    let end = BASE_BLOCK_SIZE + hiveBinsDataSize;
    if (hiveBinsDataSize % HBIN_ALIGN !== 0) {
      const m = `${opts.what}: hive bins data size ${hiveBinsDataSize} is not a multiple of 4096`;
      if (opts.strict) throw new GuestkitError('CORRUPT', m);
      opts.warn(m);
    }
    if (end > buf.length) {
      const m = `${opts.what}: the file is truncated: hive bins data should end at ${hex(end)}, the file is ${buf.length} bytes`;
      if (opts.strict) throw new GuestkitError('CORRUPT', m);
      opts.warn(m);
      end = buf.length - (buf.length % HBIN_ALIGN);
    }
    this.end = end;
    this.starts = new Uint8Array((end >>> 5) + 1);
    this.used = new Uint8Array((end >>> 5) + 1);
    this.scan(opts);
  }

  private scan(opts: CellMapOptions): void {
    const { buf, dv } = this;
    let off = BASE_BLOCK_SIZE;
    // Every iteration advances by at least 4096 bytes: bounded by the file size.
    while (off < this.end) {
      const bin = readHiveBin(buf, off, this.end);
      if (typeof bin === 'string') {
        const m = `${opts.what}: hbin at file offset ${hex(off)}: ${bin}`;
        if (opts.strict) throw new GuestkitError('CORRUPT', m);
        this.damaged = true;
        let next = off + HBIN_ALIGN;
        while (next < this.end && typeof readHiveBin(buf, next, this.end) === 'string') next += HBIN_ALIGN;
        opts.warn(`${m}; skipped ${next - off} bytes (keys and values stored there are lost)`);
        off = next;
        continue;
      }
      this.bins.push(bin);
      const binEnd = off + bin.size;
      let p = off + HBIN_HEADER_SIZE;
      while (p < binEnd) {
        const raw = dv.getInt32(p, true);
        const size = Math.abs(raw);
        let bad: string | null = null;
        if (size < 8 || size % 4 !== 0) bad = `cell at ${hex(p - BASE_BLOCK_SIZE)} has an invalid size ${raw}`;
        else if (p + size > binEnd) {
          bad = `cell at ${hex(p - BASE_BLOCK_SIZE)} (size ${size}) runs past the end of its hbin at ${hex(bin.offset)} (which ends at ${hex(bin.offset + bin.size)})`;
        }
        if (bad) {
          const m = `${opts.what}: ${bad}`;
          if (opts.strict) throw new GuestkitError('CORRUPT', m);
          this.damaged = true;
          opts.warn(`${m}; the rest of the hbin is skipped`);
          break;
        }
        const bit = p >>> 2;
        this.starts[bit >>> 3] |= 1 << (bit & 7);
        if (raw < 0) this.used[bit >>> 3] |= 1 << (bit & 7);
        p += size;
      }
      off = binEnd;
    }
  }

  /** Is `rel` (an offset relative to the hive bins data) the start of an allocated cell? */
  isAllocated(rel: number): boolean {
    if (rel % 4 !== 0) return false;
    const f = rel + BASE_BLOCK_SIZE;
    if (f >= this.end) return false;
    const bit = f >>> 2;
    return (this.used[bit >>> 3] & (1 << (bit & 7))) !== 0;
  }

  /** Why `rel` is not an allocated cell, for error messages. */
  private badReason(rel: number): string {
    const f = rel + BASE_BLOCK_SIZE;
    if (rel === NO_CELL) return 'is unset (0xffffffff)';
    if (f >= this.end || rel < 0) return `(${hex(rel)}) points outside the hive bins data (${hex(this.end - BASE_BLOCK_SIZE)} bytes)`;
    if (rel % 4 !== 0) return `(${hex(rel)}) is not aligned to a cell`;
    const bit = f >>> 2;
    if ((this.starts[bit >>> 3] & (1 << (bit & 7))) === 0) return `(${hex(rel)}) points into the middle of a cell or into a damaged bin`;
    return `(${hex(rel)}) points to a free cell`;
  }

  /** Data of the allocated cell at `rel` (without its size field); `what` names the reference. */
  data(rel: number, what: string): Bytes {
    if (!this.isAllocated(rel)) throw new GuestkitError('CORRUPT', `${this.what}: ${what} ${this.badReason(rel)}`);
    const f = rel + BASE_BLOCK_SIZE;
    const size = -this.dv.getInt32(f, true);
    return new Bytes(this.buf.subarray(f + 4, f + size), `${this.what}: ${what} at ${hex(rel)}`);
  }

  /** Data of the allocated cell at `rel` as raw bytes (the hot path of value data: no Bytes view). */
  raw(rel: number, what: string): Uint8Array {
    if (!this.isAllocated(rel)) throw new GuestkitError('CORRUPT', `${this.what}: ${what} ${this.badReason(rel)}`);
    const f = rel + BASE_BLOCK_SIZE;
    return this.buf.subarray(f + 4, f - this.dv.getInt32(f, true));
  }

  /** Two-byte record signature of the allocated cell at `rel` ("nk", "lh"...), or null. */
  signature(rel: number): string | null {
    if (!this.isAllocated(rel)) return null;
    const f = rel + BASE_BLOCK_SIZE;
    if (-this.dv.getInt32(f, true) < 6) return null;
    return String.fromCharCode(this.buf[f + 4], this.buf[f + 5]);
  }
}

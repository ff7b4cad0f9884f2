// LZO1X decompression (the stream format as Linux's lzo1x_decompress_safe() understands it:
// kernel Documentation/staging/lzo.rst, version 0 streams) and btrfs's framing of it (btrfs
// fs/btrfs/lzo.c, "Btrfs LZO compression format"): a LE32 total length (header included),
// then segments, each a LE32 length and that many bytes of LZO1X data decompressing to at most
// one sector; a segment header never crosses a sector boundary (up to 3 zero bytes of padding
// are skipped). Every read and copy is bounds-checked; a bad stream is CORRUPT.

import { GuestkitError } from '../../errors.js';

/** lzo1x_worst_compress(n) = n + n/16 + 64 + 3: the largest segment for `n` bytes of output. */
export function lzo1xWorstCompress(n: number): number {
  return n + Math.floor(n / 16) + 64 + 3;
}

/**
 * Decompress one LZO1X stream `src` into `out` starting at `outPos`, writing at most up to
 * `outEnd`. Returns the new output position.
 */
export function lzo1xDecompress(src: Uint8Array, out: Uint8Array, outPos: number, outEnd: number, what: string): number {
  const bad = (d: string) => new GuestkitError('CORRUPT', `${what}: LZO data ${d}`);
  const start = outPos;
  let ip = 0;
  let op = outPos;
  const n = src.length;
  const need = (k: number) => {
    if (ip + k > n) throw bad(`is truncated (input overrun at ${ip})`);
  };
  const literals = (k: number) => {
    need(k);
    if (op + k > outEnd) throw bad(`decompresses past the end of its output (${outEnd - start} bytes)`);
    out.set(src.subarray(ip, ip + k), op);
    ip += k;
    op += k;
  };
  const match = (dist: number, len: number) => {
    if (dist > op - start) throw bad(`refers back ${dist} bytes with only ${op - start} decompressed (lookbehind overrun)`);
    if (op + len > outEnd) throw bad(`decompresses past the end of its output (${outEnd - start} bytes)`);
    let from = op - dist;
    for (let i = 0; i < len; i++) out[op++] = out[from++];
  };
  /** Variable-length count: `base` when the field is 0, plus 255 per zero byte plus the next byte. */
  const longLen = (base: number) => {
    let len = base;
    for (;;) {
      need(1);
      const b = src[ip++];
      if (b !== 0) return len + b;
      len += 255;
    }
  };

  need(1);
  let state = 0;
  if (src[0] > 17) {
    const t = src[ip++] - 17;
    literals(t);
    state = t < 4 ? t : 4;
  }
  for (;;) {
    need(1);
    const t = src[ip++];
    let dist: number;
    let len: number;
    let s: number;
    if (t < 16) {
      if (state === 0) {
        len = (t === 0 ? longLen(15) : t) + 3;
        literals(len);
        state = 4;
        continue;
      }
      need(1);
      if (state < 4) {
        dist = (src[ip++] << 2) + ((t >> 2) & 3) + 1;
        len = 2;
      } else {
        dist = (src[ip++] << 2) + ((t >> 2) & 3) + 2049;
        len = 3;
      }
      s = t & 3;
    } else if (t < 32) {
      len = ((t & 7) === 0 ? longLen(7) : t & 7) + 2;
      need(2);
      const le16 = src[ip] | (src[ip + 1] << 8);
      ip += 2;
      dist = 16384 + ((t & 8) << 11) + (le16 >> 2);
      if (dist === 16384) return op; // end of stream
      s = le16 & 3;
    } else if (t < 64) {
      len = ((t & 31) === 0 ? longLen(31) : t & 31) + 2;
      need(2);
      const le16 = src[ip] | (src[ip + 1] << 8);
      ip += 2;
      dist = (le16 >> 2) + 1;
      s = le16 & 3;
    } else {
      need(1);
      len = t < 128 ? 3 + ((t >> 5) & 1) : 5 + ((t >> 5) & 3);
      dist = (src[ip++] << 3) + ((t >> 2) & 7) + 1;
      s = t & 3;
    }
    match(dist, len);
    literals(s);
    state = s;
  }
}

/**
 * Decompress a btrfs LZO extent (regular or inline) of `src` into `out` (its length is the
 * extent's ram_bytes). Returns the bytes produced.
 */
export function btrfsLzoDecompress(src: Uint8Array, out: Uint8Array, sectorSize: number, what: string): number {
  const bad = (d: string) => new GuestkitError('CORRUPT', `${what}: btrfs LZO extent ${d}`);
  const le32 = (p: number) => (src[p] | (src[p + 1] << 8) | (src[p + 2] << 16) | (src[p + 3] << 24)) >>> 0;
  if (src.length < 4) throw bad('is shorter than its header');
  const total = le32(0);
  if (total < 4 || total > src.length) throw bad(`records ${total} bytes of compressed data, ${src.length} are stored`);
  const maxSeg = lzo1xWorstCompress(sectorSize);
  let cur = 4;
  let op = 0;
  while (cur < total && op < out.length) {
    const left = sectorSize - (cur % sectorSize);
    if (left < 4) {
      cur += left;
      if (cur >= total) break;
    }
    if (cur + 4 > total) throw bad(`segment header at ${cur} runs past the data`);
    const seg = le32(cur);
    cur += 4;
    if (seg === 0 || seg > maxSeg) throw bad(`segment at ${cur - 4} has an invalid length ${seg}`);
    if (cur + seg > total) throw bad(`segment at ${cur - 4} (${seg} bytes) runs past the data`);
    op = lzo1xDecompress(src.subarray(cur, cur + seg), out, op, Math.min(out.length, op + sectorSize), `${what} segment at ${cur - 4}`);
    cur += seg;
  }
  return op;
}

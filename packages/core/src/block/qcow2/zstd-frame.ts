// Zstandard frame layout (RFC 8878, section 3.1: frames, frame header, block headers), walked
// without decoding so that a qcow2 compressed cluster can be cut into whole frames and its
// output bounded before any decoder allocates for it.

import { GuestkitError } from '../../errors.js';

export const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50..0x184D2A5F. */
export const ZSTD_SKIPPABLE_MASK = 0xfffffff0;
export const ZSTD_SKIPPABLE_MAGIC = 0x184d2a50;
/** Block_Maximum_Size is min(Window_Size, 128 KiB). */
export const ZSTD_BLOCK_MAX = 128 * 1024;

export interface ZstdFrame {
  /** Offset just past the frame (past its checksum, if any). */
  end: number;
  skippable: boolean;
  /** Window_Size from the header (Frame_Content_Size for single-segment frames). */
  windowSize: number;
  /** Frame_Content_Size, when the header records it. */
  contentSize?: number;
}

function u32le(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

function uintLe(b: Uint8Array, p: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[p + i];
  return v;
}

/** Walk the frame that starts at `off` in `b`; throws CORRUPT naming `what` if it is malformed or cut short. */
export function walkZstdFrame(b: Uint8Array, off: number, what: string): ZstdFrame {
  const bad = (detail: string) => new GuestkitError('CORRUPT', `${what}: zstd frame at ${off}: ${detail}`);
  if (off + 4 > b.length) throw bad('truncated magic');
  const magic = u32le(b, off);
  if ((magic & ZSTD_SKIPPABLE_MASK) >>> 0 === ZSTD_SKIPPABLE_MAGIC) {
    if (off + 8 > b.length) throw bad('truncated skippable frame');
    const end = off + 8 + u32le(b, off + 4);
    if (end > b.length) throw bad('skippable frame runs past the compressed data');
    return { end, skippable: true, windowSize: 0 };
  }
  if (magic !== ZSTD_MAGIC) throw bad(`bad magic 0x${magic.toString(16)}`);
  let p = off + 4;
  if (p + 1 > b.length) throw bad('truncated header');
  const fhd = b[p++];
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  if ((fhd >> 3) & 1) throw bad('reserved header bit set');
  const hasChecksum = (fhd >> 2) & 1;
  const dictIdSize = [0, 1, 2, 4][fhd & 3];
  let windowSize = 0;
  if (!singleSegment) {
    if (p + 1 > b.length) throw bad('truncated header');
    const wd = b[p++];
    const base = 2 ** (10 + (wd >> 3));
    windowSize = base + (base / 8) * (wd & 7);
  }
  if (p + dictIdSize > b.length) throw bad('truncated header');
  const dictId = uintLe(b, p, dictIdSize);
  p += dictIdSize;
  if (dictId !== 0) throw bad(`needs dictionary ${dictId}, which qcow2 never uses`);
  const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag];
  let contentSize: number | undefined;
  if (fcsSize) {
    if (p + fcsSize > b.length) throw bad('truncated header');
    contentSize = uintLe(b, p, fcsSize) + (fcsSize === 2 ? 256 : 0);
    p += fcsSize;
  }
  if (singleSegment) windowSize = contentSize!;
  const blockMax = Math.min(windowSize, ZSTD_BLOCK_MAX);
  // Every block header is 3 bytes, so this loop ends within (length - off) / 3 steps.
  for (;;) {
    if (p + 3 > b.length) throw bad('truncated block header');
    const bh = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16);
    p += 3;
    const last = bh & 1;
    const type = (bh >> 1) & 3;
    const size = bh >>> 3;
    if (type === 3) throw bad('reserved block type');
    if (size > blockMax) throw bad(`block of ${size} bytes exceeds the block maximum ${blockMax}`);
    p += type === 1 ? 1 : size;
    if (p > b.length) throw bad('block runs past the compressed data');
    if (last) break;
  }
  if (hasChecksum) p += 4;
  if (p > b.length) throw bad('truncated checksum');
  return { end: p, skippable: false, windowSize, contentSize };
}

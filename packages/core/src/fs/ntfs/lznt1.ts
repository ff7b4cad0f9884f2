// LZNT1 decompression, libfwnt "Windows NT compression methods" §LZNT1 (referenced by
// libfsntfs §8.2): chunks of at most 4,096 uncompressed bytes, each with a 2-byte header
// (size - 1 in 12 bits, compressed flag in bit 15), tag bytes of 8 literal/tuple flags, and
// tuples whose offset/length split depends on the position in the chunk.

import { GuestkitError } from '../../errors.js';

export const LZNT1_CHUNK_SIZE = 4096;

/**
 * Decompress `src` into `dst` (a whole compression unit). Returns the number of bytes produced;
 * the caller zero-fills the rest, as NTFS does for a short last chunk. A chunk that overruns its
 * input, or a back reference before the start of its chunk, is CORRUPT naming `what`.
 */
export function lznt1Decompress(src: Uint8Array, dst: Uint8Array, what: string): number {
  let i = 0;
  let o = 0;
  let chunkIndex = 0;
  while (i + 2 <= src.length && o < dst.length) {
    const header = src[i] | (src[i + 1] << 8);
    if (header === 0) break;
    const size = (header & 0x0fff) + 1;
    const chunkStart = i + 2;
    const chunkEnd = chunkStart + size;
    if (chunkEnd > src.length) {
      throw new GuestkitError('CORRUPT', `${what}: LZNT1 chunk ${chunkIndex} (${size} bytes at ${i}) runs past the compressed data (${src.length} bytes)`);
    }
    const outStart = o;
    const outEnd = Math.min(dst.length, outStart + LZNT1_CHUNK_SIZE);
    i = chunkStart;
    if ((header & 0x8000) === 0) {
      // Stored chunk.
      const n = Math.min(size, outEnd - o);
      dst.set(src.subarray(i, i + n), o);
      o += n;
      i = chunkEnd;
    } else {
      while (i < chunkEnd) {
        const tag = src[i++];
        for (let bit = 0; bit < 8 && i < chunkEnd; bit++) {
          if ((tag & (1 << bit)) === 0) {
            if (o >= outEnd) throw new GuestkitError('CORRUPT', `${what}: LZNT1 chunk ${chunkIndex} decompresses past ${LZNT1_CHUNK_SIZE} bytes`);
            dst[o++] = src[i++];
            continue;
          }
          if (i + 2 > chunkEnd) throw new GuestkitError('CORRUPT', `${what}: LZNT1 chunk ${chunkIndex}: truncated back reference at ${i}`);
          const tuple = src[i] | (src[i + 1] << 8);
          i += 2;
          const pos = o - outStart;
          let lengthBits = 12;
          for (let k = pos - 1; k >= 0x10; k >>= 1) lengthBits--;
          const back = (tuple >>> lengthBits) + 1;
          const length = (tuple & ((1 << lengthBits) - 1)) + 3;
          if (back > pos) {
            throw new GuestkitError('CORRUPT', `${what}: LZNT1 chunk ${chunkIndex}: back reference ${back} bytes before position ${pos} of the chunk`);
          }
          if (o + length > outEnd) throw new GuestkitError('CORRUPT', `${what}: LZNT1 chunk ${chunkIndex} decompresses past ${LZNT1_CHUNK_SIZE} bytes`);
          for (let k = 0; k < length; k++, o++) dst[o] = dst[o - back];
        }
      }
      // A compressed chunk shorter than 4 KiB that is not the last one: the rest is zeros.
      const more = i + 2 <= src.length && (src[i] | (src[i + 1] << 8)) !== 0;
      if (more && o < outEnd) {
        dst.fill(0, o, outEnd);
        o = outEnd;
      }
    }
    chunkIndex++;
  }
  return o;
}

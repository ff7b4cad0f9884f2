// Compressed extents (btrfs docs, "Compression"): zlib (a zlib stream, RFC 1950), lzo (btrfs
// framing, lzo.ts) and zstd (zstd frames, RFC 8878) — an extent decompresses to ram_bytes
// (at most 128 KiB for regular extents, one sector for inline ones). Output shorter than
// ram_bytes from a stream that ends cleanly is zero-filled, as the kernel leaves the rest of
// the pages zeroed; a stream that does not decode is CORRUPT.

import { constants as zc, inflateSync } from 'node:zlib';
import { Decompress } from 'fzstd';
import { GuestkitError } from '../../errors.js';
import { walkZstdFrame } from '../../block/qcow2/zstd-frame.js';
import { BTRFS_COMPRESS_LZO, BTRFS_COMPRESS_ZLIB, BTRFS_COMPRESS_ZSTD, compressionName } from './extent-data.js';
import { btrfsLzoDecompress } from './lzo.js';

/** BTRFS_MAX_UNCOMPRESSED / BTRFS_MAX_COMPRESSED: the largest compressed extent btrfs writes. */
export const BTRFS_MAX_COMPRESSED = 128 * 1024;

class OutputFull {}

/** Decompress `src` (compression type `type`) into a new buffer of `ramBytes` bytes. */
export function decompressExtent(type: number, src: Uint8Array, ramBytes: number, sectorSize: number, what: string): Uint8Array {
  if (ramBytes > BTRFS_MAX_COMPRESSED || src.length > BTRFS_MAX_COMPRESSED + sectorSize) {
    throw new GuestkitError('CORRUPT', `${what}: ${compressionName(type)} extent of ${src.length} bytes claims ${ramBytes} bytes decompressed (btrfs writes at most ${BTRFS_MAX_COMPRESSED})`);
  }
  const out = new Uint8Array(ramBytes);
  switch (type) {
    case BTRFS_COMPRESS_ZLIB: inflate(src, out, what); break;
    case BTRFS_COMPRESS_LZO: btrfsLzoDecompress(src, out, sectorSize, what); break;
    case BTRFS_COMPRESS_ZSTD: unzstd(src, out, what); break;
    default: throw new GuestkitError('UNSUPPORTED', `${what}: compression type ${type} is not supported`);
  }
  return out;
}

function inflate(src: Uint8Array, out: Uint8Array, what: string): void {
  let r: Buffer;
  try {
    r = inflateSync(src, { maxOutputLength: Math.max(out.length, 1), chunkSize: Math.max(out.length, zc.Z_MIN_CHUNK) });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE') {
      throw new GuestkitError('CORRUPT', `${what}: zlib data inflates to more than the extent's ${out.length} bytes`);
    }
    throw new GuestkitError('CORRUPT', `${what}: zlib data does not inflate (${err.message ?? String(e)})`);
  }
  out.set(r.subarray(0, out.length));
}

function unzstd(src: Uint8Array, out: Uint8Array, what: string): void {
  let inPos = 0;
  let outPos = 0;
  while (outPos < out.length && inPos < src.length) {
    // Sector padding after the last frame is zeros.
    if (inPos > 0 && src.subarray(inPos).every((x) => x === 0)) break;
    const f = walkZstdFrame(src, inPos, what);
    const frame = src.subarray(inPos, f.end);
    inPos = f.end;
    if (f.skippable) continue;
    if (f.windowSize > 8 * 1024 * 1024) {
      throw new GuestkitError('CORRUPT', `${what}: zstd window of ${f.windowSize} bytes is larger than btrfs uses`);
    }
    const d = new Decompress((chunk: Uint8Array) => {
      const n = Math.min(chunk.length, out.length - outPos);
      out.set(n === chunk.length ? chunk : chunk.subarray(0, n), outPos);
      outPos += n;
      if (outPos === out.length) throw new OutputFull();
    });
    try {
      d.push(frame, true);
    } catch (e) {
      if (e instanceof OutputFull) break;
      throw new GuestkitError('CORRUPT', `${what}: zstd data does not decompress (${(e as Error).message ?? e})`);
    }
  }
  if (outPos === 0 && out.length > 0) throw new GuestkitError('CORRUPT', `${what}: zstd data holds no frame`);
}

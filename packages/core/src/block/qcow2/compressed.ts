// qcow2 compressed clusters: QEMU docs/interop/qcow2.txt, "Compressed Clusters Descriptor"
// and the header's compression_type (0: zlib raw deflate, 1: zstd). Decompression stops when
// it has produced one cluster, as QEMU's does; output is never larger than a cluster.

import { constants as zc, inflateRawSync, type ZlibOptions } from 'node:zlib';
import { Decompress } from 'fzstd';
import { GuestkitError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { COMPRESSION_ZLIB, COMPRESSION_ZSTD } from './header.js';
import { walkZstdFrame } from './zstd-frame.js';
import { inflateOnWorker, inflatePoolStarted, inflateWorkers } from './inflate-pool.js';

/** Until the pool runs, fewer compressed clusters than this in a batch are inflated here. */
export const MIN_PARALLEL_CLUSTERS = 4;

/** A compressed cluster read from the file, waiting to be decompressed into `out`. */
export interface PendingCluster {
  src: Uint8Array;
  out: Uint8Array;
  what: string;
}

/** Compressed data is counted in 512-byte sectors. */
export const COMPRESSED_SECTOR_SIZE = 512;

export interface CompressedDescriptor {
  /** Host offset of the compressed data (not aligned). */
  offset: number;
  /** Bytes from `offset` to the end of the last sector that holds the data. */
  size: number;
}

/**
 * Decode a compressed cluster descriptor (bits 0-61 of an L2 entry, given as the entry's
 * big-endian halves): x = 62 - (cluster_bits - 8) bits of host offset, then the number of
 * additional 512-byte sectors.
 */
export function compressedDescriptor(hi: number, lo: number, clusterBits: number): CompressedDescriptor {
  const x = 62 - (clusterBits - 8); // 49 (2 MiB clusters) .. 61 (512 B clusters), always > 32
  const hiOffsetBits = x - 32;
  const offset = (hi & (2 ** hiOffsetBits - 1)) * 2 ** 32 + (lo >>> 0);
  const sectorsMask = 2 ** (clusterBits - 8) - 1;
  const nbSectors = ((hi >>> hiOffsetBits) & sectorsMask) + 1;
  return { offset, size: nbSectors * COMPRESSED_SECTOR_SIZE - (offset % COMPRESSED_SECTOR_SIZE) };
}

function inflateError(e: { code?: string; message?: string } | unknown, clusterSize: number, what: string): GuestkitError {
  if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
    return new GuestkitError('CORRUPT', `${what}: deflate data inflates to more than a cluster (${clusterSize} bytes)`);
  }
  return new GuestkitError('CORRUPT', `${what}: deflate data does not inflate (${(e as Error).message ?? String(e)})`);
}

/** A cluster inflates to exactly a cluster; copy it into `out`. */
function checkInflated(r: Uint8Array, out: Uint8Array, what: string): void {
  if (r.length !== out.length) {
    throw new GuestkitError('CORRUPT', `${what}: deflate data inflates to ${r.length} bytes, not a cluster (${out.length})`);
  }
  out.set(r);
}

/** Thrown inside the zstd output callback to stop decoding once a cluster is full. */
class OutputFull {}

export class ClusterDecompressor {
  /** Worker that gets the next batch (round robin). */
  private nextWorker = 0;

  constructor(
    readonly compressionType: number,
    readonly clusterSize: number,
  ) {
    if (compressionType !== COMPRESSION_ZLIB && compressionType !== COMPRESSION_ZSTD) {
      throw new GuestkitError('UNSUPPORTED', `qcow2 compression type ${compressionType} is not supported (zlib and zstd are)`);
    }
  }

  /** Decompress `src` into `out` (exactly one cluster). `what` names the cluster in errors. */
  decompress(src: Uint8Array, out: Uint8Array, what: string): void {
    if (this.compressionType === COMPRESSION_ZLIB) this.inflate(src, out, what);
    else this.unzstd(src, out, what);
  }

  /**
   * Decompress a batch of clusters, several at a time on the inflate worker pool when it is
   * worth it (zlib, and at least MIN_PARALLEL_CLUSTERS or the pool already running), else
   * here. Same checks and errors as decompress(). The sources' buffers may be transferred
   * away (unusable afterwards).
   */
  async decompressBatch(items: PendingCluster[]): Promise<void> {
    if (this.compressionType !== COMPRESSION_ZLIB || (items.length < MIN_PARALLEL_CLUSTERS && !inflatePoolStarted())) {
      for (const it of items) this.decompress(it.src, it.out, it.what);
      return;
    }
    // Batches of at least two clusters, on the next workers in turn.
    const workers = Math.min(inflateWorkers(), Math.ceil(items.length / 2));
    const per = Math.ceil(items.length / workers);
    const batches: Promise<void>[] = [];
    for (let w = 0; w < workers; w++) {
      const part = items.slice(w * per, (w + 1) * per);
      if (part.length === 0) continue;
      batches.push(
        inflateOnWorker(this.nextWorker++, part.map((it) => it.src), this.clusterSize).then((results) => {
          part.forEach((it, i) => {
            const r = results[i];
            if (!(r instanceof Uint8Array)) throw inflateError(r, it.out.length, it.what);
            checkInflated(r, it.out, it.what);
          });
        }),
      );
    }
    await Promise.all(batches);
  }

  // Z_SYNC_FLUSH: data that ends without a final block is not an error by itself, the length
  // check decides (QEMU accepts a stream that fills the cluster).
  private inflateOptions(out: Uint8Array): ZlibOptions {
    return { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: out.length, chunkSize: Math.max(out.length, zc.Z_MIN_CHUNK) };
  }

  private inflate(src: Uint8Array, out: Uint8Array, what: string): void {
    let r: Buffer;
    try {
      r = inflateRawSync(src, this.inflateOptions(out));
    } catch (e) {
      throw inflateError(e, out.length, what);
    }
    checkInflated(r, out, what);
  }

  private unzstd(src: Uint8Array, out: Uint8Array, what: string): void {
    let inPos = 0;
    let outPos = 0;
    // Frames follow each other until the cluster is full; each consumes input, so this ends.
    while (outPos < out.length) {
      if (inPos >= src.length) {
        throw new GuestkitError('CORRUPT', `${what}: zstd data ends after ${outPos} of ${out.length} bytes`);
      }
      const f = walkZstdFrame(src, inPos, what);
      const frame = src.subarray(inPos, f.end);
      inPos = f.end;
      if (f.skippable) continue;
      if (f.windowSize > LIMITS.maxAlloc) {
        throw new GuestkitError('LIMIT', `${what}: zstd window of ${f.windowSize} bytes exceeds the limit of ${LIMITS.maxAlloc}`);
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
  }
}

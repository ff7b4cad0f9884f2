// The File Allocation Table (Microsoft FAT spec v1.03, section 4: FAT Data Structure):
// 12-, 16- or 28-bit entries, one per cluster; cluster chains, end-of-chain and bad-cluster
// marks. Read on demand through a small bounded cache of FAT blocks.

import type { BlockDevice } from '../../block/device.js';
import { readExact } from '../../block/device.js';
import { GuestkitError } from '../../errors.js';
import type { Bpb, FatType } from './bpb.js';

/** Bytes of FAT read and cached at a time (a multiple of 4 and of 3: FAT16/32 entries and FAT12
 * entry pairs never straddle two blocks). */
export const FAT_BLOCK_BYTES = 48 * 1024;
/** FAT blocks kept in memory (48 KiB each: 3 MiB). */
export const FAT_CACHE_BLOCKS = 64;
/** Bytes of FAT compared with zeros at once when counting free clusters (a multiple of 3 and 4:
 * 1024 FAT12, 768 FAT16 or 384 FAT32 entries; FAT_BLOCK_BYTES is a multiple of it). */
export const ZERO_RUN_BYTES = 1536;
const ZERO_RUN = Buffer.alloc(ZERO_RUN_BYTES);
const ZERO_BLOCK = Buffer.alloc(FAT_BLOCK_BYTES);
/** The first data cluster number (entries 0 and 1 are reserved). */
export const FIRST_CLUSTER = 2;

/** What a FAT entry says about the next cluster. */
export type FatEntryKind = 'free' | 'next' | 'eoc' | 'bad' | 'reserved';

export class FatTable {
  readonly type: FatType;
  /** Number of entries that map data clusters: clusters 2 .. maxCluster-1. */
  readonly maxCluster: number;
  private readonly start: number;
  private readonly bytes: number;
  private readonly cache = new Map<number, Uint8Array>();
  private readonly eocMin: number;
  private readonly badMark: number;

  constructor(
    private readonly dev: BlockDevice,
    bpb: Bpb,
    readonly what: string,
  ) {
    this.type = bpb.fatType;
    this.start = bpb.rsvdSecCnt * bpb.bytsPerSec;
    this.bytes = bpb.fatSz * bpb.bytsPerSec;
    // Entries the FAT region can hold; Linux clamps the cluster count to it (fat_fill_super).
    const fatEntries = Math.floor((this.bytes * 8) / this.type);
    if (fatEntries < FIRST_CLUSTER + 1) {
      throw new GuestkitError('CORRUPT', `${what}: the FAT (${this.bytes} bytes) has no room for any cluster`);
    }
    this.maxCluster = Math.min(bpb.countOfClusters, fatEntries - FIRST_CLUSTER) + FIRST_CLUSTER;
    this.eocMin = this.type === 12 ? 0xff8 : this.type === 16 ? 0xfff8 : 0x0ffffff8;
    this.badMark = this.eocMin - 1;
  }

  /** Count of data clusters (statfs f_blocks). */
  get clusterCount(): number {
    return this.maxCluster - FIRST_CLUSTER;
  }

  private block(index: number): Uint8Array {
    let blk = this.cache.get(index);
    if (blk) {
      // Refresh its place in the LRU order.
      this.cache.delete(index);
      this.cache.set(index, blk);
      return blk;
    }
    const off = index * FAT_BLOCK_BYTES;
    const len = Math.min(FAT_BLOCK_BYTES, this.bytes - off);
    blk = readExact(this.dev, this.start + off, len, `${this.what} block at byte ${off}`);
    if (this.cache.size >= FAT_CACHE_BLOCKS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(index, blk);
    return blk;
  }

  private byteAt(off: number): number {
    const blk = this.block(Math.floor(off / FAT_BLOCK_BYTES));
    return blk[off % FAT_BLOCK_BYTES];
  }

  /** The raw entry for `cluster` (28 bits on FAT32: the top 4 bits are reserved). */
  entry(cluster: number): number {
    if (!Number.isInteger(cluster) || cluster < 0 || cluster >= this.maxCluster) {
      throw new GuestkitError('CORRUPT', `${this.what}: cluster ${cluster} is outside the FAT (clusters 2-${this.maxCluster - 1})`);
    }
    switch (this.type) {
      case 12: {
        // Section 4.1: 1.5 bytes per entry; odd clusters take the high 12 bits.
        const off = cluster + (cluster >> 1);
        const v = this.byteAt(off) | (this.byteAt(off + 1) << 8);
        return cluster & 1 ? v >> 4 : v & 0xfff;
      }
      case 16: {
        const off = cluster * 2;
        return this.byteAt(off) | (this.byteAt(off + 1) << 8);
      }
      case 32: {
        const off = cluster * 4;
        const blk = this.block(Math.floor(off / FAT_BLOCK_BYTES));
        const o = off % FAT_BLOCK_BYTES;
        return (blk[o] | (blk[o + 1] << 8) | (blk[o + 2] << 16) | (blk[o + 3] << 24)) & 0x0fffffff;
      }
    }
  }

  kind(value: number): FatEntryKind {
    if (value === 0) return 'free';
    if (value >= this.eocMin) return 'eoc';
    if (value === this.badMark) return 'bad';
    if (value < FIRST_CLUSTER || value >= this.maxCluster) return 'reserved';
    return 'next';
  }

  /**
   * Free clusters, counted over the whole FAT as Linux does at mount (fat_count_free_clusters).
   * One sequential read in FAT_BLOCK_BYTES pieces, without the block cache (a large FAT32 has
   * millions of entries). Runs of ZERO_RUN_BYTES that are all zero (free clusters: most of the FAT
   * of a volume that is not full, and all of a FAT that reads as zeros) are recognised with one
   * native comparison instead of entry by entry.
   */
  countFree(): number {
    const bits: number = this.type;
    const perBlock = (FAT_BLOCK_BYTES * 8) / bits;
    const perRun = (ZERO_RUN_BYTES * 8) / bits;
    let free = 0;
    // One buffer for the whole scan: a FAT32 FAT is up to 1 GiB (fuzz target fat: allocating
    // it 48 KiB at a time and counting entry by entry took 5.7 s).
    const buf = new Uint8Array(Math.min(FAT_BLOCK_BYTES, Math.ceil((this.maxCluster * bits) / 8)));
    for (let base = 0; base < this.maxCluster; base += perBlock) {
      const n = Math.min(perBlock, this.maxCluster - base);
      const off = (base * bits) / 8;
      const len = Math.ceil((n * bits) / 8);
      const blk = buf.subarray(0, len);
      if (off + len > this.bytes || this.dev.pread(blk, this.start + off) !== len) {
        throw new GuestkitError('CORRUPT', `${this.what} block at byte ${off}: short read of ${this.dev.description}`);
      }
      // A whole block of free entries (beyond the reserved ones) at once, else run by run.
      if (base > 0 && n === perBlock && Buffer.from(blk.buffer, blk.byteOffset, FAT_BLOCK_BYTES).equals(ZERO_BLOCK)) {
        free += n;
        continue;
      }
      for (let r = 0; r < n; r += perRun) {
        // Entries [lo, hi) of this block, without the two reserved ones.
        const lo = Math.max(r, FIRST_CLUSTER - base);
        const hi = Math.min(r + perRun, n);
        if (lo >= hi) continue;
        const rb = (r * bits) / 8;
        if (lo === r && hi - r === perRun && Buffer.from(blk.buffer, blk.byteOffset + rb, ZERO_RUN_BYTES).equals(ZERO_RUN)) {
          free += perRun;
          continue;
        }
        for (let j = lo; j < hi; j++) if (this.entryIn(blk, j) === 0) free++;
      }
    }
    return free;
  }

  /** Entry `j` of a FAT piece that starts at an even entry (so on a byte boundary for FAT12). */
  private entryIn(blk: Uint8Array, j: number): number {
    switch (this.type) {
      case 12: {
        const o = j + (j >> 1);
        const v = blk[o] | (blk[o + 1] << 8);
        return j & 1 ? v >> 4 : v & 0xfff;
      }
      case 16:
        return blk[2 * j] | (blk[2 * j + 1] << 8);
      case 32: {
        const o = 4 * j;
        return (blk[o] | (blk[o + 1] << 8) | (blk[o + 2] << 16) | (blk[o + 3] << 24)) & 0x0fffffff;
      }
    }
  }

  /**
   * Follow the chain from `first`, calling `visit(run start, run length)` for each run of
   * consecutive clusters, until end-of-chain or until `maxClusters` clusters have been
   * visited (then returns false: the chain goes on). A loop (Brent's cycle detection, plus the
   * cluster count as a backstop), a free, bad or out-of-range entry throws, naming `owner`.
   */
  walk(first: number, owner: string, visit: (start: number, len: number) => void, maxClusters = Infinity): boolean {
    const where = `${this.what}: cluster chain of ${owner}`;
    const check = (c: number, from: string) => {
      if (c < FIRST_CLUSTER || c >= this.maxCluster) {
        throw new GuestkitError('CORRUPT', `${where}: ${from} cluster ${c}, which is outside the data area (clusters 2-${this.maxCluster - 1})`);
      }
    };
    check(first, 'starts at');
    let runStart = first;
    let runLen = 1;
    let count = 1;
    let cur = first;
    // Brent: `tortoise` is re-anchored at powers of two; meeting it again means a loop.
    let tortoise = first;
    let power = 1;
    let lam = 0;
    for (;;) {
      if (count >= maxClusters) {
        visit(runStart, runLen);
        return false;
      }
      const v = this.entry(cur);
      const k = this.kind(v);
      if (k === 'eoc') break;
      if (k === 'free') throw new GuestkitError('CORRUPT', `${where}: cluster ${cur} links to a free cluster`);
      if (k === 'bad') throw new GuestkitError('CORRUPT', `${where}: cluster ${cur} links to a cluster marked bad`);
      if (k === 'reserved') check(v, `cluster ${cur} links to`);
      if (v === tortoise) throw new GuestkitError('LOOP', `${where}: the chain loops back to cluster ${v}`);
      if (++lam === power) {
        tortoise = v;
        power *= 2;
        lam = 0;
      }
      if (++count > this.clusterCount) {
        throw new GuestkitError('LOOP', `${where}: the chain is longer than the ${this.clusterCount} clusters of the volume`);
      }
      if (v === runStart + runLen) {
        runLen++;
      } else {
        visit(runStart, runLen);
        runStart = v;
        runLen = 1;
      }
      cur = v;
    }
    visit(runStart, runLen);
    return true;
  }
}

// qcow2 cluster mapping tables: QEMU docs/interop/qcow2.txt, "Cluster mapping" (L1 and L2
// tables, standard and compressed cluster descriptors) and "Extended L2 Entries".

import { allocFromDisk } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import type { HostFile } from './host-file.js';

/** L2 tables cached per image: LIMITS.qcow2L2CacheTables, and at most this many bytes. */
export const L2_CACHE_MAX_BYTES = 32 * 1024 * 1024;
/** Even with 2 MiB clusters keep a few tables, so a read across tables does not thrash. */
export const L2_CACHE_MIN_TABLES = 4;

/** Bits 9-55 of an L1 entry or a standard cluster descriptor, split at bit 32. */
const OFFSET_MASK_HI = 0x00ffffff;
const OFFSET_MASK_LO = 0xfffffe00;
const TWO32 = 2 ** 32;

/** Offset field (bits 9-55) of a 64-bit table entry given as its two big-endian halves. */
export function entryOffset(hi: number, lo: number): number {
  return (hi & OFFSET_MASK_HI) * TWO32 + ((lo & OFFSET_MASK_LO) >>> 0);
}

/**
 * The L2 table offsets of an L1 table (0 = no L2 table). Each must be cluster-aligned and
 * lie wholly inside the file.
 */
export function readL1Table(
  host: HostFile,
  offset: number,
  entries: number,
  clusterSize: number,
  what: string,
): Float64Array {
  const bytes = allocFromDisk(entries * 8, what, LIMITS.maxMetadata);
  host.readInto(bytes, 0, bytes.length, offset, what);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const l1 = new Float64Array(entries);
  for (let i = 0; i < entries; i++) {
    const off = entryOffset(dv.getUint32(i * 8), dv.getUint32(i * 8 + 4));
    if (off === 0) continue;
    if (off % clusterSize !== 0) {
      throw new GuestkitError('CORRUPT', `${host.path}: ${what}: entry ${i}: L2 table offset 0x${off.toString(16)} is not aligned to a cluster`);
    }
    if (off + clusterSize > host.size) {
      throw new GuestkitError(
        'CORRUPT',
        `${host.path}: ${what}: entry ${i}: L2 table at 0x${off.toString(16)} is past the end of the file (${host.size} bytes)`,
      );
    }
    l1[i] = off;
  }
  return l1;
}

/** A bounded LRU cache of L2 tables, keyed by host offset. Holds DataViews over one cluster each. */
export class L2Cache {
  readonly maxTables: number;
  private readonly tables = new Map<number, DataView>();
  private lastOffset = -1;
  private lastTable: DataView | undefined;

  constructor(
    private readonly host: HostFile,
    private readonly clusterSize: number,
  ) {
    this.maxTables = Math.min(
      LIMITS.qcow2L2CacheTables,
      Math.max(L2_CACHE_MIN_TABLES, Math.floor(L2_CACHE_MAX_BYTES / clusterSize)),
    );
  }

  get size(): number {
    return this.tables.size;
  }

  /** The L2 table at host offset `offset` (already checked to lie inside the file). */
  get(offset: number): DataView {
    if (offset === this.lastOffset) return this.lastTable!;
    let t = this.tables.get(offset);
    if (t) {
      // Move to the most recently used end.
      this.tables.delete(offset);
      this.tables.set(offset, t);
    } else {
      const b = this.host.read(offset, this.clusterSize, `qcow2 L2 table`);
      t = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this.tables.set(offset, t);
      if (this.tables.size > this.maxTables) {
        const oldest = this.tables.keys().next().value as number;
        this.tables.delete(oldest);
      }
    }
    this.lastOffset = offset;
    this.lastTable = t;
    return t;
  }

  clear(): void {
    this.tables.clear();
    this.lastOffset = -1;
    this.lastTable = undefined;
  }
}

// An attribute's data stream, libfsntfs §5.5 and §6.11 "The data stream attribute": resident
// data, or non-resident data from one or more extents (an attribute chain, §6.21) mapped by
// their data runs; sparse runs and bytes past the valid data size read as zeros; LZNT1
// compression units (§8) are decompressed one unit at a time.

import type { BlockDevice } from '../../block/device.js';
import { GuestkitError } from '../../errors.js';
import { allocFromDisk } from '../../bytes.js';
import { LIMITS } from '../../limits.js';
import { ATTR_COMPRESSION_MASK, ATTR_IS_ENCRYPTED, ATTR_IS_SPARSE, type MftAttribute } from './attribute.js';
import { decodeRunlist, findRun, type Run } from './runlist.js';
import { lznt1Decompress } from './lznt1.js';

/** What a data stream needs of the volume. */
export interface NtfsVolumeContext {
  readonly dev: BlockDevice;
  readonly clusterSize: number;
  readonly clusterCount: number;
}

/** Default compression unit (2^4 = 16 clusters) when the header says 0 (seen on XP). */
const DEFAULT_COMPRESSION_UNIT = 4;
/** NTFS compression works on clusters of at most 4 KiB. */
const MAX_COMPRESSED_CLUSTER = 4096;

export class DataStream {
  readonly what: string;
  readonly size: number;
  readonly allocatedSize: number;
  /** Allocated size as ntfs-3g reports it (total allocated for compressed or sparse data). */
  readonly diskSize: number;
  readonly initializedSize: number;
  readonly resident: boolean;
  readonly compressed: boolean;
  readonly sparse: boolean;
  readonly encrypted: boolean;
  readonly runs: Run[];
  private readonly vol: NtfsVolumeContext;
  private readonly value: Uint8Array | null;
  private readonly unitClusters: number;
  private cachedUnit = -1;
  private cachedData: Uint8Array | null = null;

  constructor(vol: NtfsVolumeContext, extents: MftAttribute[], what: string) {
    this.vol = vol;
    this.what = what;
    if (extents.length === 0) throw new GuestkitError('CORRUPT', `${what}: no attribute`);
    const first = extents[0];
    this.resident = first.resident;
    this.encrypted = (first.flags & ATTR_IS_ENCRYPTED) !== 0;
    this.sparse = (first.flags & ATTR_IS_SPARSE) !== 0;
    if (first.resident) {
      if (extents.length > 1) throw new GuestkitError('CORRUPT', `${what}: a resident attribute has ${extents.length} extents`);
      this.value = first.value;
      this.size = this.allocatedSize = this.initializedSize = first.value.length;
      this.diskSize = (first.value.length + 7) & ~7;
      this.compressed = false;
      this.runs = [];
      this.unitClusters = 0;
      return;
    }
    this.value = null;
    if (first.lowestVcn !== 0) throw new GuestkitError('CORRUPT', `${what}: the first extent starts at VCN ${first.lowestVcn}`);
    this.size = first.dataSize;
    this.allocatedSize = first.allocatedSize;
    this.diskSize = first.compressedSize;
    this.initializedSize = Math.min(first.initializedSize, first.dataSize);
    const cu = first.compressionUnit || DEFAULT_COMPRESSION_UNIT;
    this.compressed = (first.flags & ATTR_COMPRESSION_MASK) !== 0;
    this.unitClusters = this.compressed ? 2 ** cu : 0;
    const runs: Run[] = [];
    let next = 0;
    for (const e of extents) {
      if (e.resident) throw new GuestkitError('CORRUPT', `${what}: resident extent in a non-resident chain`);
      if (e.lowestVcn !== next) {
        throw new GuestkitError('CORRUPT', `${what}: extents are not contiguous (an extent starts at VCN ${e.lowestVcn}, expected ${next})`);
      }
      for (const r of decodeRunlist(e.mappingPairs, e.lowestVcn, e.highestVcn, vol.clusterCount, `${what} (extent at VCN ${e.lowestVcn} in MFT entry ${e.entry})`)) {
        runs.push(r);
      }
      next = e.highestVcn + 1;
    }
    this.runs = runs;
    if (this.allocatedSize > next * vol.clusterSize && !this.compressed) {
      // Runs cover less than the allocation: reads in the gap fail with "not mapped".
    }
  }

  /** Read up to buf.length bytes at pos; returns the count (0 at or past the end). */
  read(buf: Uint8Array, pos: number): number {
    if (pos >= this.size || buf.length === 0) return 0;
    const n = Math.min(buf.length, this.size - pos);
    if (this.value) {
      buf.set(this.value.subarray(pos, pos + n));
      return n;
    }
    if (this.encrypted) throw new GuestkitError('UNSUPPORTED', `${this.what}: EFS-encrypted data cannot be read`);
    const valid = Math.max(0, Math.min(n, this.initializedSize - pos));
    if (valid > 0) {
      if (this.compressed) this.readCompressed(buf.subarray(0, valid), pos);
      else this.readRuns(buf.subarray(0, valid), pos);
    }
    if (valid < n) buf.fill(0, valid, n);
    return n;
  }

  /** The whole stream in one buffer, refused above `limit` bytes. */
  readAll(limit: number = LIMITS.maxMetadata): Uint8Array {
    const out = allocFromDisk(this.size, this.what, limit);
    this.read(out, 0);
    return out;
  }

  private readRuns(out: Uint8Array, pos: number): void {
    const cs = this.vol.clusterSize;
    let done = 0;
    let ri = -1;
    while (done < out.length) {
      const p = pos + done;
      const vcn = Math.floor(p / cs);
      if (ri < 0 || ri >= this.runs.length || vcn < this.runs[ri].vcn || vcn >= this.runs[ri].vcn + this.runs[ri].length) {
        ri = findRun(this.runs, vcn);
      }
      if (ri < 0) throw new GuestkitError('CORRUPT', `${this.what}: VCN ${vcn} is not mapped by the data runs`);
      const r = this.runs[ri];
      const inRun = p - r.vcn * cs;
      const take = Math.min(out.length - done, r.length * cs - inRun);
      const dst = out.subarray(done, done + take);
      if (r.lcn < 0) dst.fill(0);
      else this.readDevice(dst, r.lcn * cs + inRun);
      done += take;
      ri++;
    }
  }

  private readDevice(dst: Uint8Array, pos: number): void {
    const n = this.vol.dev.pread(dst, pos);
    if (n !== dst.length) {
      throw new GuestkitError('CORRUPT', `${this.what}: clusters at byte ${pos} are past the end of ${this.vol.dev.description}`);
    }
  }

  private readCompressed(out: Uint8Array, pos: number): void {
    const cs = this.vol.clusterSize;
    if (cs > MAX_COMPRESSED_CLUSTER) throw new GuestkitError('CORRUPT', `${this.what}: compressed data on a volume with ${cs}-byte clusters`);
    const unitSize = this.unitClusters * cs;
    let done = 0;
    while (done < out.length) {
      const p = pos + done;
      const unit = Math.floor(p / unitSize);
      const inUnit = p - unit * unitSize;
      const take = Math.min(out.length - done, unitSize - inUnit);
      const data = this.unit(unit);
      if (data) out.set(data.subarray(inUnit, inUnit + take), done);
      else this.readRuns(out.subarray(done, done + take), p);
      done += take;
    }
  }

  /**
   * Compression unit `u` decompressed, or null when it is stored uncompressed (all its clusters
   * allocated) so that the caller reads it directly. A unit with no allocated cluster is zeros;
   * one with some is LZNT1 data in those clusters.
   */
  private unit(u: number): Uint8Array | null {
    // (A unit whose first cluster is sparse reads as zeros even if later clusters are allocated.)
    if (u === this.cachedUnit && this.cachedData) return this.cachedData;
    const cs = this.vol.clusterSize;
    const first = u * this.unitClusters;
    const end = first + this.unitClusters;
    const pieces: { lcn: number; length: number }[] = [];
    let allocated = 0;
    let vcn = first;
    let ri = findRun(this.runs, vcn);
    if (ri < 0) throw new GuestkitError('CORRUPT', `${this.what}: compression unit ${u} (VCN ${vcn}) is not mapped by the data runs`);
    // As ntfs-3g: a unit whose first cluster is sparse is a sparse unit.
    const sparseUnit = this.runs[ri].lcn < 0;
    while (!sparseUnit && vcn < end && ri >= 0 && ri < this.runs.length) {
      const r = this.runs[ri];
      if (vcn < r.vcn) break;
      const len = Math.min(end, r.vcn + r.length) - vcn;
      if (r.lcn >= 0) {
        pieces.push({ lcn: r.lcn + (vcn - r.vcn), length: len });
        allocated += len;
      }
      vcn += len;
      ri++;
    }
    if (allocated === this.unitClusters) return null;
    const data = new Uint8Array(this.unitClusters * cs);
    if (allocated > 0) {
      const src = new Uint8Array(allocated * cs);
      let o = 0;
      for (const p of pieces) {
        this.readDevice(src.subarray(o, o + p.length * cs), p.lcn * cs);
        o += p.length * cs;
      }
      lznt1Decompress(src, data, `${this.what}: compression unit ${u}`);
    }
    this.cachedUnit = u;
    this.cachedData = data;
    return data;
  }
}

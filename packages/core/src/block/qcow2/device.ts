// A qcow2 image as a block device: guest offsets translated through the L1 and L2 tables
// (QEMU docs/interop/qcow2.txt, "Cluster mapping", "Extended L2 Entries"), unallocated ranges
// read from the backing device or as zeros. Reads coalesce runs of host-contiguous data
// clusters into one pread; map() reports ranges as `qemu-img map --output=json` does.
// pread inflates compressed clusters on the calling thread; preadAsync, the bulk read, hands
// whole ones to a pool of worker threads in batches (inflate-pool.ts).
//
// Where guestkit deliberately differs from QEMU 7.2:
// - map() entries carry `compressed` (as qemu-img 8.2 and later print it; 7.2 does not).
// - When QEMU believes an image is preallocated it asks the host file system (SEEK_DATA) and
//   reports data clusters lying in holes of the image file as "zero": true; Node cannot ask,
//   so such ranges are data with "zero": false. A raw backing file is one data range for the
//   same reason (qemu-img reports its holes as zero).
// - A snapshot is read at the disk size recorded with it; `qemu-img convert -l` uses the
//   image's current size (they differ only if the image was resized after the snapshot).
// - Hostile tables are errors where QEMU reads zeros: an L2 table or data cluster past the
//   end of the file, an L2 entry with offset 0 and the "copied" flag (QEMU: unallocated), a
//   deflate stream longer than a cluster (QEMU keeps the first cluster).

import type { BlockDevice, MapEntry } from '../device.js';
import { coalesceMap } from '../device.js';
import { GuestkitError } from '../../errors.js';
import type { QcowHeader } from './header.js';
import type { HostFile } from './host-file.js';
import { L2Cache, entryOffset } from './tables.js';
import { ClusterDecompressor, compressedDescriptor, type PendingCluster } from './compressed.js';

/** Decompressed clusters kept for reads that come back to them (at least one cluster). */
export const COMPRESSED_CACHE_BYTES = 8 * 1024 * 1024;

/** Bytes of a preadAsync walked (data clusters read, compressed ones sent off) at a time. */
export const ASYNC_WINDOW = 1024 * 1024;

/** Windows whose compressed clusters may be inflating while the next window is walked. */
export const ASYNC_WINDOWS_PENDING = 3;

/** Subclusters per cluster with Extended L2 Entries. */
export const SUBCLUSTERS = 32;

// What a (sub)cluster is, as QEMU's QCow2SubclusterType names them.
const NORMAL = 0; // data in this image at a host offset
const ZERO_PLAIN = 1; // reads as zeros, no host cluster
const ZERO_ALLOC = 2; // reads as zeros, host cluster preallocated
const UNALLOCATED_PLAIN = 3; // not here: backing file or zeros
const UNALLOCATED_ALLOC = 4; // not here, but its cluster is allocated (subclusters)
const COMPRESSED = 5; // one compressed cluster

function offsetValid(t: number): boolean {
  return t === NORMAL || t === ZERO_ALLOC || t === UNALLOCATED_ALLOC;
}

/** Chunks of all-zero (unallocated) standard L2 entries compared at once by zeroEntries. */
const ZERO_ENTRIES_CHUNKS = [1024, 64].map((n) => ({ n, zero: Buffer.alloc(n * 8) }));

/** How many standard (8-byte) entries of L2 table `t` from `from` (itself zero) on are all zero. */
function zeroEntries(t: DataView, from: number, count: number): number {
  let j = from;
  for (const { n, zero } of ZERO_ENTRIES_CHUNKS) {
    while (j + n <= count && Buffer.from(t.buffer, t.byteOffset + j * 8, n * 8).equals(zero)) j += n;
  }
  while (j < count && t.getUint32(j * 8) === 0 && t.getUint32(j * 8 + 4) === 0) j++;
  return j - from;
}

// Categories for reading.
const R_DATA = 0;
const R_ZERO = 1;
const R_BACKING = 2;
const R_COMPRESSED = 3;

export interface Qcow2DeviceInit {
  /** The name the image was opened by (messages, relative backing names). */
  path: string;
  host: HostFile;
  header: QcowHeader;
  /** L2 table offsets of the L1 table in use (active or a snapshot's). */
  l1: Float64Array;
  /** Virtual size (the snapshot's when reading one). */
  size: number;
  /** The backing device, already opened; undefined when there is none or it is not followed. */
  backing?: BlockDevice;
  extendedL2: boolean;
  compressionType: number;
  /** "snapshot NAME" when reading one, for messages. */
  snapshot?: string;
}

export class Qcow2Device implements BlockDevice {
  readonly size: number;
  readonly sectorSize = 512;
  readonly description: string;
  readonly path: string;
  readonly header: QcowHeader;
  readonly backing: BlockDevice | undefined;

  private readonly host: HostFile;
  private readonly l1: Float64Array;
  private readonly l2: L2Cache;
  private readonly clusterBits: number;
  private readonly clusterSize: number;
  private readonly l2Entries: number;
  private readonly extendedL2: boolean;
  private readonly entryBytes: number;
  private readonly scSize: number;
  private readonly decompressor: ClusterDecompressor;
  private backingMap: MapEntry[] | undefined;
  private closed = false;

  // Result of lookup(): one run of (sub)clusters of the same type.
  private rType = 0;
  private rLen = 0;
  private rHost = 0;
  /** Guest cluster index of a COMPRESSED result; its descriptor halves. */
  private rHi = 0;
  private rLo = 0;

  /** The last run of zero L2 entries found (L2 tables are shared by many L1 entries in hostile images). */
  private zTable: DataView | undefined;
  private zFrom = -1;
  private zRun = 0;

  /** Recently decompressed clusters by guest cluster index (LRU, COMPRESSED_CACHE_BYTES). */
  private readonly zCache = new Map<number, Uint8Array>();
  private readonly zCacheMax: number;

  constructor(init: Qcow2DeviceInit) {
    this.path = init.path;
    this.host = init.host;
    this.header = init.header;
    this.l1 = init.l1;
    this.size = init.size;
    this.backing = init.backing;
    this.extendedL2 = init.extendedL2;
    this.clusterBits = init.header.cluster_bits;
    this.clusterSize = init.header.cluster_size;
    this.entryBytes = init.extendedL2 ? 16 : 8;
    this.l2Entries = this.clusterSize / this.entryBytes;
    this.scSize = init.extendedL2 ? this.clusterSize / SUBCLUSTERS : this.clusterSize;
    this.l2 = new L2Cache(init.host, this.clusterSize);
    this.decompressor = new ClusterDecompressor(init.compressionType, this.clusterSize);
    this.zCacheMax = Math.max(1, Math.floor(COMPRESSED_CACHE_BYTES / this.clusterSize));
    this.description = `qcow2 image ${init.path}${init.snapshot ? ` (snapshot ${init.snapshot})` : ''}`;
  }

  /** pread calls on the image file so far (L2 tables, data, compressed clusters). */
  get hostReads(): number {
    return this.host.reads;
  }

  /** Number of L2 tables held in the cache now (for tests of its bound). */
  get l2CacheTables(): number {
    return this.l2.size;
  }

  get l2CacheLimit(): number {
    return this.l2.maxTables;
  }

  private where(l2Offset: number, l1Index: number, l2Index: number): string {
    const guest = (l1Index * this.l2Entries + l2Index) * this.clusterSize;
    return `qcow2 L2 table at 0x${l2Offset.toString(16)}, entry ${l2Index} (guest offset ${guest})`;
  }

  private corrupt(detail: string): GuestkitError {
    return new GuestkitError('CORRUPT', `${this.path}: ${detail}`);
  }

  /**
   * Find the run of (sub)clusters of one type starting at guest offset `off`, at most `max`
   * bytes, within one L2 table; host offsets contiguous for types that have one. Sets
   * rType, rLen, rHost (and rHi/rLo for COMPRESSED).
   */
  private lookup(off: number, max: number): void {
    const cs = this.clusterSize;
    const cIndex = Math.floor(off / cs);
    const l1Index = Math.floor(cIndex / this.l2Entries);
    let l2Index = cIndex - l1Index * this.l2Entries;
    let within = off - cIndex * cs;
    const l2Offset = l1Index < this.l1.length ? this.l1[l1Index] : 0;
    if (l2Offset === 0) {
      // No L2 table: everything it would map is unallocated.
      this.rType = UNALLOCATED_PLAIN;
      this.rHost = 0;
      this.rLen = Math.min(max, (this.l2Entries - l2Index) * cs - within);
      return;
    }
    const t = this.l2.get(l2Offset);
    let type = -1;
    let host = 0;
    let len = 0;
    while (l2Index < this.l2Entries && len < max) {
      const e = l2Index * this.entryBytes;
      const hi = t.getUint32(e);
      const lo = t.getUint32(e + 4);
      if (hi & 0x40000000) {
        // Compressed: a whole cluster on its own.
        if (len > 0) break;
        const d = compressedDescriptor(hi, lo, this.clusterBits);
        if (d.offset < cs) throw this.corrupt(`${this.where(l2Offset, l1Index, l2Index)}: compressed cluster at 0x${d.offset.toString(16)} points into the header`);
        if (d.offset >= this.host.size) {
          throw this.corrupt(`${this.where(l2Offset, l1Index, l2Index)}: compressed cluster at 0x${d.offset.toString(16)} is past the end of the file (${this.host.size} bytes)`);
        }
        this.rType = COMPRESSED;
        this.rHost = d.offset;
        this.rHi = hi;
        this.rLo = lo;
        this.rLen = Math.min(max, cs - within);
        return;
      }
      if (!this.extendedL2 && hi === 0 && lo === 0) {
        // Unallocated, as the entries after it usually are: the run is found with native
        // comparisons and taken at once (map() of an image whose many L1 entries share one
        // mostly empty L2 table went entry by entry through a billion entries: 31 s).
        if (len > 0 && type !== UNALLOCATED_PLAIN) break;
        if (len === 0) {
          type = UNALLOCATED_PLAIN;
          host = within;
        }
        let run: number;
        if (t === this.zTable && l2Index === this.zFrom) run = this.zRun;
        else {
          run = zeroEntries(t, l2Index, this.l2Entries);
          this.zTable = t;
          this.zFrom = l2Index;
          this.zRun = run;
        }
        len += cs - within;
        within = 0;
        const more = Math.min(run - 1, Math.max(0, Math.ceil((max - len) / cs)));
        len += more * cs;
        l2Index += 1 + more;
        continue;
      }
      const hostCluster = entryOffset(hi, lo);
      let ctype: number;
      if (!this.extendedL2 && lo & 1) {
        ctype = hostCluster !== 0 ? ZERO_ALLOC : ZERO_PLAIN;
      } else if (hostCluster === 0) {
        if (hi & 0x80000000) {
          throw this.corrupt(`${this.where(l2Offset, l1Index, l2Index)}: data cluster at host offset 0 points into the header`);
        }
        ctype = UNALLOCATED_PLAIN;
      } else {
        if (hostCluster % cs !== 0) {
          if (hostCluster < cs) throw this.corrupt(`${this.where(l2Offset, l1Index, l2Index)}: data cluster at 0x${hostCluster.toString(16)} points into the header`);
          throw this.corrupt(`${this.where(l2Offset, l1Index, l2Index)}: data cluster offset 0x${hostCluster.toString(16)} is not aligned to a cluster`);
        }
        ctype = NORMAL;
      }
      if (!this.extendedL2) {
        const n = cs - within;
        const h = hostCluster + within;
        if (ctype === NORMAL && hostCluster + cs > this.host.size) {
          throw this.corrupt(`${this.where(l2Offset, l1Index, l2Index)}: data cluster at 0x${hostCluster.toString(16)} is past the end of the file (${this.host.size} bytes)`);
        }
        if (len === 0) {
          type = ctype;
          host = h;
        } else if (ctype !== type || (offsetValid(type) && h !== host + len)) {
          break;
        }
        len += n;
      } else {
        // Extended L2: the second 64 bits hold the zero bitmap (high half) and the
        // allocation bitmap (low half), one bit per subcluster.
        const zeroBits = t.getUint32(e + 8);
        const allocBits = t.getUint32(e + 12);
        if (ctype === UNALLOCATED_PLAIN && allocBits !== 0) {
          throw this.corrupt(`${this.where(l2Offset, l1Index, l2Index)}: subclusters marked allocated in an unallocated cluster`);
        }
        if ((zeroBits & allocBits) !== 0) {
          throw this.corrupt(`${this.where(l2Offset, l1Index, l2Index)}: subclusters marked both allocated and zero`);
        }
        let sc = Math.floor(within / this.scSize);
        let inSc = within - sc * this.scSize;
        let stop = false;
        for (; sc < SUBCLUSTERS && len < max; sc++) {
          const bit = 1 << sc;
          let st: number;
          if (zeroBits & bit) st = ctype === NORMAL ? ZERO_ALLOC : ZERO_PLAIN;
          else if (ctype === NORMAL && allocBits & bit) st = NORMAL;
          else st = ctype === NORMAL ? UNALLOCATED_ALLOC : UNALLOCATED_PLAIN;
          const h = hostCluster + sc * this.scSize + inSc;
          const n = this.scSize - inSc;
          inSc = 0;
          if (st === NORMAL && hostCluster + (sc + 1) * this.scSize > this.host.size) {
            throw this.corrupt(
              `${this.where(l2Offset, l1Index, l2Index)}: subcluster ${sc} at 0x${(hostCluster + sc * this.scSize).toString(16)} is past the end of the file (${this.host.size} bytes)`,
            );
          }
          if (len === 0) {
            type = st;
            host = h;
          } else if (st !== type || (offsetValid(type) && h !== host + len)) {
            stop = true;
            break;
          }
          len += n;
        }
        if (stop) break;
      }
      within = 0;
      l2Index++;
    }
    if (len <= 0) throw this.corrupt(`qcow2 lookup at guest offset ${off} made no progress`); // cannot happen; keeps loops bounded
    this.rType = type;
    this.rHost = host;
    this.rLen = Math.min(len, max);
  }

  pread(buf: Uint8Array, pos: number): number {
    return this.readRange(buf, pos, undefined);
  }

  /**
   * pread whose whole compressed clusters are inflated in batches on worker threads
   * (inflate-pool.ts) while the main thread reads the data clusters around them. The range is
   * walked in windows of ASYNC_WINDOW bytes; at most ASYNC_WINDOWS_PENDING windows' clusters
   * are pending at once, which bounds the memory in flight for any buffer size.
   */
  async preadAsync(buf: Uint8Array, pos: number): Promise<number> {
    if (pos >= this.size || buf.length === 0) return this.readRange(buf, pos, undefined);
    const end = Math.min(pos + buf.length, this.size);
    const pending: Promise<void>[] = [];
    for (let w = pos; w < end; ) {
      const n = Math.min(ASYNC_WINDOW, end - w);
      const clusters: PendingCluster[] = [];
      this.readRange(buf.subarray(w - pos, w - pos + n), w, clusters);
      if (clusters.length > 0) {
        const p = this.decompressor.decompressBatch(clusters);
        p.catch(() => {}); // awaited below; a rejection before then is not "unhandled"
        pending.push(p);
      }
      if (pending.length > ASYNC_WINDOWS_PENDING) await pending.shift();
      w += n;
    }
    await Promise.all(pending);
    return end - pos;
  }

  /**
   * pread; with `deferred`, whole compressed clusters (not in the cache) are read from the
   * file but left to the caller to decompress into `buf`: they are appended to `deferred`.
   */
  private readRange(buf: Uint8Array, pos: number, deferred: PendingCluster[] | undefined): number {
    if (this.closed) throw new GuestkitError('IO', `${this.path}: read after close`);
    if (!Number.isSafeInteger(pos) || pos < 0) throw new GuestkitError('IO', `${this.path}: invalid read offset ${pos}`);
    if (pos >= this.size) return 0;
    const end = Math.min(pos + buf.length, this.size);
    // A pending run of one read category; DATA runs are host-contiguous.
    let kind = -1;
    let runStart = 0;
    let runHost = 0;
    let runLen = 0;
    let off = pos;
    while (off < end) {
      this.lookup(off, end - off);
      const t = this.rType;
      let k: number;
      if (t === NORMAL) k = R_DATA;
      else if (t === COMPRESSED) k = R_COMPRESSED;
      else if ((t === UNALLOCATED_PLAIN || t === UNALLOCATED_ALLOC) && this.backing) k = R_BACKING;
      else k = R_ZERO;
      if (k === kind && k !== R_COMPRESSED && (k !== R_DATA || runHost + runLen === this.rHost)) {
        runLen += this.rLen;
      } else {
        if (runLen > 0) this.flush(buf, pos, kind, runStart, runHost, runLen);
        kind = k;
        runStart = off;
        runHost = this.rHost;
        runLen = this.rLen;
        if (k === R_COMPRESSED) {
          if (deferred && this.rLen === this.clusterSize && !this.zCache.has(off / this.clusterSize)) {
            const { src, what } = this.compressedSource(off / this.clusterSize, this.rHi, this.rLo);
            deferred.push({ src, what: `${this.path}: ${what}`, out: buf.subarray(off - pos, off - pos + this.rLen) });
          } else {
            this.readCompressed(buf, runStart - pos, off, this.rLen, this.rHi, this.rLo);
          }
          runLen = 0;
          kind = -1;
        }
      }
      off += this.rLen;
    }
    if (runLen > 0) this.flush(buf, pos, kind, runStart, runHost, runLen);
    return end - pos;
  }

  private flush(buf: Uint8Array, pos: number, kind: number, start: number, host: number, len: number): void {
    const at = start - pos;
    if (kind === R_DATA) {
      this.host.readInto(buf, at, len, host, `qcow2 data cluster (guest offset ${start})`);
    } else if (kind === R_ZERO) {
      buf.fill(0, at, at + len);
    } else {
      // R_BACKING: what the backing device has, zeros past its end.
      const b = this.backing!;
      const n = start < b.size ? b.pread(buf.subarray(at, at + Math.min(len, b.size - start)), start) : 0;
      if (n < len) buf.fill(0, at + n, at + len);
    }
  }

  private compressedSource(cIndex: number, hi: number, lo: number): { src: Uint8Array; what: string } {
    const d = compressedDescriptor(hi, lo, this.clusterBits);
    const what = `qcow2 compressed cluster at 0x${d.offset.toString(16)} (guest offset ${cIndex * this.clusterSize})`;
    return { src: this.host.readUpTo(d.offset, d.size, what), what };
  }

  private readCompressed(buf: Uint8Array, at: number, off: number, len: number, hi: number, lo: number): void {
    const cs = this.clusterSize;
    const cIndex = Math.floor(off / cs);
    let data = this.zCache.get(cIndex);
    if (data) {
      this.zCache.delete(cIndex);
    } else {
      const { src, what } = this.compressedSource(cIndex, hi, lo);
      let out: Uint8Array | undefined;
      if (this.zCache.size >= this.zCacheMax) {
        // Reuse the least recently used cluster's buffer.
        const oldest = this.zCache.keys().next().value as number;
        out = this.zCache.get(oldest);
        this.zCache.delete(oldest);
      }
      data = out ?? new Uint8Array(cs);
      this.decompressor.decompress(src, data, `${this.path}: ${what}`);
    }
    this.zCache.set(cIndex, data);
    const w = off - cIndex * cs;
    buf.set(data.subarray(w, w + len), at);
  }

  /** Allocation map of the whole device, merged as qemu-img map merges it. */
  map(): MapEntry[] {
    if (this.closed) throw new GuestkitError('IO', `${this.path}: map after close`);
    const out: MapEntry[] = [];
    this.mapRange(0, this.size, 0, out);
    return coalesceMap(out);
  }

  /**
   * Entries for [start, start+len) at chain depth `depth`, appended to `out` (not merged).
   * Mirrors qemu-img's get_block_status(): a range this layer neither has nor zeroes is
   * asked of the backing layer (depth + 1); past the backing file's end, or with no backing
   * file, it reads as zeros and is reported at this depth as not present.
   */
  mapRange(start: number, len: number, depth: number, out: MapEntry[]): void {
    const end = Math.min(start + len, this.size);
    let off = start;
    while (off < end) {
      this.lookup(off, end - off);
      const t = this.rType;
      const n = this.rLen;
      switch (t) {
        case NORMAL:
          out.push({ start: off, length: n, depth, present: true, zero: false, data: true, compressed: false, offset: this.rHost });
          break;
        case COMPRESSED:
          out.push({ start: off, length: n, depth, present: true, zero: false, data: true, compressed: true });
          break;
        case ZERO_PLAIN:
          out.push({ start: off, length: n, depth, present: true, zero: true, data: false, compressed: false });
          break;
        case ZERO_ALLOC:
          out.push({ start: off, length: n, depth, present: true, zero: true, data: false, compressed: false, offset: this.rHost });
          break;
        default: {
          // UNALLOCATED_PLAIN / UNALLOCATED_ALLOC.
          const host = t === UNALLOCATED_ALLOC ? this.rHost : undefined;
          let done = 0;
          const b = this.backing;
          if (b && off < b.size) {
            done = Math.min(n, b.size - off);
            this.backingRange(b, off, done, depth + 1, out);
          }
          if (done < n) {
            const e: MapEntry = { start: off + done, length: n - done, depth, present: false, zero: true, data: false, compressed: false };
            if (host !== undefined) e.offset = host + done;
            out.push(e);
          }
        }
      }
      off += n;
    }
  }

  private backingRange(b: BlockDevice, start: number, len: number, depth: number, out: MapEntry[]): void {
    if (b instanceof Qcow2Device) {
      b.mapRange(start, len, depth, out);
      return;
    }
    // Another kind of device (raw): cut its own map to the range.
    this.backingMap ??= b.map();
    const end = start + len;
    for (const e of this.backingMap) {
      const s = Math.max(e.start, start);
      const t = Math.min(e.start + e.length, end);
      if (s >= t) continue;
      const m: MapEntry = { ...e, start: s, length: t - s, depth: e.depth + depth };
      if (e.offset !== undefined) m.offset = e.offset + (s - e.start);
      out.push(m);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.l2.clear();
    this.zCache.clear();
    this.host.close();
    this.backing?.close();
  }
}

// A logical volume as a block device: its segments laid end to end, each mapping onto areas of
// other devices as device-mapper's linear and striped targets do (dm-linear, dm-stripe;
// lvm2 lib/metadata/lv.h "lv_segment"). Also the zero and error targets, and a device that
// only throws (an LV that cannot be read: missing PV, unsupported segment type).

import type { BlockDevice, MapEntry } from '../../block/device.js';
import { coalesceMap } from '../../block/device.js';
import { GuestkitError } from '../../errors.js';

/** Where one stripe (or the only area of a linear segment) lives. */
export interface SegmentArea {
  dev: BlockDevice;
  /** Byte offset of the area on `dev`. */
  offset: number;
}

export type SegmentMapping =
  /** dm-stripe over `areas` in chunks of `stripeSize` bytes; one area = dm-linear. */
  | { kind: 'striped'; areas: SegmentArea[]; stripeSize: number }
  /** dm-zero */
  | { kind: 'zero' }
  /** dm-error: reads fail with this error. */
  | { kind: 'error'; error: GuestkitError };

export interface Segment {
  /** Byte offset of the segment in the LV. */
  start: number;
  length: number;
  mapping: SegmentMapping;
}

export class SegmentedDevice implements BlockDevice {
  readonly size: number;
  private readonly segs: Segment[];

  constructor(
    segments: Segment[],
    readonly description: string,
    readonly sectorSize = 512,
  ) {
    this.segs = [...segments].sort((a, b) => a.start - b.start);
    let at = 0;
    for (const s of this.segs) {
      if (s.start !== at) {
        throw new GuestkitError('CORRUPT', `${description}: segment at byte ${s.start} does not follow the previous one (expected ${at})`);
      }
      if (s.length <= 0) throw new GuestkitError('CORRUPT', `${description}: empty segment at byte ${s.start}`);
      const m = s.mapping;
      if (m.kind === 'striped') {
        if (m.areas.length === 0) throw new GuestkitError('CORRUPT', `${description}: segment at byte ${s.start} has no areas`);
        const n = m.areas.length;
        if (n > 1 && (!(m.stripeSize > 0) || s.length % n !== 0 || (s.length / n) % m.stripeSize !== 0)) {
          throw new GuestkitError('CORRUPT', `${description}: striped segment at byte ${s.start} cannot be split into ${m.areas.length} stripes`);
        }
        const per = s.length / m.areas.length;
        for (const [i, a] of m.areas.entries()) {
          if (a.offset < 0 || a.offset + per > a.dev.size) {
            throw new GuestkitError(
              'CORRUPT',
              `${description}: segment at byte ${s.start}, area ${i}: ${a.offset}+${per} is past the end of ${a.dev.description} (${a.dev.size} bytes)`,
            );
          }
        }
      }
      at += s.length;
    }
    this.size = at;
  }

  get segments(): readonly Segment[] {
    return this.segs;
  }

  private find(pos: number): number {
    let lo = 0;
    let hi = this.segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segs[mid].start <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  pread(buf: Uint8Array, pos: number): number {
    if (pos >= this.size || buf.length === 0) return 0;
    const total = Math.min(buf.length, this.size - pos);
    let done = 0;
    for (let si = this.find(pos); done < total; si++) {
      const s = this.segs[si];
      const inSeg = pos + done - s.start;
      const n = Math.min(total - done, s.length - inSeg);
      this.readSegment(s, buf.subarray(done, done + n), inSeg);
      done += n;
    }
    return total;
  }

  private readSegment(s: Segment, out: Uint8Array, off: number): void {
    const m = s.mapping;
    if (m.kind === 'zero') {
      out.fill(0);
      return;
    }
    if (m.kind === 'error') throw m.error;
    const n = m.areas.length;
    if (n === 1) {
      this.readArea(m.areas[0], out, off);
      return;
    }
    // dm-stripe: chunk c of the segment is chunk floor(c / n) of stripe c mod n.
    const ss = m.stripeSize;
    let done = 0;
    while (done < out.length) {
      const o = off + done;
      const chunk = Math.floor(o / ss);
      const within = o - chunk * ss;
      const take = Math.min(out.length - done, ss - within);
      const area = m.areas[chunk % n];
      this.readArea({ dev: area.dev, offset: area.offset + Math.floor(chunk / n) * ss }, out.subarray(done, done + take), within);
      done += take;
    }
  }

  private readArea(a: SegmentArea, out: Uint8Array, off: number): void {
    const got = a.dev.pread(out, a.offset + off);
    if (got !== out.length) {
      throw new GuestkitError('CORRUPT', `${this.description}: short read at ${a.offset + off} of ${a.dev.description}`);
    }
  }

  map(): MapEntry[] {
    const out: MapEntry[] = [];
    for (const s of this.segs) {
      const m = s.mapping;
      if (m.kind === 'error') throw m.error;
      if (m.kind === 'zero') {
        out.push({ start: s.start, length: s.length, depth: 0, present: true, zero: true, data: false });
      } else if (m.areas.length === 1) {
        // Linear: the area's own map, shifted.
        const a = m.areas[0];
        for (const e of a.dev.map()) {
          const from = Math.max(e.start, a.offset);
          const to = Math.min(e.start + e.length, a.offset + s.length);
          if (from >= to) continue;
          out.push({ ...e, start: s.start + from - a.offset, length: to - from, offset: e.offset === undefined ? undefined : e.offset + (from - e.start) });
        }
      } else {
        out.push({ start: s.start, length: s.length, depth: 0, present: true, zero: false, data: true });
      }
    }
    return coalesceMap(out);
  }

  close(): void {
    /* the PV devices belong to whoever opened them */
  }
}

/** A device of a known size whose every read fails with `error`. */
export class ErrorDevice implements BlockDevice {
  readonly sectorSize = 512;
  constructor(
    readonly size: number,
    readonly description: string,
    readonly error: GuestkitError,
  ) {}

  pread(buf: Uint8Array, pos: number): number {
    if (pos >= this.size || buf.length === 0) return 0;
    throw this.error;
  }

  map(): MapEntry[] {
    throw this.error;
  }

  close(): void {}
}

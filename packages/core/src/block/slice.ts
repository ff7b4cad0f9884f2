// A window [start, start+size) of another device: a partition, an LVM segment.

import { readAsync, type BlockDevice, type MapEntry } from './device.js';
import { GuestkitError } from '../errors.js';

export class SliceDevice implements BlockDevice {
  readonly sectorSize: number;
  constructor(
    readonly parent: BlockDevice,
    readonly start: number,
    readonly size: number,
    readonly description: string,
  ) {
    if (start < 0 || size < 0 || start + size > parent.size) {
      throw new GuestkitError(
        'CORRUPT',
        `${description}: range ${start}+${size} ends past the end of ${parent.description} (${parent.size} bytes)`,
      );
    }
    this.sectorSize = parent.sectorSize;
  }

  pread(buf: Uint8Array, pos: number): number {
    if (pos >= this.size) return 0;
    const n = Math.min(buf.length, this.size - pos);
    const view = n === buf.length ? buf : buf.subarray(0, n);
    return this.parent.pread(view, this.start + pos);
  }

  preadAsync(buf: Uint8Array, pos: number): Promise<number> {
    if (pos >= this.size) return Promise.resolve(0);
    const n = Math.min(buf.length, this.size - pos);
    return readAsync(this.parent, n === buf.length ? buf : buf.subarray(0, n), this.start + pos);
  }

  map(): MapEntry[] {
    const end = this.start + this.size;
    const out: MapEntry[] = [];
    for (const e of this.parent.map()) {
      const s = Math.max(e.start, this.start);
      const t = Math.min(e.start + e.length, end);
      if (s >= t) continue;
      out.push({
        ...e,
        start: s - this.start,
        length: t - s,
        offset: e.offset === undefined ? undefined : e.offset + (s - e.start),
      });
    }
    return out;
  }

  close(): void {
    /* the parent owns the file */
  }
}

// The data device as XFS log recovery leaves it, in memory: reads come from the underlying
// device with the replayed 512-byte blocks (log-recover.ts) laid over them. The image itself
// is never written.

import type { BlockDevice, MapEntry } from '../../block/device.js';

const BBSIZE = 512;

export class XlogReplayDevice implements BlockDevice {
  readonly size: number;
  readonly sectorSize: number;
  readonly description: string;
  /** Replayed block numbers, sorted, for range lookups. */
  private readonly keys: Float64Array;

  constructor(private readonly dev: BlockDevice, private readonly overlay: Map<number, Uint8Array>) {
    this.size = dev.size;
    this.sectorSize = dev.sectorSize;
    this.description = dev.description;
    this.keys = Float64Array.from(overlay.keys()).sort();
  }

  pread(buf: Uint8Array, pos: number): number {
    const n = this.dev.pread(buf, pos);
    if (n <= 0 || this.keys.length === 0) return n;
    const first = Math.floor(pos / BBSIZE);
    const last = Math.floor((pos + n - 1) / BBSIZE);
    // First replayed block >= first.
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid] < first) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.keys.length && this.keys[i] <= last; i++) {
      const bb = this.keys[i];
      const data = this.overlay.get(bb)!;
      const from = Math.max(bb * BBSIZE, pos);
      const to = Math.min((bb + 1) * BBSIZE, pos + n);
      buf.set(data.subarray(from - bb * BBSIZE, to - bb * BBSIZE), from - pos);
    }
    return n;
  }

  map(): MapEntry[] {
    return this.dev.map();
  }

  close(): void {
    this.dev.close();
  }
}

// The fuzz input format of the disk and filesystem targets: a sparse disk image, so that a
// seed made from a 16 MiB XFS or a 128 MiB btrfs is a few tens of KiB of metadata and the
// fuzzer's mutations land on metadata rather than on zeros.
//
//   u32 LE  size of the device in 512-byte sectors (clamped to MAX_SECTORS)
//   then records, until the input ends:
//     u32 LE  first sector
//     u16 LE  sector count n
//     n × 512 bytes (fewer if the input ends: the rest of the record reads as zeros)
//
// Sectors named by no record read as zeros; a later record wins over an earlier one.
// Decoding never fails: any byte string is some device.

import type { BlockDevice, MapEntry } from '@guestkit/core';

export const SECTOR = 512;
/** Devices are at most 1 GiB (2^21 sectors): large enough for every seed, bounded for the parsers. */
export const MAX_SECTORS = 1 << 21;

/** A read-only in-memory block device over a sector map. */
export class SparseDevice implements BlockDevice {
  readonly sectorSize = 512;
  readonly description: string;
  constructor(
    readonly size: number,
    private readonly sectors: Map<number, Uint8Array>,
    description = 'fuzz device',
  ) {
    this.description = description;
  }

  /** The sectors that hold data, in order (made on first read). */
  private present: number[] | undefined;

  pread(buf: Uint8Array, pos: number): number {
    if (pos >= this.size || pos < 0) return 0;
    const want = Math.min(buf.length, this.size - pos);
    // Zeros, then the sectors that hold data: a read costs the data sectors it meets, not one
    // step per sector (parsers read whole FATs, bitmaps and logs of up to 1 GiB of zeros).
    buf.fill(0, 0, want);
    const present = (this.present ??= [...this.sectors.keys()].sort((a, b) => a - b));
    const first = Math.floor(pos / SECTOR);
    let lo = 0;
    let hi = present.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (present[mid] < first) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < present.length; i++) {
      const sec = present[i];
      const start = sec * SECTOR;
      if (start >= pos + want) break;
      const from = Math.max(pos, start);
      const to = Math.min(pos + want, start + SECTOR);
      buf.set(this.sectors.get(sec)!.subarray(from - start, to - start), from - pos);
    }
    return want;
  }

  map(): MapEntry[] {
    return this.size ? [{ start: 0, length: this.size, depth: 0, present: true, zero: false, data: true, offset: 0 }] : [];
  }

  close(): void {}
}

/** A block device reading straight from a buffer (the whole input is the disk). */
export class BufferDevice extends SparseDevice {
  constructor(private readonly bytes: Uint8Array, description = 'fuzz device') {
    super(bytes.length, new Map(), description);
  }
  override pread(buf: Uint8Array, pos: number): number {
    if (pos >= this.size || pos < 0) return 0;
    const n = Math.min(buf.length, this.size - pos);
    buf.set(this.bytes.subarray(pos, pos + n));
    return n;
  }
}

export function decodeSparseImage(data: Uint8Array, description?: string): SparseDevice {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 4) return new SparseDevice(0, new Map(), description);
  const sectorsTotal = Math.min(dv.getUint32(0, true), MAX_SECTORS);
  const map = new Map<number, Uint8Array>();
  let off = 4;
  while (off + 6 <= data.length) {
    const first = dv.getUint32(off, true);
    const count = dv.getUint16(off + 4, true);
    off += 6;
    for (let i = 0; i < count; i++) {
      const sec = first + i;
      const start = off + i * SECTOR;
      if (start >= data.length) break;
      if (sec >= sectorsTotal) continue;
      let s = data.subarray(start, Math.min(start + SECTOR, data.length));
      if (s.length < SECTOR) {
        const full = new Uint8Array(SECTOR);
        full.set(s);
        s = full;
      }
      map.set(sec, s);
    }
    off += count * SECTOR;
  }
  return new SparseDevice(sectorsTotal * SECTOR, map, description);
}

/**
 * Encode an image (a whole file's bytes) as a sparse image: runs of non-zero sectors.
 * `maxBytes` drops the runs that would make the output larger (they read as zeros).
 */
export function encodeSparseImage(img: Uint8Array, maxBytes = Infinity): Uint8Array {
  const total = Math.ceil(img.length / SECTOR);
  const parts: Uint8Array[] = [];
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, Math.min(total, MAX_SECTORS), true);
  parts.push(head);
  let size = 4;
  // Word-wise when the buffer is 4-byte aligned (images are hundreds of MiB of zeros).
  const words = img.byteOffset % 4 === 0 ? new Uint32Array(img.buffer, img.byteOffset, img.length >>> 2) : null;
  const nonZero = (s: number) => {
    const end = Math.min(img.length, (s + 1) * SECTOR);
    let i = s * SECTOR;
    if (words) {
      for (const wEnd = end >>> 2; i >>> 2 < wEnd; i += 4) if (words[i >>> 2] !== 0) return true;
    }
    for (; i < end; i++) if (img[i] !== 0) return true;
    return false;
  };
  for (let s = 0; s < total && s < MAX_SECTORS; ) {
    if (!nonZero(s)) {
      s++;
      continue;
    }
    let e = s + 1;
    while (e < total && e - s < 0xffff && nonZero(e)) e++;
    const recBytes = 6 + (e - s) * SECTOR;
    if (size + recBytes > maxBytes) {
      s = e;
      continue;
    }
    const rec = new Uint8Array(recBytes);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, s, true);
    dv.setUint16(4, e - s, true);
    rec.set(img.subarray(s * SECTOR, Math.min(img.length, e * SECTOR)), 6);
    parts.push(rec);
    size += recBytes;
    s = e;
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

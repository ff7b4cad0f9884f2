// Shared by the qcow2*.test.ts files: comparing a device with qemu-img's raw conversion and
// qemu-img map, and patching bytes of copied images for bad-input tests.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coalesceMap, type BlockDevice, type MapEntry } from '@guestkit/core';

export const MiB = 1024 * 1024;

export function qemuImg(args: string[], opts: { cwd?: string } = {}): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

const made: string[] = [];

/** A fresh temporary folder, removed by removeTmpDirs() (each test file calls it in afterAll). */
export function tmpDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `guestkit-qcow2-${tag}-`));
  made.push(d);
  return d;
}

export function removeTmpDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Let the test runner's event loop breathe during long synchronous work. */
export const breathe = () => new Promise<void>((r) => setImmediate(r));

/** sha256 of a whole device, read in 4 MiB preads. */
export async function hashDevice(dev: BlockDevice): Promise<string> {
  const h = createHash('sha256');
  const buf = new Uint8Array(4 * MiB);
  let t = Date.now();
  for (let p = 0; p < dev.size; p += buf.length) {
    const n = dev.pread(buf, p);
    h.update(buf.subarray(0, n));
    if (Date.now() - t > 200) {
      await breathe();
      t = Date.now();
    }
  }
  return h.digest('hex');
}

export function hashFile(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4 * MiB);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** Deterministic generator for test offsets (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` reads at odd offsets and lengths, most starting just before a cluster or L2-table
 * boundary so that they cross it; each compared with the same range of the raw file.
 * Returns the number of mismatches (with the first one described).
 */
export async function randomReads(
  dev: BlockDevice,
  rawPath: string,
  opts: { clusterSize: number; l2Span: number; count: number; seed: number },
): Promise<{ bad: number; first?: string }> {
  const r = rng(opts.seed);
  const fd = openSync(rawPath, 'r');
  let bad = 0;
  let first: string | undefined;
  try {
    let t = Date.now();
    for (let i = 0; i < opts.count; i++) {
      if (Date.now() - t > 200) {
        await breathe();
        t = Date.now();
      }
      const kind = i % 4;
      let off: number;
      let len: number;
      if (kind === 0) {
        // Across a cluster boundary.
        const b = Math.floor(r() * Math.floor(dev.size / opts.clusterSize)) * opts.clusterSize;
        off = Math.max(0, b - 1 - Math.floor(r() * Math.min(opts.clusterSize, 4096)));
        len = 1 + Math.floor(r() * opts.clusterSize * 3);
      } else if (kind === 1) {
        // Across an L2-table boundary, when the device has one.
        const spans = Math.floor(dev.size / opts.l2Span);
        const b = spans > 0 ? (1 + Math.floor(r() * spans)) * opts.l2Span : Math.floor(r() * dev.size);
        off = Math.max(0, Math.min(dev.size - 1, b - 1 - Math.floor(r() * 70000)));
        len = 1 + Math.floor(r() * 200000);
      } else if (kind === 2) {
        // Tiny reads anywhere.
        off = Math.floor(r() * dev.size);
        len = 1 + Math.floor(r() * 17);
      } else {
        // Large reads anywhere, possibly past the end.
        off = Math.floor(r() * dev.size);
        len = 1 + Math.floor(r() * MiB);
      }
      const got = new Uint8Array(len);
      const n = dev.pread(got, off);
      const want = Buffer.alloc(len);
      const m = readSync(fd, want, 0, len, off);
      if (n !== m || Buffer.compare(Buffer.from(got.buffer, 0, n), want.subarray(0, m)) !== 0) {
        bad++;
        first ??= `read ${len} at ${off}: got ${n} bytes, want ${m}`;
      }
    }
  } finally {
    closeSync(fd);
  }
  return { bad, first };
}

export type QemuMapEntry = Omit<MapEntry, 'compressed'>;

export function qemuMap(image: string, extra: string[] = []): QemuMapEntry[] {
  return JSON.parse(qemuImg(['map', '--output=json', ...extra, image])) as QemuMapEntry[];
}

/**
 * Both maps in the form they can be compared in, field by field:
 * - qemu-img 7.2 has no "compressed" field (QEMU 8.2 added it): ours is dropped, and the
 *   ranges that then say the same thing merged, as qemu-img merges them;
 * - qemu reports "zero": true on data ranges that sit in holes of the image file when it
 *   thinks the image is preallocated (it asks the host file system with SEEK_DATA, which
 *   Node cannot do): such a range is data either way, so its zero flag is cleared.
 */
export function comparableMaps(ours: MapEntry[], theirs: QemuMapEntry[]): { ours: MapEntry[]; theirs: MapEntry[] } {
  const strip = (e: MapEntry): MapEntry => {
    const { compressed: _c, ...rest } = e;
    return rest;
  };
  const norm = (e: MapEntry): MapEntry => (e.data && e.zero ? { ...e, zero: false } : e);
  const o = coalesceMap(ours.map(strip)).map(strip);
  const t = coalesceMap(theirs.map((e) => norm(strip(e)))).map(strip);
  return { ours: o, theirs: t };
}

/** Copy an image into `dir` and return the copy's path. */
export function copyImage(src: string, dir: string, name: string): string {
  const p = join(dir, name);
  copyFileSync(src, p);
  return p;
}

export function patch(path: string, offset: number, bytes: Uint8Array | number[]): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.from(bytes);
    writeSync(fd, b, 0, b.length, offset);
  } finally {
    closeSync(fd);
  }
}

export function readAt(path: string, offset: number, len: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(len);
    readSync(fd, b, 0, len, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

export function be64(v: bigint): number[] {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return [...b];
}

export function be32(v: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return [...b];
}

/**
 * Header fields read directly from the file (independently of the parser under test), for
 * locating structures to patch.
 */
export function rawHeader(path: string) {
  const b = readAt(path, 0, 112);
  return {
    version: b.readUInt32BE(4),
    cluster_bits: b.readUInt32BE(20),
    size: Number(b.readBigUInt64BE(24)),
    l1_size: b.readUInt32BE(36),
    l1_table_offset: Number(b.readBigUInt64BE(40)),
    nb_snapshots: b.readUInt32BE(60),
    snapshots_offset: Number(b.readBigUInt64BE(64)),
    incompatible_features: b.readBigUInt64BE(72),
    header_length: b.readUInt32BE(100),
  };
}

/** Host offset of the first L2 table, and the index and value of its first nonzero entry matching `pred`. */
export function findL2Entry(path: string, pred: (e: bigint) => boolean, entryBytes = 8) {
  const h = rawHeader(path);
  const cs = 2 ** h.cluster_bits;
  const l1 = readAt(path, h.l1_table_offset, h.l1_size * 8);
  for (let i = 0; i < h.l1_size; i++) {
    const l2 = Number(l1.readBigUInt64BE(i * 8) & 0x00fffffffffffe00n);
    if (!l2) continue;
    const t = readAt(path, l2, cs);
    for (let j = 0; j < cs / entryBytes; j++) {
      const e = t.readBigUInt64BE(j * entryBytes);
      if (e !== 0n && pred(e)) return { l1Index: i, l2Offset: l2, index: j, entryOffset: l2 + j * entryBytes, entry: e, clusterSize: cs };
    }
  }
  throw new Error(`${path}: no L2 entry matches`);
}

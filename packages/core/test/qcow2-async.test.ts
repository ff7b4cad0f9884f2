// Bulk reads (readAsync / Qcow2Device.preadAsync): compressed clusters inflated in batches on
// worker threads. The bytes must be those of `qemu-img convert -O raw` and of pread, for whole
// devices, for reads at odd offsets and lengths (partial clusters stay on the main thread), on
// partitions (SliceDevice forwards), and a cluster that does not inflate fails the same way.
import { describe, it, expect, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { openImage, readAsync, SliceDevice, GuestkitError, type BlockDevice } from '@guestkit/core';
import { closeInflatePool, inflatePoolStarted, inflateWorkers } from '../src/block/qcow2/inflate-pool';
import { ensureImage } from '../../../test/helpers/images';
import { copyImage, findL2Entry, hashFile, patch, removeTmpDirs, rng, tmpDir, MiB } from './qcow2-helpers';

afterAll(async () => {
  removeTmpDirs();
  await closeInflatePool();
});

async function hashAsync(dev: BlockDevice, chunk: number): Promise<string> {
  const h = createHash('sha256');
  const buf = new Uint8Array(chunk);
  for (let p = 0; p < dev.size; p += buf.length) {
    const n = await readAsync(dev, buf, p);
    h.update(buf.subarray(0, n));
  }
  return h.digest('hex');
}

// Image, and the longest random read (several ASYNC_WINDOWs where the clusters are large).
const CASES = [
  ['qcow2-compressed', 'zlib-64k', 12 * MiB],
  ['qcow2-compressed', 'zlib-512', MiB],
  ['qcow2-compressed', 'zlib-2m', 12 * MiB],
  ['qcow2-compressed', 'zstd-64k', 2 * MiB],
  ['qcow2-extl2', 'extl2-compressed', 6 * MiB],
] as const;

for (const [recipe, name, maxLen] of CASES) {
  describe(`qcow2 bulk reads: ${name}`, () => {
    const dir = ensureImage(recipe);
    const raw = join(dir, `${name}.raw`);

    it('the whole device, in 4 MiB and in 9 MiB + 1 reads, hashes like qemu-img convert -O raw', async () => {
      const dev = openImage(join(dir, `${name}.qcow2`));
      try {
        const want = hashFile(raw);
        expect(await hashAsync(dev, 4 * MiB)).toBe(want);
        expect(await hashAsync(dev, 9 * MiB + 1)).toBe(want);
      } finally {
        dev.close();
      }
    });

    it(`60 reads at odd offsets, lengths up to ${maxLen / MiB} MiB, on the disk and on a slice of it, match the raw conversion`, async () => {
      const dev = openImage(join(dir, `${name}.qcow2`));
      const fd = openSync(raw, 'r');
      try {
        const r = rng(name.length * 31);
        const slice = new SliceDevice(dev, 12345, dev.size - 12345 - 999, 'slice');
        for (let i = 0; i < 60; i++) {
          const d = i % 2 ? slice : dev;
          const base = d === slice ? 12345 : 0;
          const off = Math.floor(r() * d.size);
          const len = 1 + Math.floor(r() * maxLen);
          const got = new Uint8Array(len);
          const n = await readAsync(d, got, off);
          const want = Buffer.alloc(Math.min(len, d.size - off));
          readSync(fd, want, 0, want.length, base + off);
          expect(n).toBe(want.length);
          expect(Buffer.compare(got.subarray(0, n), want)).toBe(0);
        }
      } finally {
        closeSync(fd);
        dev.close();
      }
    });
  });
}

describe('qcow2 bulk reads: bad input', () => {
  it('a zlib cluster that does not inflate rejects with CORRUPT naming it, like pread (on a worker)', async () => {
    expect(inflateWorkers()).toBeGreaterThan(0); // the pool runs: every batch goes to a worker
    expect(inflatePoolStarted()).toBe(true);
    const p = copyImage(join(ensureImage('qcow2-compressed'), 'zlib-64k.qcow2'), tmpDir('za'), 'x.qcow2');
    const l2 = findL2Entry(p, (e) => (e & 0x4000000000000000n) !== 0n);
    const off = Number(l2.entry & ((1n << 54n) - 1n));
    patch(p, off, new Array(64).fill(0xff));
    const dev = openImage(p);
    try {
      let err: unknown;
      try {
        const buf = new Uint8Array(16 * MiB);
        for (let q = 0; q < dev.size; q += buf.length) await readAsync(dev, buf, q);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GuestkitError);
      expect((err as GuestkitError).code).toBe('CORRUPT');
      expect((err as GuestkitError).message).toMatch(new RegExp(`compressed cluster at 0x${off.toString(16)} \\(guest offset \\d+\\): deflate data does not inflate`));
    } finally {
      dev.close();
    }
  });
});

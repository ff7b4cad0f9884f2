// qcow2 reads against qemu-img: for every image the recipes make (versions 2 and 3, cluster
// sizes 512 B to 2 MiB, compressed zlib/zstd, extended L2, snapshots, backing chains), the
// whole device hashes like `qemu-img convert -O raw` of it, a few hundred reads at odd
// offsets crossing cluster and L2-table boundaries match the raw conversion, and map()
// agrees with `qemu-img map --output=json`.
import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { openImage, Qcow2Device, LIMITS, type BlockDevice } from '@guestkit/core';
import { ensureImage } from '../../../test/helpers/images';
import { comparableMaps, hashDevice, hashFile, qemuMap, randomReads, rawHeader, MiB } from './qcow2-helpers';

interface Case {
  recipe: string;
  image: string;
  raw: string;
  what: string;
}

const c = (recipe: string, image: string, raw: string, what: string): Case => ({ recipe, image, raw, what });

const CASES: Case[] = [
  c('qcow2-basic', 'v2-512.qcow2', 'v2-512.raw', 'version 2, 512 B clusters (an L2 table maps 32 KiB)'),
  c('qcow2-basic', 'v2-64k.qcow2', 'v2-64k.raw', 'version 2, 64 KiB clusters'),
  c('qcow2-basic', 'v2-2m.qcow2', 'v2-2m.raw', 'version 2, 2 MiB clusters'),
  c('qcow2-basic', 'v3-512.qcow2', 'v3-512.raw', 'version 3, 512 B clusters, zero clusters'),
  c('qcow2-basic', 'v3-64k.qcow2', 'v3-64k.raw', 'version 3, 64 KiB clusters, zero clusters (allocated and plain)'),
  c('qcow2-basic', 'v3-2m.qcow2', 'v3-2m.raw', 'version 3, 2 MiB clusters'),
  c('qcow2-basic', 'v3-64k-l2cross.qcow2', 'v3-64k-l2cross.raw', 'version 3, 64 KiB clusters, data across the 512 MiB L2-table boundaries'),
  c('qcow2-compressed', 'zlib-64k.qcow2', 'zlib-64k.raw', 'zlib-compressed clusters, 64 KiB'),
  c('qcow2-compressed', 'zlib-v2-64k.qcow2', 'zlib-v2-64k.raw', 'zlib-compressed clusters in a version 2 image'),
  c('qcow2-compressed', 'zlib-512.qcow2', 'zlib-512.raw', 'zlib-compressed 512 B clusters'),
  c('qcow2-compressed', 'zlib-2m.qcow2', 'zlib-2m.raw', 'zlib-compressed 2 MiB clusters'),
  c('qcow2-compressed', 'zstd-64k.qcow2', 'zstd-64k.raw', 'zstd-compressed clusters, 64 KiB'),
  c('qcow2-compressed', 'zstd-512.qcow2', 'zstd-512.raw', 'zstd-compressed 512 B clusters'),
  c('qcow2-compressed', 'zstd-2m.qcow2', 'zstd-2m.raw', 'zstd-compressed 2 MiB clusters (multi-block frames)'),
  c('qcow2-extl2', 'extl2-64k.qcow2', 'extl2-64k.raw', 'extended L2 entries, 2 KiB subclusters'),
  c('qcow2-extl2', 'extl2-16k.qcow2', 'extl2-16k.raw', 'extended L2 entries, 512 B subclusters across 16 MiB L2 tables'),
  c('qcow2-extl2', 'extl2-2m.qcow2', 'extl2-2m.raw', 'extended L2 entries, 64 KiB subclusters'),
  c('qcow2-extl2', 'extl2-compressed.qcow2', 'extl2-compressed.raw', 'extended L2 entries with compressed clusters'),
  c('qcow2-snapshots', 'snap-v3.qcow2', 'snap-v3.raw', 'version 3 with internal snapshots (active state)'),
  c('qcow2-snapshots', 'snap-v2.qcow2', 'snap-v2.raw', 'version 2 with internal snapshots (active state)'),
  c('qcow2-chain', 'chain/top.qcow2', 'top.raw', 'three-deep backing chain, relative names, shorter backing files'),
  c('qcow2-chain', 'chain/mid.qcow2', 'mid.raw', 'version 2 over a version 3 backing file'),
  c('qcow2-chain', 'chain/raw-top.qcow2', 'raw-top.raw', 'raw backing file (backing_fmt raw)'),
  c('qcow2-chain', 'chain/extl2-top.qcow2', 'extl2-top.raw', 'extended L2 over a backing file (unallocated subclusters read from it)'),
];

function geometry(path: string) {
  const h = rawHeader(path);
  const clusterSize = 2 ** h.cluster_bits;
  const entryBytes = h.incompatible_features & 16n ? 16 : 8;
  return { clusterSize, l2Span: (clusterSize / entryBytes) * clusterSize };
}

for (const k of CASES) {
  describe(`qcow2 ${k.image}: ${k.what}`, () => {
    let dir = '';
    let image = '';
    let raw = '';
    let dev: BlockDevice;
    beforeAll(() => {
      dir = ensureImage(k.recipe);
      image = join(dir, k.image);
      raw = join(dir, k.raw);
      dev = openImage(image);
      return () => dev.close();
    });

    it('the whole device hashes the same as qemu-img convert -O raw', async () => {
      expect(dev.size).toBe(statSync(raw).size);
      expect(await hashDevice(dev)).toBe(hashFile(raw));
    });

    it('300 reads at odd offsets across cluster and L2 boundaries match the raw conversion', async () => {
      const g = geometry(image);
      const r = await randomReads(dev, raw, { ...g, count: 300, seed: k.image.length * 7919 + k.recipe.length });
      expect(r.first).toBeUndefined();
      expect(r.bad).toBe(0);
    });

    it('map() agrees with qemu-img map --output=json', () => {
      const { ours, theirs } = comparableMaps(dev.map(), qemuMap(image));
      expect(ours).toEqual(theirs);
    });
  });
}

describe('qcow2 read path', () => {
  it('coalesces host-contiguous clusters into one pread', () => {
    // v3-64k: the first 1 MiB was written by one qemu-io write, so its 16 clusters are contiguous.
    const image = ensureImage('qcow2-basic', 'v3-64k.qcow2');
    const dev = openImage(image) as Qcow2Device;
    try {
      const buf = new Uint8Array(1 * MiB);
      dev.pread(buf, 0); // loads the L2 table
      const before = dev.hostReads;
      dev.pread(buf, 0);
      expect(dev.hostReads - before).toBe(1);
      // Reverse-ordered writes at 12 MiB: clusters are not contiguous, so more than one read.
      const b2 = dev.hostReads;
      dev.pread(buf, 12 * MiB);
      expect(dev.hostReads - b2).toBeGreaterThan(1);
    } finally {
      dev.close();
    }
  });

  it('keeps at most LIMITS.qcow2L2CacheTables L2 tables while reading 768 of them', async () => {
    // 512 B clusters: each L2 table maps 32 KiB, so 24 MiB needs 768 tables.
    const dev = openImage(ensureImage('qcow2-basic', 'v3-512.qcow2')) as Qcow2Device;
    try {
      await hashDevice(dev);
      expect(dev.l2CacheLimit).toBe(LIMITS.qcow2L2CacheTables);
      expect(dev.l2CacheTables).toBeLessThanOrEqual(LIMITS.qcow2L2CacheTables);
      expect(dev.l2CacheTables).toBeGreaterThan(0);
    } finally {
      dev.close();
    }
  });

  it('the L2 cache holds fewer tables when clusters are 2 MiB (bounded in bytes too)', () => {
    const dev = openImage(ensureImage('qcow2-basic', 'v3-2m.qcow2')) as Qcow2Device;
    try {
      expect(dev.l2CacheLimit * 2 * MiB).toBeLessThanOrEqual(32 * MiB);
    } finally {
      dev.close();
    }
  });

  it('detects qcow2 by magic, and --format raw reads the container bytes instead', () => {
    const image = ensureImage('qcow2-basic', 'v3-64k.qcow2');
    const q = openImage(image);
    const r = openImage(image, { format: 'raw' });
    try {
      expect(q).toBeInstanceOf(Qcow2Device);
      expect(q.description).toBe(`qcow2 image ${image}`);
      const b = new Uint8Array(4);
      r.pread(b, 0);
      expect(Buffer.from(b).toString('latin1')).toBe('QFI\xfb');
      expect(r.size).toBe(statSync(image).size);
    } finally {
      q.close();
      r.close();
    }
  });

  it('reads past the end return 0 and a read straddling the end is short', () => {
    const dev = openImage(ensureImage('qcow2-basic', 'v3-64k.qcow2'));
    try {
      const b = new Uint8Array(8192);
      expect(dev.pread(b, dev.size)).toBe(0);
      expect(dev.pread(b, dev.size - 100)).toBe(100);
    } finally {
      dev.close();
    }
  });
});

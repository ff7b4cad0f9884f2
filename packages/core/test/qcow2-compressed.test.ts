// qcow2 compressed-cluster decoding beyond what qemu-img writes: zstd data in several frames
// (QEMU's reader keeps decoding frames until the cluster is full), skippable frames, frames
// without a content size, data after the stream (the tail of the last sector belongs to the
// next cluster), and output bounded to one cluster. Inputs made by the zstd CLI and zlib.
import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { deflateRawSync } from 'node:zlib';
import { GuestkitError } from '@guestkit/core';
import { ClusterDecompressor, compressedDescriptor } from '../src/block/qcow2/compressed';
import { walkZstdFrame } from '../src/block/qcow2/zstd-frame';
import { rng, tmpDir, removeTmpDirs } from './qcow2-helpers';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

afterAll(removeTmpDirs);

const CS = 65536;

function cluster(seed: number): Uint8Array {
  const r = rng(seed);
  const words = ['qcow2', 'cluster', 'zstd', 'frame', 'guest', 'disk'];
  return Buffer.from(Array.from({ length: CS }, () => words[Math.floor(r() * words.length)]).join(' ').slice(0, CS));
}

/** zstd CLI on a file (so the frame records its content size, as QEMU's frames do). */
const zstd = (data: Uint8Array, ...args: string[]) => {
  const f = join(tmpDir('zstd'), 'in');
  writeFileSync(f, data);
  return new Uint8Array(execFileSync('zstd', ['-q', '-c', ...args, f]));
};
const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));

describe('qcow2 compressed clusters: zstd', () => {
  const d = new ClusterDecompressor(1, CS);
  const data = cluster(1);

  it('one frame with its content size, followed by the next cluster\'s bytes', () => {
    const f = zstd(data);
    expect(walkZstdFrame(f, 0, 't').contentSize).toBe(CS);
    const out = new Uint8Array(CS);
    d.decompress(cat(f, zstd(cluster(2))), out, 't');
    expect(Buffer.compare(out, data)).toBe(0);
  });

  it('a frame without a content size (--no-content-size) and with a checksum', () => {
    const f = zstd(data, '--no-content-size', '--check');
    expect(walkZstdFrame(f, 0, 't').contentSize).toBeUndefined();
    const out = new Uint8Array(CS);
    d.decompress(cat(f, new Uint8Array(300).fill(0xcc)), out, 't');
    expect(Buffer.compare(out, data)).toBe(0);
  });

  it('a cluster split across two frames with a skippable frame between them', () => {
    const skippable = new Uint8Array([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]);
    const out = new Uint8Array(CS);
    d.decompress(cat(zstd(data.subarray(0, 20000)), skippable, zstd(data.subarray(20000))), out, 't');
    expect(Buffer.compare(out, data)).toBe(0);
  });

  it('a frame that decodes to more than a cluster stops at the cluster, as QEMU does', () => {
    const big = cat(data, cluster(3));
    const out = new Uint8Array(CS);
    d.decompress(zstd(big, '--no-content-size'), out, 't');
    expect(Buffer.compare(out, data)).toBe(0);
  });

  it('data that ends before the cluster is full: CORRUPT', () => {
    expect(() => d.decompress(zstd(data.subarray(0, 1000)), new Uint8Array(CS), 'cluster X')).toThrow(
      new GuestkitError('CORRUPT', 'cluster X: zstd data ends after 1000 of 65536 bytes'),
    );
  });

  it('a frame cut short: CORRUPT naming the frame', () => {
    const f = zstd(data);
    expect(() => d.decompress(f.subarray(0, f.length - 10), new Uint8Array(CS), 'cluster X')).toThrow(/^cluster X: zstd frame at 0: block runs past the compressed data$/);
  });

  it('a frame asking for a dictionary: CORRUPT', () => {
    // A frame with a window descriptor and no dictionary ID; give it a one-byte ID of 7.
    const f = zstd(data, '--no-content-size');
    expect(f[4] & 0x23).toBe(0);
    const g = cat(f.subarray(0, 4), new Uint8Array([f[4] | 1, f[5], 7]), f.subarray(6));
    expect(() => d.decompress(g, new Uint8Array(CS), 'c')).toThrow(/needs dictionary 7/);
  });

  it('a window larger than the allocation limit: LIMIT, before any allocation', () => {
    // Frame header: magic, FHD 0 (window descriptor, no content size), window 2^(10+31).
    const f = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 31 << 3, 0x01, 0x00, 0x00]);
    expect(() => d.decompress(f, new Uint8Array(CS), 'c')).toThrow(expect.objectContaining({ code: 'LIMIT' }));
  });
});

describe('qcow2 compressed clusters: deflate', () => {
  const d = new ClusterDecompressor(0, CS);
  const data = cluster(4);

  it('raw deflate followed by other bytes', () => {
    const out = new Uint8Array(CS);
    d.decompress(cat(deflateRawSync(data), new Uint8Array(512).fill(0x77)), out, 't');
    expect(Buffer.compare(out, data)).toBe(0);
  });

  it('a stream that inflates to more than a cluster: CORRUPT, output never larger than a cluster', () => {
    expect(() => d.decompress(deflateRawSync(cat(data, data)), new Uint8Array(CS), 'c')).toThrow(/^c: deflate data inflates to more than a cluster/);
  });

  it('a stream that inflates to less than a cluster: CORRUPT', () => {
    expect(() => d.decompress(deflateRawSync(data.subarray(0, 100)), new Uint8Array(CS), 'c')).toThrow('c: deflate data inflates to 100 bytes, not a cluster (65536)');
  });

  it('an unknown compression type is UNSUPPORTED', () => {
    expect(() => new ClusterDecompressor(2, CS)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
});

describe('qcow2 compressed cluster descriptor', () => {
  it('splits offset and sector count at x = 62 - (cluster_bits - 8)', () => {
    // 64 KiB clusters: x = 54; offset 0x123456 and 3 additional sectors.
    const e = (3n << 54n) | 0x123456n;
    const d = compressedDescriptor(Number(e >> 32n), Number(e & 0xffffffffn), 16);
    expect(d).toEqual({ offset: 0x123456, size: 4 * 512 - 0x56 });
    // 512 B clusters: x = 61, one bit of sector count.
    const f = (1n << 61n) | 0x1000200n;
    expect(compressedDescriptor(Number(f >> 32n), Number(f & 0xffffffffn), 9)).toEqual({ offset: 0x1000200, size: 1024 });
    // 2 MiB clusters: x = 49.
    const g = (8191n << 49n) | 0x1ffffffffffffn;
    expect(compressedDescriptor(Number(g >> 32n), Number(g & 0xffffffffn), 21)).toEqual({ offset: 0x1ffffffffffff, size: 8192 * 512 - 511 });
  });
});

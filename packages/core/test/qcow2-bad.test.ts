// qcow2 bad input: truncated, corrupted and hostile images (copies of real images with bytes
// patched), and features guestkit refuses. Each gives a GuestkitError with a stable code and
// a one-line message naming the image and the structure; none hangs or allocates from an
// on-disk size.
import { describe, it, expect, beforeAll, afterEach, afterAll } from 'vitest';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { truncateSync, writeFileSync, statSync } from 'node:fs';
import { GuestkitError, listSnapshots, openImage, setWarningSink, type OpenOptions } from '@guestkit/core';
import { ensureImage } from '../../../test/helpers/images';
import { be32, be64, copyImage, findL2Entry, hashDevice, hashFile, patch, qemuImg, rawHeader, readAt, tmpDir, MiB, removeTmpDirs } from './qcow2-helpers';

afterAll(removeTmpDirs);

/** Open and read the whole device; return the error it gives. */
function failure(path: string, opts: OpenOptions = {}): GuestkitError {
  try {
    const dev = openImage(path, opts);
    try {
      const b = new Uint8Array(4 * MiB);
      for (let p = 0; p < dev.size; p += b.length) dev.pread(b, p);
      dev.map();
    } finally {
      dev.close();
    }
  } catch (e) {
    expect(e).toBeInstanceOf(GuestkitError);
    const g = e as GuestkitError;
    expect(g.message).not.toContain('\n');
    expect(g.message.startsWith(`${path}: `)).toBe(true);
    return g;
  }
  throw new Error(`${path}: opened and read without an error`);
}

let basic = '';
let compressed = '';
let extl2 = '';
let snaps = '';
beforeAll(() => {
  basic = ensureImage('qcow2-basic');
  compressed = ensureImage('qcow2-compressed');
  extl2 = ensureImage('qcow2-extl2');
  snaps = ensureImage('qcow2-snapshots');
});

const warnings: string[] = [];
afterEach(() => {
  warnings.length = 0;
  setWarningSink((m) => process.stderr.write(`guestkit: warning: ${m}\n`));
});
function captureWarnings(): void {
  setWarningSink((m) => warnings.push(m));
}

describe('qcow2 bad input: truncated', () => {
  it('a file shorter than the header: CORRUPT', () => {
    const t = tmpDir('trunc');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    truncateSync(p, 50);
    const e = failure(p);
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toBe(`${p}: qcow2 header: the file is 50 bytes, shorter than a qcow2 header (72 bytes)`);
  });

  it('cut before its L1 table: CORRUPT naming the L1 table', () => {
    const t = tmpDir('trunc');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    const h = rawHeader(p);
    truncateSync(p, h.l1_table_offset + 4);
    const e = failure(p);
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/qcow2 L1 table at 0x[0-9a-f]+ \(\+\d+\) is past the end of the file/);
  });

  it('cut in the middle of its data clusters: CORRUPT on read, naming the cluster', () => {
    const t = tmpDir('trunc');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    truncateSync(p, statSync(p).size - 300000);
    const e = failure(p);
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/(data cluster|L2 table).* past the end of the file/);
  });
});

describe('qcow2 bad input: tables', () => {
  it('L1 table offset past the end of the file: CORRUPT', () => {
    const t = tmpDir('l1');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    patch(p, 40, be64(0x7fff0000n));
    const e = failure(p);
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toBe(`${p}: qcow2 L1 table at 0x7fff0000 (+8) is past the end of the file (${statSync(p).size} bytes)`);
  });

  it('L1 table offset not aligned to a cluster: CORRUPT', () => {
    const t = tmpDir('l1');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    patch(p, 40, be64(0x30200n));
    expect(failure(p).message).toMatch(/L1 table offset 0x30200 is not aligned to a cluster/);
  });

  it('L2 table offset past the end of the file: CORRUPT, naming the L1 entry', () => {
    const t = tmpDir('l2');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    const h = rawHeader(p);
    patch(p, h.l1_table_offset, be64(0x8000000000000000n | 0x7fff0000n));
    const e = failure(p);
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toBe(`${p}: qcow2 L1 table: entry 0: L2 table at 0x7fff0000 is past the end of the file (${statSync(p).size} bytes)`);
  });

  it('L2 entry pointing into the header (offset 0 with the copied flag): CORRUPT', () => {
    const t = tmpDir('hdr');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    const l2 = findL2Entry(p, (e) => (e & 0x00fffffffffffe00n) !== 0n);
    patch(p, l2.entryOffset, be64(0x8000000000000000n));
    const e = failure(p);
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(new RegExp(`qcow2 L2 table at 0x${l2.l2Offset.toString(16)}, entry ${l2.index} \\(guest offset \\d+\\): data cluster at host offset 0 points into the header`));
  });

  it('L2 entry pointing inside the header cluster (offset 0x200): CORRUPT', () => {
    const t = tmpDir('hdr');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    const l2 = findL2Entry(p, (e) => (e & 0x00fffffffffffe00n) !== 0n);
    patch(p, l2.entryOffset, be64(0x8000000000000200n));
    expect(failure(p).message).toMatch(/data cluster at 0x200 points into the header/);
  });

  it('compressed cluster descriptor pointing into the header: CORRUPT', () => {
    const t = tmpDir('hdr');
    const p = copyImage(join(compressed, 'zlib-64k.qcow2'), t, 'x.qcow2');
    const l2 = findL2Entry(p, (e) => (e & 0x4000000000000000n) !== 0n);
    patch(p, l2.entryOffset, be64(0x4000000000000010n));
    const e = failure(p);
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/compressed cluster at 0x10 points into the header/);
  });

  it('data cluster past the end of the file: CORRUPT', () => {
    const t = tmpDir('past');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    const l2 = findL2Entry(p, (e) => (e & 0x00fffffffffffe00n) !== 0n);
    patch(p, l2.entryOffset, be64(0x8000000000000000n | 0x40000000n));
    expect(failure(p).message).toMatch(/data cluster at 0x40000000 is past the end of the file/);
  });

  it('data cluster offset not aligned: CORRUPT', () => {
    const t = tmpDir('unal');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    const l2 = findL2Entry(p, (e) => (e & 0x00fffffffffffe00n) !== 0n);
    patch(p, l2.entryOffset, be64(0x8000000000000000n | 0x50200n));
    expect(failure(p).message).toMatch(/data cluster offset 0x50200 is not aligned to a cluster/);
  });

  it('extended L2 entry with subclusters both allocated and zero: CORRUPT', () => {
    const t = tmpDir('ext');
    const p = copyImage(join(extl2, 'extl2-64k.qcow2'), t, 'x.qcow2');
    const l2 = findL2Entry(p, (e) => (e & 0x00fffffffffffe00n) !== 0n, 16);
    patch(p, l2.entryOffset + 8, be64(0x0000000100000001n));
    expect(failure(p).message).toMatch(/subclusters marked both allocated and zero/);
  });

  it('L1 table too small for the disk size: CORRUPT', () => {
    const t = tmpDir('l1small');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    patch(p, 24, be64(1n << 40n));
    const e = failure(p);
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/L1 table has 1 entries, too few for a 1099511627776-byte disk \(needs 2048\)/);
  });

  it('an L1 table larger than the metadata limit: LIMIT, nothing allocated', () => {
    const t = tmpDir('l1big');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    patch(p, 36, be32(0x10000000));
    const e = failure(p);
    expect(e.code).toBe('LIMIT');
    expect(e.message).toMatch(/L1 table of 268435456 entries exceeds the limit of 33554432 bytes/);
  });
});

describe('qcow2 bad input: compressed clusters', () => {
  it('a zlib cluster that does not inflate: CORRUPT', () => {
    const t = tmpDir('z');
    const p = copyImage(join(compressed, 'zlib-64k.qcow2'), t, 'x.qcow2');
    const l2 = findL2Entry(p, (e) => (e & 0x4000000000000000n) !== 0n);
    const off = Number(l2.entry & ((1n << 54n) - 1n)); // x = 62 - (16 - 8) = 54 offset bits
    patch(p, off, new Array(64).fill(0xff));
    const e = failure(p);
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(new RegExp(`compressed cluster at 0x${off.toString(16)} \\(guest offset \\d+\\): deflate data does not inflate`));
  });

  it('a zlib cluster cut short (sector count patched to 1): CORRUPT', () => {
    const t = tmpDir('z');
    const p = copyImage(join(compressed, 'zlib-64k.qcow2'), t, 'x.qcow2');
    const l2 = findL2Entry(p, (e) => (e & 0x4000000000000000n) !== 0n && ((e >> 54n) & 0xffn) > 2n);
    patch(p, l2.entryOffset, be64(l2.entry & ~(0xffn << 54n)));
    const e = failure(p);
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/deflate data (inflates to \d+ bytes, not a cluster|does not inflate)/);
  });

  it('a zstd cluster that does not decompress: CORRUPT', () => {
    const t = tmpDir('zs');
    const p = copyImage(join(compressed, 'zstd-64k.qcow2'), t, 'x.qcow2');
    const l2 = findL2Entry(p, (e) => (e & 0x4000000000000000n) !== 0n);
    const off = Number(l2.entry & ((1n << 54n) - 1n));
    patch(p, off + 4, new Array(60).fill(0xee));
    const e = failure(p);
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/compressed cluster at 0x[0-9a-f]+ \(guest offset \d+\): zstd frame at 0: /);
  });

  it('zstd data that is not a zstd frame at all: CORRUPT', () => {
    const t = tmpDir('zs');
    const p = copyImage(join(compressed, 'zstd-64k.qcow2'), t, 'x.qcow2');
    const l2 = findL2Entry(p, (e) => (e & 0x4000000000000000n) !== 0n);
    const off = Number(l2.entry & ((1n << 54n) - 1n));
    patch(p, off, [0, 0, 0, 0]);
    expect(failure(p).message).toMatch(/zstd frame at 0: bad magic 0x0/);
  });
});

describe('qcow2 bad input: header', () => {
  it('garbage after the magic: CORRUPT', () => {
    const t = tmpDir('garbage');
    const p = join(t, 'x.qcow2');
    const b = Buffer.alloc(65536);
    let x = 12345;
    for (let i = 0; i < b.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      b[i] = x >>> 24;
    }
    b.writeUInt32BE(0x514649fb, 0);
    writeFileSync(p, b);
    const e = failure(p);
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/^.*: qcow2 header: invalid version \d+$/);
  });

  it('a valid version with garbage geometry (cluster_bits 200): CORRUPT', () => {
    const t = tmpDir('garbage');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    patch(p, 20, be32(200));
    expect(failure(p).message).toBe(`${p}: qcow2 header: invalid cluster_bits 200`);
  });

  it('cluster_bits 8 (256 B clusters): CORRUPT; cluster_bits 22 (4 MiB): UNSUPPORTED', () => {
    const t = tmpDir('cb');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    patch(p, 20, be32(8));
    expect(failure(p).code).toBe('CORRUPT');
    patch(p, 20, be32(22));
    const e = failure(p);
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/cluster size 2\^22 is larger than 2 MiB/);
  });

  it('no qcow2 magic with --format qcow2: UNKNOWN_FORMAT', () => {
    const p = join(basic, 'plain.img');
    const e = failure(p, { format: 'qcow2' });
    expect(e.code).toBe('UNKNOWN_FORMAT');
    expect(e.message).toMatch(/not a qcow2 image \(magic 0x[0-9a-f]+, expected 0x514649fb\)/);
  });

  it('version 1 (old qcow) and version 4: UNSUPPORTED', () => {
    const t = tmpDir('ver');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    patch(p, 4, be32(1));
    expect(failure(p).message).toMatch(/version 1 \(the old qcow format\) is not supported/);
    patch(p, 4, be32(4));
    expect(failure(p).message).toMatch(/qcow2 version 4 is not supported \(supported: 2 and 3\)/);
  });

  it('invalid header_length: CORRUPT', () => {
    const t = tmpDir('hl');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    patch(p, 100, be32(101));
    expect(failure(p).message).toBe(`${p}: qcow2 header: invalid header_length 101`);
  });

  it('a header extension running past the header cluster: CORRUPT', () => {
    const t = tmpDir('ext');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    const h = rawHeader(p);
    patch(p, h.header_length + 4, be32(0x7fffffff));
    expect(failure(p).message).toMatch(/qcow2 header extension 0x[0-9a-f]{8} at \d+: length 2147483647 runs past the end of the extension area/);
  });

  it('a backing file name outside the header cluster: CORRUPT', () => {
    const t = tmpDir('bfo');
    const p = copyImage(join(ensureImage('qcow2-chain'), 'chain', 'top.qcow2'), t, 'x.qcow2');
    patch(p, 8, be64(0x100000n));
    expect(failure(p).message).toMatch(/backing file name at 1048576 \(\+9\) is outside the header cluster/);
  });

  it('a snapshot table past the end of the file: CORRUPT when listing or opening a snapshot', () => {
    const t = tmpDir('snap');
    const p = copyImage(join(snaps, 'snap-v3.qcow2'), t, 'x.qcow2');
    patch(p, 64, be64(0x40000000n));
    expect(() => listSnapshots(p)).toThrow(expect.objectContaining({ code: 'CORRUPT' }));
    expect(failure(p, { snapshot: 'first' }).message).toMatch(/qcow2 snapshot table entry 0 at 0x40000000 \(\+40\) is past the end of the file/);
    // The active state does not need the table.
    openImage(p).close();
  });

  it('too many snapshots: LIMIT', () => {
    const t = tmpDir('snap');
    const p = copyImage(join(snaps, 'snap-v3.qcow2'), t, 'x.qcow2');
    patch(p, 60, be32(0xffffffff));
    expect(() => listSnapshots(p)).toThrow(expect.objectContaining({ code: 'LIMIT' }));
  });
});

describe('qcow2 features refused or warned about', () => {
  it('corrupt bit without --force: REFUSED', () => {
    const t = tmpDir('corrupt');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    patch(p, 72, be64(2n));
    expect(qemuImg(['info', p])).toMatch(/corrupt: true/);
    const e = failure(p);
    expect(e.code).toBe('REFUSED');
    expect(e.message).toBe(`${p}: qcow2 image is marked corrupt (incompatible feature bit 1); use --force to read it anyway`);
  });

  it('corrupt bit with --force: reads, with a warning', async () => {
    const t = tmpDir('corrupt');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    patch(p, 72, be64(2n));
    captureWarnings();
    const dev = openImage(p, { force: true });
    try {
      expect(await hashDevice(dev)).toBe(hashFile(join(basic, 'v3-64k.raw')));
    } finally {
      dev.close();
    }
    expect(warnings).toEqual([`${p}: qcow2 image is marked corrupt; reading it anyway because of --force`]);
  });

  it('dirty bit (qemu-io aborted with lazy refcounts): reads read-only, with a warning', async () => {
    const t = tmpDir('dirty');
    const p = join(t, 'dirty.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', p, '4M']);
    try {
      execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5d 65536 200000', '-c', 'abort', p], { stdio: 'ignore' });
    } catch {
      /* abort kills qemu-io: expected */
    }
    expect(rawHeader(p).incompatible_features & 1n).toBe(1n);
    qemuImg(['convert', '-O', 'raw', p, join(t, 'dirty.raw')]);
    captureWarnings();
    const dev = openImage(p);
    try {
      expect(await hashDevice(dev)).toBe(hashFile(join(t, 'dirty.raw')));
    } finally {
      dev.close();
    }
    expect(warnings).toEqual([`${p}: qcow2 image is dirty (not closed cleanly); reading it read-only, its refcounts are not used`]);
  });

  it('an unknown incompatible feature bit: UNSUPPORTED, naming the bit', () => {
    const t = tmpDir('incompat');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    patch(p, 72, be64(1n << 5n));
    const e = failure(p);
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toBe(`${p}: qcow2 image uses unknown incompatible feature bit 5; refusing to read it`);
  });

  it('an unknown incompatible feature bit named in the feature name table: the message names it', () => {
    const t = tmpDir('incompat');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    // Find the feature name table (0x6803f857) and rename its first incompatible entry to bit 9.
    const h = rawHeader(p);
    const head = readAt(p, 0, 4096);
    let off = h.header_length;
    let entry = -1;
    while (off + 8 <= head.length && head.readUInt32BE(off) !== 0) {
      const len = head.readUInt32BE(off + 4);
      if (head.readUInt32BE(off) === 0x6803f857) {
        for (let i = 0; i + 48 <= len; i += 48) if (head[off + 8 + i] === 0 && head[off + 9 + i] === 0) entry = off + 8 + i;
      }
      off += 8 + Math.ceil(len / 8) * 8;
    }
    expect(entry).toBeGreaterThan(0);
    patch(p, entry + 1, [9]);
    patch(p, 72, be64(1n << 9n));
    expect(failure(p).message).toBe(`${p}: qcow2 image uses unknown incompatible feature bit 9 (dirty bit); refusing to read it`);
  });

  it('LUKS encryption (qemu-img create -o encrypt.format=luks): UNSUPPORTED', () => {
    const t = tmpDir('luks');
    const p = join(t, 'luks.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '--object', 'secret,id=sec0,data=abc', '-o', 'encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10', p, '1M']);
    const e = failure(p);
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toBe(`${p}: qcow2 image is encrypted (LUKS), which guestkit does not read`);
  });

  it('legacy AES encryption (crypt_method 1): UNSUPPORTED', () => {
    const t = tmpDir('aes');
    const p = copyImage(join(basic, 'v3-64k.qcow2'), t, 'x.qcow2');
    patch(p, 32, be32(1));
    expect(failure(p).message).toBe(`${p}: qcow2 image is encrypted (AES), which guestkit does not read`);
  });

  it('an external data file (qemu-img create -o data_file=...): UNSUPPORTED, naming it', () => {
    const t = tmpDir('datafile');
    const p = join(t, 'x.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-o', 'data_file=x.data', p, '1M'], { cwd: t });
    const e = failure(p);
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toBe(`${p}: qcow2 image keeps its data in an external data file "x.data", which guestkit does not read`);
  });

  it('compression type bit with an unknown compression_type: UNSUPPORTED', () => {
    const t = tmpDir('ctype');
    const p = copyImage(join(compressed, 'zstd-64k.qcow2'), t, 'x.qcow2');
    patch(p, 104, [7]);
    expect(failure(p).message).toBe(`${p}: qcow2 compression type 7 is not supported (zlib and zstd are)`);
  });
});

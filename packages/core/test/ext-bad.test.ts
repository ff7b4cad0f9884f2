// Bad input: hand-patched copies of images made by mke2fs -d. Bit-flipped superblocks, group
// descriptors, inode tables, extent headers and directory blocks; an extent tree that loops;
// extents past the end of the filesystem; a file claiming 2^60 bytes. Each gives a clear
// GuestkitError (or a warning where Linux goes on), never another exception, never a hang.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync, openSync, writeSync, readSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureImage } from '../../../test/helpers/images.js';
import { openExtImage, resolve, walk, debugfs, exhaust } from './ext-helpers.js';
import { GuestkitError } from '../src/errors.js';
import type { ExtFs } from '../src/fs/ext/index.js';

let tmp: string;
let n = 0;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'guestkit-extbad-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function copyOf(img: string): string {
  const p = join(tmp, `copy-${n++}.img`);
  copyFileSync(img, p);
  return p;
}

function readAt(path: string, off: number, len: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(len);
    readSync(fd, b, 0, len, off);
    return b;
  } finally {
    closeSync(fd);
  }
}

function writeAt(path: string, off: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, off);
  } finally {
    closeSync(fd);
  }
}

function flipBit(path: string, bit: number): void {
  const off = Math.floor(bit / 8);
  const b = readAt(path, off, 1);
  b[0] ^= 1 << bit % 8;
  writeAt(path, off, b);
}

/** Byte offset of inode `ino` in the image (debugfs imap). */
function inodeOffset(img: string, ino: number, bs: number): number {
  const m = /located at block (\d+), offset 0x([0-9a-f]+)/.exec(debugfs(img, `imap <${ino}>`))!;
  return Number(m[1]) * bs + parseInt(m[2], 16);
}

function bmap(img: string, path: string, lblk = 0): number {
  return Number(/(\d+)\s*$/.exec(debugfs(img, `bmap ${path} ${lblk}`).trim())![1]);
}

/** The error a function throws (a GuestkitError, or the test fails). */
function errorOf(f: () => unknown): GuestkitError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GuestkitError);
    return e as GuestkitError;
  }
  throw new Error('expected a GuestkitError, nothing was thrown');
}

/** Open and walk everything; only GuestkitErrors, bounded CPU time. */
function survive(img: string): { fs: ExtFs | null; errors: GuestkitError[] } {
  const cpu0 = process.cpuUsage();
  let fs: ExtFs | null = null;
  let errors: GuestkitError[];
  try {
    fs = openExtImage(img);
    errors = exhaust(fs).errors;
  } catch (e) {
    if (!(e instanceof GuestkitError)) throw e;
    errors = [e];
  }
  const cpu = process.cpuUsage(cpu0);
  expect((cpu.user + cpu.system) / 1000).toBeLessThan(10_000);
  return { fs, errors };
}

/** Let the test runner's RPC breathe between long synchronous steps. */
const tick = () => new Promise<void>((r) => setImmediate(r));

/** Deterministic bit positions in [from, to) bytes. */
function bits(seed: number, count: number, from: number, to: number): number[] {
  let x = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.push(from * 8 + (x % ((to - from) * 8)));
  }
  return out;
}

describe('bit-flipped superblock', () => {
  let img: string;
  beforeAll(() => {
    img = join(ensureImage('ext-ext4-inline'), 'ext4-inline.img');
  });

  it('no magic: UNKNOWN_FORMAT; absurd block size or group geometry: CORRUPT naming the field', () => {
    const a = copyOf(img);
    flipBit(a, (1024 + 0x38) * 8 + 1);
    expect(errorOf(() => openExtImage(a)).code).toBe('UNKNOWN_FORMAT');
    const b = copyOf(img);
    writeAt(b, 1024 + 0x18, Buffer.from([200, 0, 0, 0]));
    expect(errorOf(() => openExtImage(b)).message).toMatch(/superblock.*s_log_block_size 200/);
    const c = copyOf(img);
    writeAt(c, 1024 + 0x28, Buffer.alloc(4));
    expect(errorOf(() => openExtImage(c)).message).toMatch(/s_inodes_per_group 0 is invalid/);
    const d = copyOf(img);
    writeAt(d, 1024 + 0x20, Buffer.alloc(4));
    expect(errorOf(() => openExtImage(d)).code).toBe('CORRUPT');
  });

  it('an unknown incompatible feature is refused by name; unknown ro-compat ones are fine', () => {
    const a = copyOf(img);
    const f = readAt(a, 1024 + 0x60, 4);
    f.writeUInt32LE(f.readUInt32LE(0) | 0x1000, 0); // dirdata
    writeAt(a, 1024 + 0x60, f);
    const e = errorOf(() => openExtImage(a));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/unsupported feature\(s\): dirdata/);
    const b = copyOf(img);
    const r = readAt(b, 1024 + 0x64, 4);
    r.writeUInt32LE(r.readUInt32LE(0) | 0x40000000, 0);
    writeAt(b, 1024 + 0x64, r);
    expect(walk(openExtImage(b)).length).toBeGreaterThan(100);
  });

  it('a changed label: the metadata_csum mismatch is a warning, the filesystem still reads', () => {
    const a = copyOf(img);
    writeAt(a, 1024 + 0x78, Buffer.from('tampered\0'));
    const fs = openExtImage(a);
    expect(fs.warnings.join('\n')).toMatch(/superblock: metadata checksum does not match/);
    expect(fs.label).toBe('tampered');
    expect(walk(fs).length).toBeGreaterThan(100);
  });

  it('64 random bit flips in the superblock: GuestkitErrors only, bounded', async () => {
    const a = copyOf(img);
    const orig = readAt(a, 1024, 1024);
    for (const bit of bits(1, 64, 1024, 2048)) {
      writeAt(a, 1024, orig);
      flipBit(a, bit);
      survive(a);
      await tick();
    }
  }, 120_000);
});

describe('bit-flipped group descriptors, inode tables, extent headers, directory blocks', () => {
  let img: string; // ext4, 1 KiB blocks, no metadata_csum: nothing catches the damage early
  let csumImg: string; // ext4 with metadata_csum
  beforeAll(() => {
    img = join(ensureImage('ext-ext4-1k'), 'ext4-1k.img');
    csumImg = join(ensureImage('ext-ext4-inline'), 'ext4-inline.img');
  });

  it('a group descriptor pointing its inode table past the end: CORRUPT naming the group', () => {
    const a = copyOf(img);
    // 1 KiB blocks: the descriptor table is block 2; group 0's bg_inode_table at +8.
    writeAt(a, 2 * 1024 + 8, Buffer.from([0xff, 0xff, 0xff, 0x0f]));
    const e = errorOf(() => openExtImage(a).stat(2));
    expect(e.message).toMatch(/group descriptor 0: inode table at block 268435455 .* is outside the filesystem/);
  });

  it('with metadata_csum, a modified descriptor is a checksum warning', () => {
    const a = copyOf(csumImg);
    const gd = 4096 + 0xe; // group 0's bg_free_inodes_count (4 KiB blocks: table in block 1)
    const v = readAt(a, gd, 2);
    v[0] ^= 1;
    writeAt(a, gd, v);
    const fs = openExtImage(a);
    walk(fs);
    expect(fs.warnings.join('\n')).toMatch(/group descriptor 0: metadata checksum does not match/);
  });

  it('random bit flips in the group descriptors and an inode table block: GuestkitErrors only', async () => {
    const a = copyOf(img);
    const itb = inodeOffset(img, 2, 1024);
    for (const [from, to] of [[2048, 3072], [itb, itb + 1024]]) {
      const orig = readAt(a, from, to - from);
      for (const bit of bits(from, 16, from, to)) {
        writeAt(a, from, orig);
        flipBit(a, bit);
        survive(a);
        await tick();
      }
      writeAt(a, from, orig);
    }
  }, 120_000);

  it('a damaged extent header in the inode: CORRUPT naming the inode', () => {
    const a = copyOf(img);
    const ino = Number(/Inode: (\d+)/.exec(debugfs(img, 'stat /sizes/dense-300k'))![1]);
    const off = inodeOffset(img, ino, 1024) + 0x28; // i_block: the extent header
    writeAt(a, off, Buffer.from([0x0a, 0xf4]));
    const fs = openExtImage(a);
    const e = errorOf(() => fs.read(resolve(fs, 'sizes/dense-300k'), new Uint8Array(10), 0));
    expect(e.message).toBe(`extent tree root of inode ${ino}: bad extent header magic 0xf40a`);
  });

  it('a damaged extent block (depth 2 tree): CORRUPT naming the block and inode', () => {
    const ex = debugfs(img, 'ex /sizes/fragmented.bin');
    const level1 = Number(/^\s*0\/\s*2\s+1\/\s*1\s+\d+ -\s+\d+\s+(\d+)/m.exec(ex)![1]);
    const a = copyOf(img);
    writeAt(a, level1 * 1024 + 6, Buffer.from([3, 0])); // eh_depth 3 where 1 is expected
    const fs = openExtImage(a);
    const e = errorOf(() => fs.read(resolve(fs, 'sizes/fragmented.bin'), new Uint8Array(4096), 0));
    expect(e.message).toMatch(new RegExp(`extent block ${level1} of inode \\d+: extent node has depth 3, expected 1`));
  });

  it('an extent tree that loops: LOOP, not a hang', () => {
    const ex = debugfs(img, 'ex /sizes/fragmented.bin');
    const level1 = Number(/^\s*0\/\s*2\s+1\/\s*1\s+\d+ -\s+\d+\s+(\d+)/m.exec(ex)![1]);
    const a = copyOf(img);
    // The level-1 index node's first entry points back at the node itself.
    const ent = Buffer.alloc(6);
    ent.writeUInt32LE(level1, 0);
    ent.writeUInt16LE(0, 4);
    writeAt(a, level1 * 1024 + 12 + 4, ent);
    const fs = openExtImage(a);
    const e = errorOf(() => fs.read(resolve(fs, 'sizes/fragmented.bin'), new Uint8Array(4096), 0));
    expect(e.code).toBe('LOOP');
    expect(e.message).toMatch(/extent tree of inode \d+ loops: block \d+ is its own ancestor/);
  });

  it('an extent mapping blocks past the end of the filesystem: CORRUPT naming the inode', () => {
    const a = copyOf(img);
    const ino = Number(/Inode: (\d+)/.exec(debugfs(img, 'stat /sizes/size-4096'))![1]);
    const off = inodeOffset(img, ino, 1024) + 0x28 + 12; // first extent
    const ee = Buffer.alloc(6);
    ee.writeUInt16LE(0x7fff, 0); // ee_start_hi
    ee.writeUInt32LE(0, 2);
    writeAt(a, off + 6, ee);
    const fs = openExtImage(a);
    const e = errorOf(() => fs.read(ino, new Uint8Array(4096), 0));
    expect(e.message).toMatch(new RegExp(`^inode ${ino}: extent at logical block 0 maps blocks \\d+\\.\\.\\d+, outside the filesystem`));
  });

  it('a directory entry with a broken rec_len: a warning, the rest of that block skipped', () => {
    const a = copyOf(img);
    const blk = bmap(img, '/nested');
    // nested/ holds ".", "..", "a", "top.txt": break the third entry's rec_len (offset 24).
    writeAt(a, blk * 1024 + 24 + 4, Buffer.from([0x03, 0x00]));
    const fs = openExtImage(a);
    const names = [...fs.readdir(resolve(fs, 'nested'))].map((e) => e.name);
    expect(names).toEqual([]);
    expect(fs.warnings.join('\n')).toMatch(/directory inode \d+, block 0: directory entry at offset 24: rec_len 3 is smaller than the minimum; rest of the block skipped/);
    expect(fs.lookup(resolve(fs, 'nested'), 'top.txt')).toBeNull();
  });

  it('an unusable htree index: a warning, and lookups fall back to a linear scan', () => {
    const a = copyOf(img);
    const blk = bmap(img, '/bigdir');
    writeAt(a, blk * 1024 + 0x1d, Buffer.from([9])); // dx_root_info.info_length
    const fs = openExtImage(a);
    const dir = resolve(fs, 'bigdir');
    const listed = [...fs.readdir(dir)].slice(0, 50);
    const before = { ...fs.stats };
    for (const e of listed) expect(fs.lookup(dir, e.name)).toBe(e.ino);
    expect(fs.stats.linearLookups - before.linearLookups).toBe(listed.length);
    expect(fs.stats.htreeLookups - before.htreeLookups).toBe(0);
    expect(fs.warnings.join('\n')).toMatch(/htree index of directory inode \d+ is unusable \(dx_root info_length 9 should be 8\); searching it linearly/);
  });

  it('random bit flips in a directory block and an htree index block: GuestkitErrors only', async () => {
    const a = copyOf(img);
    for (const path of ['/unicode', '/bigdir']) {
      const blk = bmap(img, path);
      const orig = readAt(a, blk * 1024, 1024);
      for (const bit of bits(blk, 16, blk * 1024, blk * 1024 + 1024)) {
        writeAt(a, blk * 1024, orig);
        flipBit(a, bit);
        const { fs } = survive(a);
        if (fs) {
          // Lookups in a damaged index fall back to a linear scan or fail cleanly.
          try {
            fs.lookup(resolve(fs, path.slice(1)), 'file-00042');
          } catch (e) {
            expect(e).toBeInstanceOf(GuestkitError);
          }
        }
        await tick();
      }
      writeAt(a, blk * 1024, orig);
    }
  }, 180_000);
});

describe('files and inodes that lie', () => {
  let img: string;
  beforeAll(() => {
    img = join(ensureImage('ext-ext4-1k'), 'ext4-1k.img');
  });

  it('a file claiming 2^60 bytes reads zeros past its data, without allocating', () => {
    const a = copyOf(img);
    const ino = Number(/Inode: (\d+)/.exec(debugfs(img, 'stat /sizes/size-4096'))![1]);
    writeAt(a, inodeOffset(img, ino, 1024) + 0x4, Buffer.alloc(4)); // i_size_lo = 0
    writeAt(a, inodeOffset(img, ino, 1024) + 0x6c, Buffer.from([0, 0, 0, 0x10])); // i_size_high = 2^28
    const fs = openExtImage(a);
    expect(fs.stat(ino).size).toBe(2 ** 60);
    const rss = process.memoryUsage().rss;
    const buf = new Uint8Array(1 << 20);
    buf.fill(7);
    const t0 = Date.now();
    expect(fs.read(ino, buf, 2 ** 59)).toBe(buf.length);
    expect(buf.every((b) => b === 0)).toBe(true);
    expect(fs.read(ino, buf, 2 ** 60 - 2 ** 19)).toBe(2 ** 19);
    expect(fs.read(ino, buf, 2 ** 60)).toBe(0);
    // The first 4 KiB are still the file's data.
    const head = new Uint8Array(4096);
    expect(fs.read(ino, head, 0)).toBe(4096);
    expect(head.some((b) => b !== 0)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024);
  });

  it('a directory claiming 4 GiB (extent tree and block map): listed at once, same entries', () => {
    for (const [recipe, file, bs] of [['ext-ext4-1k', 'ext4-1k.img', 1024], ['ext-ext2', 'ext2.img', 4096]] as const) {
      const src = join(ensureImage(recipe), file);
      const a = copyOf(src);
      const ino = Number(/Inode: (\d+)/.exec(debugfs(src, 'stat /nested'))![1]);
      writeAt(a, inodeOffset(src, ino, bs) + 0x4, Buffer.from([0x00, 0xf0, 0xff, 0xff])); // i_size_lo
      const fs = openExtImage(a);
      expect(fs.stat(ino).size).toBe(0xfffff000);
      const t0 = Date.now();
      expect([...fs.readdir(ino)].map((e) => e.name).sort()).toEqual(['a', 'top.txt']);
      expect(fs.lookup(ino, 'absent')).toBeNull();
      expect(Date.now() - t0).toBeLessThan(2000);
    }
  });

  it('an uninitialized extent reads as zeros whatever its blocks hold', () => {
    // ext-ext4 preallocated sizes/all-hole.bin blocks 2..9 with debugfs fallocate.
    const big = join(ensureImage('ext-ext4'), 'ext4.img');
    expect(debugfs(big, 'ex /sizes/all-hole.bin')).toMatch(/Uninit/);
    const a = copyOf(big);
    const blk = Number(/\s(\d+) -\s+\d+\s+8 Uninit/.exec(debugfs(big, 'ex /sizes/all-hole.bin'))![1]);
    writeAt(a, blk * 4096, Buffer.alloc(8 * 4096, 0xee));
    const fs = openExtImage(a);
    const ino = resolve(fs, 'sizes/all-hole.bin');
    expect(fs.stat(ino).blocks).toBe(8 * 8);
    const buf = new Uint8Array(256 * 1024);
    expect(fs.read(ino, buf, 0)).toBe(buf.length);
    expect(buf.every((b) => b === 0)).toBe(true);
    // The same extent with its uninitialized flag cleared shows the 0xee bytes.
    const i = Number(/Inode: (\d+)/.exec(debugfs(big, 'stat /sizes/all-hole.bin'))![1]);
    const ee = inodeOffset(big, i, 4096) + 0x28 + 12 + 4;
    const len = readAt(a, ee, 2);
    writeAt(a, ee, Buffer.from([len[0], len[1] & 0x7f]));
    const fs2 = openExtImage(a);
    expect(fs2.read(ino, buf, 0)).toBe(buf.length);
    expect(buf.subarray(2 * 4096, 10 * 4096).every((b) => b === 0xee)).toBe(true);
  });

  it('an encrypted file: listed as-is, reading it is a clear UNSUPPORTED error', () => {
    const a = copyOf(img);
    const ino = Number(/Inode: (\d+)/.exec(debugfs(img, 'stat /etc/hostname'))![1]);
    const flags = readAt(a, inodeOffset(img, ino, 1024) + 0x20, 4);
    flags.writeUInt32LE(flags.readUInt32LE(0) | 0x800, 0);
    writeAt(a, inodeOffset(img, ino, 1024) + 0x20, flags);
    const fs = openExtImage(a);
    expect([...fs.readdir(resolve(fs, 'etc'))].map((e) => e.name)).toContain('hostname');
    const e = errorOf(() => fs.read(ino, new Uint8Array(10), 0));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/inode \d+ is encrypted \(fscrypt\)/);
  });

  it('a device too short for the filesystem: a warning at open, CORRUPT on reads past the end', () => {
    const a = copyOf(img);
    const fd = openSync(a, 'r+');
    ftruncateSync(fd, 4 * 1024 * 1024);
    closeSync(fd);
    const { fs, errors } = survive(a);
    expect(fs!.warnings.join('\n')).toMatch(/filesystem claims \d+ bytes but the device has 4194304/);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((e) => e.message).join('\n')).toMatch(/past the end of raw image/);
  });

  it('a truncated image, a zero-length file and garbage: GuestkitErrors', () => {
    const z = join(tmp, 'zero.img');
    copyFileSync('/dev/null', z);
    expect(errorOf(() => openExtImage(z)).code).toBe('UNKNOWN_FORMAT');
    const g = join(tmp, 'garbage.img');
    const buf = Buffer.alloc(1 << 20);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 7919) & 0xff;
    writeFileSync(g, buf);
    expect(errorOf(() => openExtImage(g)).code).toBe('UNKNOWN_FORMAT');
  });
});

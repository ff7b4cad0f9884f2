// Damaged and hostile btrfs images (copies of the recipe images, patched by hand): a bad copy
// of a DUP or RAID1 tree block is skipped for the good one with a warning; superblock magic
// and checksum (mirror fallback), chunk maps that do not map, tree blocks that point back up
// the tree, leaves that claim more items than fit, compressed extents that do not decompress,
// truncated devices: each a GuestkitError with a clear message, never a hang or a crash.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdtempSync, openSync, closeSync, writeSync, readSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureImage } from '../../../test/helpers/images.js';
import { GuestkitError } from '../src/errors.js';
import { crc32c } from '../src/util/crc32c.js';
import type { BtrfsFilesystem } from '../src/fs/btrfs/index.js';
import { lzo1xDecompress, btrfsLzoDecompress } from '../src/fs/btrfs/index.js';
import { openImage, loadManifest, resolve, walk, sha256Of, closeAll, warnings, type ManifestEntry } from './btrfs-helpers.js';

let rootdir: string;
let tmp: string;
let manifest: Map<string, ManifestEntry>;

beforeAll(() => {
  rootdir = ensureImage('btrfs-rootdir');
  manifest = new Map(loadManifest(rootdir).map((e) => [e.path, e]));
  tmp = mkdtempSync(join(tmpdir(), 'guestkit-btrfs-'));
});
afterAll(() => {
  closeAll();
  rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
/** A sparse copy of an image in the temporary directory. */
function copy(src: string): string {
  const dst = join(tmp, `copy-${n++}.img`);
  execFileSync('cp', ['--sparse=always', src, dst]);
  return dst;
}

function pwrite(path: string, pos: number, data: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, data, 0, data.length, pos);
  } finally {
    closeSync(fd);
  }
}

function pread(path: string, pos: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, b, 0, len, pos);
  } finally {
    closeSync(fd);
  }
  return b;
}

/** Store the crc32c of block[32..] in its first 4 bytes (tree blocks and superblocks). */
function fixCsum(block: Buffer): Buffer {
  block.fill(0, 0, 32);
  block.writeUInt32LE(crc32c(block.subarray(32)), 0);
  return block;
}

/** Physical copies (path, offset) of the tree block at `logical` of a single-device image. */
function blockCopies(fs: BtrfsFilesystem, path: string, logical: number): { path: string; offset: number }[] {
  return fs.devs.chunks.map(logical, 'test').copies.map((c) => ({ path, offset: c.offset }));
}

/** Apply `edit` to the chosen copies of a tree block and re-checksum them. */
function patchBlock(fs: BtrfsFilesystem, path: string, logical: number, edit: (b: Buffer) => void, which: number[] | 'all' = 'all'): void {
  const size = fs.sb.nodeSize;
  blockCopies(fs, path, logical).forEach((c, i) => {
    if (which !== 'all' && !which.includes(i)) return;
    const b = pread(c.path, c.offset, size);
    edit(b);
    pwrite(c.path, c.offset, fixCsum(b));
  });
}

function expectError(f: () => unknown, code: string, re: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an error').toBeInstanceOf(GuestkitError);
  expect((err as GuestkitError).code).toBe(code);
  expect((err as GuestkitError).message).toMatch(re);
  expect((err as GuestkitError).message).not.toContain('\n');
}

/** Read every file of the tree and compare with the manifest. */
function readsEverything(fs: BtrfsFilesystem): void {
  let files = 0;
  for (const e of walk(fs)) {
    const m = manifest.get(e.path);
    if (m?.type === 'file' && m.sha256 && !e.path.startsWith('bigdir/')) {
      expect(sha256Of(fs, e.ino, m.size), e.path).toBe(m.sha256);
      files++;
    }
  }
  expect(files).toBeGreaterThan(400);
}

describe('a bad copy of a DUP or RAID1 tree block', () => {
  it('is skipped for the other copy, with a warning naming the block and the copy', () => {
    const img = copy(join(rootdir, 'btrfs.img'));
    const fs0 = openImage(img);
    const root = fs0.subvolumeTree(5).rootBytenr;
    expect(blockCopies(fs0, img, root)).toHaveLength(2);
    const c0 = blockCopies(fs0, img, root)[0];
    pwrite(img, c0.offset + 2000, Buffer.alloc(64, 0xa5)); // checksum now wrong in copy 1
    warnings.length = 0;
    const fs = openImage(img);
    readsEverything(fs);
    expect(fs.warnings.join('\n')).toMatch(new RegExp(`tree block at logical ${root}: copy 1 \\(device 1 at ${c0.offset}\\): crc32c checksum mismatch; used copy 2`));
  });

  it('when both copies are bad, the block is CORRUPT with both reasons', () => {
    const img = copy(join(rootdir, 'btrfs.img'));
    const fs0 = openImage(img);
    const root = fs0.subvolumeTree(5).rootBytenr;
    for (const c of blockCopies(fs0, img, root)) pwrite(img, c.offset + 2000, Buffer.alloc(64, 0x5a));
    expectError(() => walk(openImage(img)), 'CORRUPT', new RegExp(`btrfs subvolume 5: tree block at logical ${root}: copy 1 .* checksum mismatch; copy 2 .* checksum mismatch`));
  });

  it('RAID1: a bad copy on one device is skipped for the copy on the other device', () => {
    const guestfs = ensureImage('btrfs-guestfs');
    const imgs = ['raid1-a.img', 'raid1-b.img'].map((f) => copy(join(guestfs, f)));
    const fs0 = openImage(imgs);
    const root = fs0.subvolumeTree(5).rootBytenr;
    const copies = fs0.devs.chunks.map(root, 'test').copies;
    expect(new Set(copies.map((c) => c.devid)).size).toBe(2);
    const first = copies[0];
    const path = fs0.devs.byId.get(first.devid)!.description.replace(/^raw image /, '');
    pwrite(path, first.offset + 3000, Buffer.alloc(32, 0xee));
    warnings.length = 0;
    const fs = openImage(imgs);
    readsEverything(fs);
    expect(fs.warnings.join('\n')).toMatch(new RegExp(`tree block at logical ${root}: copy 1 \\(device ${first.devid} at ${first.offset}\\): crc32c checksum mismatch; used copy 2 \\(device ${copies[1].devid} `));
  });

  it('a stale copy (valid checksum, another generation) is skipped too', () => {
    const img = copy(join(rootdir, 'btrfs.img'));
    const fs0 = openImage(img);
    const root = fs0.subvolumeTree(5).rootBytenr;
    patchBlock(fs0, img, root, (b) => b.writeUInt32LE(b.readUInt32LE(0x50) + 1, 0x50), [0]);
    warnings.length = 0;
    const fs = openImage(img);
    expect(walk(fs).length).toBe(manifest.size - 1);
    expect(fs.warnings.join('\n')).toMatch(/copy 1 .*generation \d+, its parent expects \d+ \(stale or misdirected\); used copy 2/);
  });
});

describe('superblocks', () => {
  it('a bad primary magic or checksum falls back to the mirror at 64 MiB, with a warning', () => {
    for (const [what, patch] of [['magic', Buffer.from('_BHRfS_X')], ['checksum', Buffer.from([1, 2, 3, 4])]] as const) {
      const img = copy(join(rootdir, 'btrfs.img'));
      pwrite(img, 65536 + (what === 'magic' ? 0x40 : 0), patch);
      warnings.length = 0;
      const fs = openImage(img);
      expect(fs.warnings.join('\n')).toMatch(what === 'magic' ? /bad magic .*using the superblock mirror at 67108864/ : /crc32c checksum mismatch; using the superblock mirror at 67108864/);
      expect(walk(fs).length).toBe(manifest.size - 1);
    }
  });

  it('no valid superblock: CORRUPT naming the primary', () => {
    const img = copy(join(rootdir, 'btrfs.img'));
    for (const off of [65536, 64 * 1024 * 1024]) pwrite(img, off + 0x40, Buffer.from('XXXXXXXX'));
    expectError(() => openImage(img), 'CORRUPT', /btrfs superblock of .*copy-\d+\.img: bad magic/);
    const zero = join(tmp, 'zero.img');
    writeFileSync(zero, Buffer.alloc(2 * 1024 * 1024));
    expectError(() => openImage(zero), 'CORRUPT', /bad magic \(not a btrfs superblock\)/);
    const tiny = join(tmp, 'tiny.img');
    writeFileSync(tiny, Buffer.alloc(4096));
    expectError(() => openImage(tiny), 'CORRUPT', /too small to hold one/);
  });

  it('hostile superblock fields: node size, levels, system chunk array size', () => {
    const base = join(rootdir, 'btrfs.img');
    const sb = pread(base, 65536, 4096);
    for (const [off, bytes, re] of [
      [0x94, [0x00, 0x30, 0, 0], /invalid nodesize 12288/],
      [0xc6, [9], /root_level 9 is not below 8/],
      [0xa0, [0x00, 0x10, 0, 0], /sys_chunk_array_size 4096 exceeds 2048/],
    ] as const) {
      const img = copy(base);
      const b = Buffer.from(sb);
      Buffer.from(bytes).copy(b, off);
      pwrite(img, 65536, fixCsum(b));
      for (const m of [64 * 1024 * 1024]) pwrite(img, m + 0x40, Buffer.from('XXXXXXXX'));
      expectError(() => openImage(img), 'CORRUPT', re);
    }
  });
});

describe('chunk maps that do not map', () => {
  it('a root tree pointer outside every chunk is CORRUPT naming the logical address', () => {
    const img = copy(join(rootdir, 'btrfs.img'));
    const sb = pread(img, 65536, 4096);
    sb.writeBigUInt64LE(1n << 40n, 0x50); // root
    pwrite(img, 65536, fixCsum(sb));
    expectError(() => openImage(img), 'CORRUPT', /btrfs root tree: tree block at logical 1099511627776: logical address 1099511627776 is not mapped by any btrfs chunk/);
  });

  it('a system chunk moved away from the chunk tree leaves the chunk tree unmapped', () => {
    const img = copy(join(rootdir, 'btrfs.img'));
    const sb = pread(img, 65536, 4096);
    // First sys_chunk_array entry: key (256, CHUNK_ITEM, logical) at 0x32b; move its logical start.
    const logical = sb.readBigUInt64LE(0x32b + 9);
    sb.writeBigUInt64LE(logical + (1n << 36n), 0x32b + 9);
    pwrite(img, 65536, fixCsum(sb));
    const chunkRoot = Number(sb.readBigUInt64LE(0x58));
    expectError(() => openImage(img), 'CORRUPT', new RegExp(`btrfs chunk tree: tree block at logical ${chunkRoot}: logical address ${chunkRoot} is not mapped`));
  });

  it('a data extent outside every chunk is CORRUPT when read, naming the file and address', () => {
    const img = copy(join(rootdir, 'btrfs.img'));
    const fs0 = openImage(img);
    const h = resolve(fs0, 'sizes/size-1048577');
    const oid = fs0.locate(h).objectid;
    // Find the leaf holding its EXTENT_DATA item and point disk_bytenr far away.
    const tree = fs0.subvolumeTree(5);
    const leaf = findLeaf(fs0, tree.rootBytenr, oid, 108);
    patchBlock(fs0, img, leaf.bytenr, (b) => {
      const item = leaf.slot;
      const off = 101 + b.readUInt32LE(101 + item * 25 + 17);
      b.writeBigUInt64LE(1n << 44n, off + 21);
    });
    const fs = openImage(img);
    expectError(() => sha256Of(fs, resolve(fs, 'sizes/size-1048577'), 1048577), 'CORRUPT', /inode \d+ extent at file offset 0: logical address 17592186044416 is not mapped by any btrfs chunk/);
  });
});

/** The leaf and slot of the first item (objectid, type) of a tree, walking from its root. */
function findLeaf(fs: BtrfsFilesystem, root: number, objectid: number, type: number): { bytenr: number; slot: number; path: number[] } {
  const path: number[] = [];
  let at = root;
  for (;;) {
    const b = pread(fsPath(fs), physical(fs, at), fs.sb.nodeSize);
    const level = b[0x64];
    const nr = b.readUInt32LE(0x60);
    path.push(at);
    const keyAt = (i: number) => {
      const o = 101 + i * (level ? 33 : 25);
      return [Number(b.readBigUInt64LE(o)), b[o + 8]];
    };
    if (level === 0) {
      for (let i = 0; i < nr; i++) {
        const [oid, t] = keyAt(i);
        if (oid === objectid && t === type) return { bytenr: at, slot: i, path };
      }
      throw new Error('item not found');
    }
    let slot = 0;
    for (let i = 0; i < nr; i++) {
      const [oid, t] = keyAt(i);
      if (oid < objectid || (oid === objectid && t <= type)) slot = i;
    }
    at = Number(b.readBigUInt64LE(101 + slot * 33 + 17));
  }
}
const paths = new WeakMap<BtrfsFilesystem, string>();
function fsPath(fs: BtrfsFilesystem): string {
  return paths.get(fs) ?? fs.device.description.replace(/^raw image /, '');
}
function physical(fs: BtrfsFilesystem, logical: number): number {
  return fs.devs.chunks.map(logical, 'test').copies[0].offset;
}

describe('tree blocks that point back up the tree, or hold more than fits', () => {
  it('a node whose pointer leads back to itself or an ancestor: LOOP, no hang', () => {
    for (const target of ['self', 'root'] as const) {
      const img = copy(join(rootdir, 'btrfs-n4k.img'));
      const fs0 = openImage(img);
      const tree = fs0.subvolumeTree(5);
      expect(tree.rootLevel).toBeGreaterThanOrEqual(2);
      // Path to the leaf of some inode deep in the tree: root (level >= 2) → node → leaf.
      const h = resolve(fs0, 'unicode/ñandú/ave.txt');
      const leaf = findLeaf(fs0, tree.rootBytenr, fs0.locate(h).objectid, 1);
      const node = leaf.path[leaf.path.length - 2];
      const b = pread(img, physical(fs0, node), 4096);
      let slot = 0;
      for (let i = 0; i < b.readUInt32LE(0x60); i++) if (Number(b.readBigUInt64LE(101 + i * 33 + 17)) === leaf.bytenr) slot = i;
      const to = target === 'self' ? node : tree.rootBytenr;
      patchBlock(fs0, img, node, (x) => x.writeBigUInt64LE(BigInt(to), 101 + slot * 33 + 17));
      const fs = openImage(img);
      expectError(() => walk(fs), 'LOOP', new RegExp(`btrfs subvolume 5: tree block ${node} \\(level 1\\) points back to block ${to} above it`));
    }
  });

  it('a node whose two pointers lead to the same leaf: the first-key check stops it', () => {
    const img = copy(join(rootdir, 'btrfs-n4k.img'));
    const fs0 = openImage(img);
    const tree = fs0.subvolumeTree(5);
    const leaf = findLeaf(fs0, tree.rootBytenr, fs0.locate(resolve(fs0, 'bigdir')).objectid, 1);
    const node = leaf.path[leaf.path.length - 2];
    patchBlock(fs0, img, node, (x) => {
      const first = x.readBigUInt64LE(101 + 17);
      x.writeBigUInt64LE(first, 101 + 33 + 17);
    });
    const fs = openImage(img);
    expectError(() => walk(fs), 'CORRUPT', /first key .* differs from its parent's key/);
  });

  it('a leaf that claims more items than fit is CORRUPT', () => {
    const img = copy(join(rootdir, 'btrfs.img'));
    const fs0 = openImage(img);
    const leaf = findLeaf(fs0, fs0.subvolumeTree(5).rootBytenr, fs0.locate(resolve(fs0, 'etc/hostname')).objectid, 1);
    patchBlock(fs0, img, leaf.bytenr, (x) => x.writeUInt32LE(0x7fffffff, 0x60));
    expectError(() => walk(openImage(img)), 'CORRUPT', /2147483647 items do not fit in the block/);
  });

  it('an item whose data points outside its leaf is CORRUPT naming the block and item', () => {
    const img = copy(join(rootdir, 'btrfs.img'));
    const fs0 = openImage(img);
    const h = resolve(fs0, 'etc/hostname');
    const leaf = findLeaf(fs0, fs0.subvolumeTree(5).rootBytenr, fs0.locate(h).objectid, 1);
    patchBlock(fs0, img, leaf.bytenr, (x) => x.writeUInt32LE(60000, 101 + leaf.slot * 25 + 17));
    expectError(() => openImage(img).stat(h), 'CORRUPT', new RegExp(`btrfs tree block ${leaf.bytenr}: item ${leaf.slot} data \\(60000\\+160\\) is outside the leaf`));
  });

  it('a truncated device: blocks past its end are CORRUPT', () => {
    const img = copy(join(rootdir, 'btrfs.img'));
    truncateSync(img, 1024 * 1024);
    expectError(() => openImage(img), "CORRUPT", /btrfs chunk tree: tree block at logical \d+: copy 1 \(device 1 at \d+\): outside raw image .*; copy 2 .*outside/);
  });
});

describe('compressed extents that do not decompress', () => {
  let guestfs: string;
  beforeAll(() => {
    guestfs = ensureImage('btrfs-guestfs');
  });

  for (const [alg, re] of [['zstd', /zstd (frame at 0: bad magic|data does not decompress)/], ['lzo', /LZO|btrfs LZO extent/], ['zlib', /zlib data does not inflate/]] as const) {
    it(`${alg}: garbage in a compressed extent is CORRUPT naming the file and extent, other extents still read`, () => {
      const img = copy(join(guestfs, 'compress.img'));
      const fs0 = openImage(img, { options: `subvol=${alg}` });
      const h = resolve(fs0, `btrfs/text-${1024 * 1024 + 5}.txt`);
      const ext = fs0.fileExtents(h).filter((e) => e.type === 1 && e.compression > 0);
      const victim = ext[2];
      const phys = physical(fs0, victim.diskBytenr);
      const garbage = Buffer.alloc(victim.diskNumBytes);
      for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 7) & 0xff;
      pwrite(img, phys, garbage);
      const fs = openImage(img, { options: `subvol=${alg}` });
      const buf = new Uint8Array(4096);
      expectError(() => fs.read(h, buf, victim.fileOffset + 100), 'CORRUPT', re);
      expect(() => fs.read(h, buf, victim.fileOffset + 100)).toThrow(new RegExp(`inode \\d+ extent at file offset ${victim.fileOffset}`));
      expect(fs.read(h, buf, 0)).toBe(4096);
    });
  }

  it('a compressed extent claiming more than 128 KiB is CORRUPT', () => {
    const img = copy(join(guestfs, 'compress.img'));
    const fs0 = openImage(img, { options: 'subvol=zstd' });
    const h = resolve(fs0, `btrfs/text-${1024 * 1024 + 5}.txt`);
    const leaf = findLeaf(fs0, fs0.subvolumeTree(fs0.subvolId).rootBytenr, fs0.locate(h).objectid, 108);
    patchBlock(fs0, img, leaf.bytenr, (x) => {
      const off = 101 + x.readUInt32LE(101 + leaf.slot * 25 + 17);
      x.writeBigUInt64LE(1n << 30n, off + 8); // ram_bytes
      x.writeBigUInt64LE(0n, off + 37); // offset
    });
    const fs = openImage(img, { options: 'subvol=zstd' });
    expectError(() => fs.read(h, new Uint8Array(10), 0), 'CORRUPT', /claims 1073741824 bytes decompressed \(btrfs writes at most 131072\)/);
  });
});

describe('LZO1X decoder on hostile input', () => {
  const out = new Uint8Array(4096);
  it('a match before the start of the output, truncated input, output overrun: CORRUPT', () => {
    // One literal ('a'), then a 3-byte match 41 bytes back (0x40 + distance byte 5).
    expectError(() => lzo1xDecompress(Uint8Array.from([18, 97, 0x40, 0x05]), out, 0, out.length, 'test'), 'CORRUPT', /refers back 41 bytes with only 1 decompressed \(lookbehind overrun\)/);
    expectError(() => lzo1xDecompress(Uint8Array.from([0x20 + 17, 1, 2]), out, 0, out.length, 'test'), 'CORRUPT', /truncated|overrun/);
    expectError(() => lzo1xDecompress(Uint8Array.from([0x00]), out, 0, out.length, 'test'), 'CORRUPT', /truncated/);
    // 238 literals into a 16-byte output.
    const lit = new Uint8Array(300);
    lit[0] = 255;
    expectError(() => lzo1xDecompress(lit, new Uint8Array(16), 0, 16, 'test'), 'CORRUPT', /past the end of its output/);
  });

  it('a literal run then the end marker decodes', () => {
    const src = Uint8Array.from([17 + 5, 104, 101, 108, 108, 111, 0x11, 0, 0]);
    const n = lzo1xDecompress(src, out, 0, out.length, 'test');
    expect(Buffer.from(out.subarray(0, n)).toString()).toBe('hello');
  });

  it('btrfs framing: total length and segment lengths are checked', () => {
    const o = new Uint8Array(4096);
    expectError(() => btrfsLzoDecompress(Uint8Array.from([1, 0]), o, 4096, 't'), 'CORRUPT', /shorter than its header/);
    expectError(() => btrfsLzoDecompress(Uint8Array.from([200, 0, 0, 0, 1, 0, 0, 0]), o, 4096, 't'), 'CORRUPT', /records 200 bytes/);
    expectError(() => btrfsLzoDecompress(Uint8Array.from([12, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0]), o, 4096, 't'), 'CORRUPT', /invalid length 65535/);
    const ok = Uint8Array.from([17, 0, 0, 0, 9, 0, 0, 0, 17 + 5, 104, 101, 108, 108, 111, 0x11, 0, 0]);
    expect(btrfsLzoDecompress(ok, o, 4096, 't')).toBe(5);
  });
});

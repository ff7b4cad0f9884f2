// FAT12/16/32 reader on images made by mkfs.fat + mtools from images/fixtures/fat-tree.mjs
// (recipe fat-images), compared with that tree, with dosfstools/mtools (cluster counts, the
// fragmented file's chain) and with Linux vfat as libguestfs shows it (recipe fat-oracle).
// Bad input: copies of those images with single fields broken by hand.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, statSync, readdirSync, copyFileSync, mkdtempSync, rmSync, openSync, writeSync, closeSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { RawFile, GuestkitError, type BlockDevice } from '@guestkit/core';
import { openFat, type FatFilesystem } from '../src/fs/fat/index.js';
import { openFilesystem, READABLE_FS_TYPES } from '../src/fs/index.js';
import { ensureImage } from '../../../test/helpers/images.js';
import { resolvePath as resolve, readAll } from './fs-helpers.js';

const VARIANTS = ['fat12', 'fat16', 'fat32'] as const;

interface Meta {
  fatBits: number;
  label: string;
  uuid: string;
  sectorSize: number;
  clusterSize: number;
  clusters: number;
  freeClusters: number;
  fragmentedChain: string;
}

let dir: string;
let tree: string;
let scratch: string;
const open: BlockDevice[] = [];

function fsOf(path: string, options?: string): FatFilesystem {
  const dev = new RawFile(path);
  open.push(dev);
  return openFat(dev, { options });
}

/** Every path in the filesystem, '/'-separated, without the leading slash. */
function walk(fs: FatFilesystem, ino = fs.rootIno, prefix = ''): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of fs.readdir(ino)) {
    const p = prefix ? `${prefix}/${e.name}` : e.name;
    out.set(p, e.ino);
    if (e.type === 'dir') for (const [k, v] of walk(fs, e.ino, p)) out.set(k, v);
  }
  return out;
}

function hostTree(root: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, prefix))) {
    const rel = prefix ? `${prefix}/${name}` : name;
    out.push(rel);
    if (statSync(join(root, rel)).isDirectory()) out.push(...hostTree(root, rel));
  }
  return out;
}

function patch(path: string, pos: number, bytes: number[] | Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Uint8Array.from(bytes), 0, bytes.length, pos);
  } finally {
    closeSync(fd);
  }
}

function copyOf(variant: string, name: string): string {
  const p = join(scratch, `${name}-${variant}.img`);
  copyFileSync(join(dir, `${variant}.img`), p);
  return p;
}

function expectError(fn: () => unknown, code: string, re: RegExp): GuestkitError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GuestkitError);
    expect((e as GuestkitError).code).toBe(code);
    expect((e as GuestkitError).message).toMatch(re);
    return e as GuestkitError;
  }
  throw new Error('expected an error');
}

/** Byte offset of the FAT entry for `cluster`. */
function fatEntryPos(fs: FatFilesystem, cluster: number): number {
  const start = fs.bpb.rsvdSecCnt * fs.bpb.bytsPerSec;
  return start + (fs.fatType === 12 ? cluster + (cluster >> 1) : (cluster * fs.fatType) / 8);
}

function fatEntryBytes(fs: FatFilesystem, path: string, cluster: number, value: number): void {
  const pos = fatEntryPos(fs, cluster);
  if (fs.fatType === 16) patch(path, pos, [value & 0xff, value >> 8]);
  else if (fs.fatType === 32) patch(path, pos, [value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, (value >>> 24) & 0x0f]);
  else {
    const cur = readFileSync(path).subarray(pos, pos + 2);
    const v = cur[0] | (cur[1] << 8);
    const nv = cluster & 1 ? (v & 0x000f) | (value << 4) : (v & 0xf000) | value;
    patch(path, pos, [nv & 0xff, (nv >> 8) & 0xff]);
  }
}

/** The file's first cluster, from its directory entry (ino = entry position / 32). */
function firstClusterOf(fs: FatFilesystem, path: string, img: string): number {
  const pos = resolve(fs, path) * 32;
  const e = readFileSync(img).subarray(pos, pos + 32);
  return e.readUInt16LE(26) + (fs.fatType === 32 ? e.readUInt16LE(20) * 65536 : 0);
}

beforeAll(() => {
  dir = ensureImage('fat-images');
  tree = join(dir, 'tree');
  scratch = mkdtempSync(join(tmpdir(), 'gk-fat-'));
});

afterAll(() => {
  for (const d of open) d.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe.each(VARIANTS)('%s made by mkfs.fat + mtools', (variant) => {
  let fs: FatFilesystem;
  let meta: Meta;
  beforeAll(() => {
    fs = fsOf(join(dir, `${variant}.img`));
    meta = JSON.parse(readFileSync(join(dir, `${variant}.json`), 'utf8'));
  });

  it('detects the FAT type from the count of clusters, and reads label and serial as blkid does', () => {
    expect(fs.fatType).toBe(meta.fatBits);
    expect(fs.type).toBe('vfat');
    expect(fs.bpb.bytsPerSec).toBe(meta.sectorSize);
    expect(fs.clusterSize).toBe(meta.clusterSize);
    expect(fs.label).toBe(meta.label);
    expect(fs.uuid).toBe(meta.uuid);
  });

  it('lists exactly the fixture tree: long, Unicode and 8.3 names as vfat shows them', () => {
    const names = [...walk(fs).keys()].sort();
    expect(names).toEqual(hostTree(tree).sort());
    expect(names).toContain('Ünïcödé 名前.txt');
    expect(names).toContain('Ελληνικά/αρχείο.txt');
    expect(names).toContain(`longnames/${'very-long-name-'.repeat(16)}end.txt`);
  });

  it('every file has the tree\'s content, size and mtime (2-second resolution); directories are directories', () => {
    let files = 0;
    for (const [path, ino] of walk(fs)) {
      const host = statSync(join(tree, path));
      const st = fs.stat(ino);
      if (host.isDirectory()) {
        expect(st.mode & 0o170000, path).toBe(0o040000);
        continue;
      }
      files++;
      expect(st.mode & 0o170000, path).toBe(0o100000);
      expect(st.size, path).toBe(host.size);
      expect(st.mtime.sec, path).toBe(Math.floor(host.mtimeMs / 2000) * 2);
      expect(readAll(fs, ino, 7001).equals(readFileSync(join(tree, path))), path).toBe(true);
    }
    expect(files).toBeGreaterThan(170);
  });

  it('8.3 names without long-name slots carry the NT case bits (0x08 base, 0x10 extension)', () => {
    const img = readFileSync(join(dir, `${variant}.img`));
    const cases: [string, number, string][] = [
      ['UPPER.TXT', 0x00, 'UPPER   TXT'],
      ['lower.txt', 0x18, 'LOWER   TXT'],
      ['lowbase.TXT', 0x08, 'LOWBASE TXT'],
      ['UPBASE.ext', 0x10, 'UPBASE  EXT'],
      ['NOEXT', 0x00, 'NOEXT      '],
    ];
    for (const [name, bits, raw] of cases) {
      const pos = resolve(fs, name) * 32;
      expect(img.subarray(pos, pos + 11).toString('latin1'), name).toBe(raw);
      expect(img[pos + 12] & 0x18, name).toBe(bits);
      expect(img[pos - 32 + 11], `${name} has no long name slot`).not.toBe(0x0f);
    }
  });

  it('looks names up case-insensitively, by long name or 8.3 alias, ignoring trailing dots (vfat)', () => {
    const upper = resolve(fs, 'UPPER.TXT');
    expect(fs.lookup(fs.rootIno, 'upper.txt')).toBe(upper);
    expect(fs.lookup(fs.rootIno, 'UPPER.TXT.')).toBe(upper);
    const mixed = resolve(fs, 'Mixed.Txt');
    expect(fs.lookup(fs.rootIno, 'MIXED.TXT')).toBe(mixed);
    expect(fs.lookup(fs.rootIno, 'mixed.txt')).toBe(mixed);
    expect(fs.lookup(fs.rootIno, 'A LONG FILE NAME WITH SPACES.TEXT')).toBe(resolve(fs, 'A long file name with spaces.text'));
    expect(fs.lookup(fs.rootIno, 'no-such-file')).toBeNull();
    expect(fs.lookup(fs.rootIno, '.')).toBe(fs.rootIno);
    const leafDir = resolve(fs, 'deep/level1/level2');
    expect(fs.lookup(leafDir, '..')).toBe(resolve(fs, 'deep/level1'));
  });

  it('inode numbers are stable across opens and unique', () => {
    const again = fsOf(join(dir, `${variant}.img`));
    const a = walk(fs);
    const b = walk(again);
    expect([...b]).toEqual([...a]);
    expect(new Set(a.values()).size).toBe(a.size);
    // A fresh instance can stat a number it never met in a listing.
    const ino = a.get('sizes/s4097.bin')!;
    expect(fsOf(join(dir, `${variant}.img`)).stat(ino).size).toBe(4097);
  });

  it('reads the fragmented file across its fragments; the chain is the one mshowfat shows', () => {
    const ino = resolve(fs, 'frag/fragmented.bin');
    expect(readAll(fs, ino, 1000).equals(readFileSync(join(tree, 'frag/fragmented.bin')))).toBe(true);
    const img = join(dir, `${variant}.img`);
    const runs: string[] = [];
    fs.fat.walk(firstClusterOf(fs, 'frag/fragmented.bin', img), 'fragmented.bin', (s, n) => {
      runs.push(n === 1 ? `<${s}>` : `<${s}-${s + n - 1}>`);
    });
    expect(`::/frag/fragmented.bin ${runs.join(' ')}`).toBe(meta.fragmentedChain);
    expect(runs.length).toBeGreaterThanOrEqual(2);
  });

  it('ranged reads at cluster boundaries and past EOF', () => {
    const ino = resolve(fs, 'sizes/s100000.bin');
    const want = readFileSync(join(tree, 'sizes/s100000.bin'));
    for (const pos of [0, 511, 512, 2047, 2048, 4095, 99_990]) {
      const buf = new Uint8Array(3000);
      const n = fs.read(ino, buf, pos);
      expect(n).toBe(Math.min(3000, 100000 - pos));
      expect(Buffer.from(buf.subarray(0, n)).equals(want.subarray(pos, pos + n))).toBe(true);
    }
    expect(fs.read(ino, new Uint8Array(10), 100000)).toBe(0);
    expect(fs.read(resolve(fs, 'empty.bin'), new Uint8Array(10), 0)).toBe(0);
    expectError(() => fs.read(resolve(fs, 'sizes'), new Uint8Array(10), 0), 'IS_DIR', /is a directory/);
  });

  it('statfs: cluster size, data clusters and free clusters as fsck.fat counts them', () => {
    const s = fs.statfs();
    expect(s.bsize).toBe(meta.clusterSize);
    expect(s.frsize).toBe(meta.clusterSize);
    expect(s.blocks).toBe(meta.clusters);
    expect(s.bfree).toBe(meta.freeClusters);
    expect(s.bavail).toBe(meta.freeClusters);
    expect(s.files).toBe(0);
    expect(s.ffree).toBe(0);
  });

  it('is reachable through openFilesystem as vfat', () => {
    expect(READABLE_FS_TYPES).toContain('vfat');
    const dev = new RawFile(join(dir, `${variant}.img`));
    open.push(dev);
    expect(openFilesystem(dev, 'vfat').label).toBe(meta.label);
  });
});

describe('stat as Linux vfat shows it in libguestfs (fat-linux: stat(1) in the appliance)', () => {
  let oracle: Record<string, { type: string; label: string; uuid: string; statvfs: Record<string, number>; files: Record<string, any> }>;
  let linuxDir: string;
  const imageOf = (variant: string) => (variant === 'linux' ? join(linuxDir, 'linux.img') : join(dir, `${variant}.img`));
  beforeAll(() => {
    linuxDir = ensureImage('fat-linux');
    oracle = JSON.parse(readFileSync(join(linuxDir, 'oracle.json'), 'utf8'));
  });

  it('the image written by Linux vfat: names outside the BMP (UTF-16 surrogate pairs), contents, mtimes', () => {
    const fs = fsOf(imageOf('linux'));
    const linuxTree = join(linuxDir, 'linux-tree');
    const names = [...walk(fs).keys()].sort();
    expect(names).toEqual(hostTree(linuxTree).sort());
    expect(names).toContain('emoji 😀 smile.txt');
    expect(names).toContain('𝄞 clef/𐍈 gothic.txt');
    for (const [path, ino] of walk(fs)) {
      if (fs.stat(ino).mode & 0o040000) continue;
      expect(readAll(fs, ino, 7001).equals(readFileSync(join(linuxTree, path))), path).toBe(true);
      expect(fs.stat(ino).mtime.sec, path).toBe(Math.floor(statSync(join(linuxTree, path)).mtimeMs / 2000) * 2);
    }
  });

  it.each([...VARIANTS, 'linux'])('%s: mode, owner, size, nlink, blocks, blksize and all four times of every file', (variant) => {
    const fs = fsOf(imageOf(variant));
    const o = oracle[variant];
    const paths = new Map([['/', fs.rootIno], ...[...walk(fs)].map(([p, i]) => [`/${p}`, i] as [string, number])]);
    expect([...paths.keys()].sort()).toEqual(Object.keys(o.files).sort());
    for (const [path, ino] of paths) {
      const st = fs.stat(ino);
      const want = o.files[path];
      const got = {
        mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, nlink: st.nlink,
        blocks: st.blocks, blockUnit: 512, blksize: st.blksize,
        atime: st.atime, mtime: st.mtime, ctime: st.ctime, crtime: st.crtime,
      };
      expect(got, path).toEqual(want);
    }
  });

  it.each([...VARIANTS, 'linux'])('%s: statvfs and blkid type/label/uuid', (variant) => {
    const fs = fsOf(imageOf(variant));
    const o = oracle[variant];
    const s = fs.statfs();
    expect(o.type).toBe(fs.type);
    expect(o.label).toBe(fs.label);
    expect(o.uuid).toBe(fs.uuid);
    expect({ bsize: s.bsize, frsize: s.frsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, favail: s.favail, namemax: s.namemax })
      .toEqual({
        bsize: o.statvfs.bsize, frsize: o.statvfs.frsize, blocks: o.statvfs.blocks, bfree: o.statvfs.bfree,
        bavail: o.statvfs.bavail, files: o.statvfs.files, ffree: o.statvfs.ffree, favail: o.statvfs.favail,
        namemax: o.statvfs.namemax,
      });
  });
});

describe('FAT32 FSInfo free count', () => {
  it('is ignored by default (Linux recounts), used with usefree when plausible', () => {
    const img = copyOf('fat32', 'fsinfo');
    const fs0 = fsOf(img);
    const fsinfoPos = fs0.bpb.fsInfo * fs0.bpb.bytsPerSec;
    const real = fs0.statfs().bfree;
    patch(img, fsinfoPos + 488, [0x39, 0x30, 0, 0]); // 12345
    expect(fsOf(img).statfs().bfree).toBe(real);
    expect(fsOf(img, 'usefree').statfs().bfree).toBe(12345);
    // More free clusters than the volume has: not plausible, recounted.
    patch(img, fsinfoPos + 488, [0xff, 0xff, 0xff, 0x0f]);
    expect(fsOf(img, 'usefree').statfs().bfree).toBe(real);
    // Bad signature: no FSInfo at all.
    patch(img, fsinfoPos, [0, 0, 0, 0]);
    const bad = fsOf(img, 'usefree');
    expect(bad.fsInfo).toBeNull();
    expect(bad.statfs().bfree).toBe(real);
  });
});

describe('mount options', () => {
  it('uid, gid, umask, fmask, dmask', () => {
    const fs = fsOf(join(dir, 'fat16.img'), 'uid=1000,gid=100,fmask=0133,dmask=0022');
    const f = fs.stat(resolve(fs, 'lower.txt'));
    expect([f.uid, f.gid, f.mode]).toEqual([1000, 100, 0o100644]);
    expect(fs.stat(resolve(fs, 'UPPER.TXT')).mode).toBe(0o100444); // read-only attribute
    expect(fs.stat(resolve(fs, 'sizes')).mode).toBe(0o40755);
    const u = fsOf(join(dir, 'fat16.img'), 'umask=077');
    expect(u.stat(resolve(u, 'lower.txt')).mode).toBe(0o100700);
    expectError(() => fsOf(join(dir, 'fat16.img'), 'uid=abc'), 'USAGE', /uid/);
  });
});

describe('long-name slots', () => {
  it('a checksum that does not match the short entry drops the long name (the 8.3 alias shows)', () => {
    const img = copyOf('fat16', 'lfnsum');
    const fs0 = fsOf(img);
    const pos = resolve(fs0, 'Mixed.Txt') * 32;
    const slot = pos - 32;
    expect(readFileSync(img)[slot + 11]).toBe(0x0f);
    patch(img, slot + 13, [readFileSync(img)[slot + 13] ^ 0xff]);
    const names = [...fsOf(img).readdir(1)].map((e) => e.name);
    expect(names).toContain('MIXED.TXT');
    expect(names).not.toContain('Mixed.Txt');
  });

  it('orphan slots (the short entry deleted under them) are ignored', () => {
    const img = copyOf('fat16', 'lfnorphan');
    const fs0 = fsOf(img);
    const before = [...fs0.readdir(1)].map((e) => e.name);
    const pos = resolve(fs0, 'Mixed.Txt') * 32;
    patch(img, pos, [0xe5]);
    const after = [...fsOf(img).readdir(1)].map((e) => e.name);
    expect(after).toEqual(before.filter((n) => n !== 'Mixed.Txt'));
  });
});

describe('bad input: clear errors, no hang', () => {
  it('a cluster chain that loops gives LOOP naming the file', () => {
    for (const v of VARIANTS) {
      const img = copyOf(v, 'loop');
      const fs0 = fsOf(img);
      const first = firstClusterOf(fs0, 'sizes/s100000.bin', img);
      // s100000.bin is contiguous (written in one go); its 3rd cluster links back to the 1st.
      fatEntryBytes(fs0, img, first + 2, first);
      const fs = fsOf(img);
      expectError(() => readAll(fs, resolve(fs, 'sizes/s100000.bin')), 'LOOP', /s100000\.bin.*loops back to cluster/);
    }
  });

  it('a directory whose chain loops onto itself gives LOOP, not an endless listing', () => {
    const img = copyOf('fat32', 'dirloop');
    const fs0 = fsOf(img);
    const many = firstClusterOf(fs0, 'many', img);
    // Follow the directory's chain to its last cluster and point it back at the first.
    let last = many;
    fs0.fat.walk(many, 'many', (s, n) => { last = s + n - 1; });
    expect(last).not.toBe(many);
    fatEntryBytes(fs0, img, last, many);
    const fs = fsOf(img);
    expectError(() => [...fs.readdir(resolve(fs, 'many'))], 'LOOP', /many.*loops/);
  });

  it('a FAT entry past the last cluster, a free cluster and a bad cluster in a chain are CORRUPT', () => {
    for (const v of VARIANTS) {
      const fs0 = fsOf(join(dir, `${v}.img`));
      const marks = { past: fs0.fat.maxCluster + 1, free: 0, bad: v === 'fat12' ? 0xff7 : v === 'fat16' ? 0xfff7 : 0x0ffffff7 };
      for (const [kind, value] of Object.entries(marks)) {
        const img = copyOf(v, `chain-${kind}`);
        const f0 = fsOf(img);
        const first = firstClusterOf(f0, 'sizes/s100000.bin', img);
        fatEntryBytes(f0, img, first + 1, value);
        const fs = fsOf(img);
        const re = { past: /outside the data area/, free: /free cluster/, bad: /marked bad/ }[kind]!;
        expectError(() => readAll(fs, resolve(fs, 'sizes/s100000.bin')), 'CORRUPT', new RegExp(`s100000\\.bin.*${re.source}`));
      }
    }
  });

  it('a file whose chain ends before its size says is CORRUPT when read past the chain', () => {
    const img = copyOf('fat16', 'short');
    const f0 = fsOf(img);
    const first = firstClusterOf(f0, 'sizes/s100000.bin', img);
    fatEntryBytes(f0, img, first + 1, 0xffff);
    const fs = fsOf(img);
    const ino = resolve(fs, 'sizes/s100000.bin');
    expect(fs.read(ino, new Uint8Array(100), 0)).toBe(100);
    expectError(() => readAll(fs, ino), 'CORRUPT', /ends after 2 clusters, but its size needs 49/);
  });

  it('bad BPBs: zero sectors per cluster, bytes per sector not a power of two, no FATs', () => {
    const cases: [string, number, number[], RegExp][] = [
      ['spc0', 13, [0], /BPB_SecPerClus is 0/],
      ['spc3', 13, [3], /BPB_SecPerClus is 3/],
      ['bps500', 11, [0xf4, 0x01], /BPB_BytsPerSec is 500/],
      ['nfats0', 16, [0], /BPB_NumFATs is 0/],
      ['media', 21, [0x12], /BPB_Media/],
    ];
    for (const [name, off, bytes, re] of cases) {
      const img = copyOf('fat16', name);
      patch(img, off, bytes);
      expectError(() => fsOf(img), 'CORRUPT', new RegExp(`FAT boot sector.*${re.source}`));
    }
  });

  it('truncated images: too short for a boot sector, for the FAT, or for the data', () => {
    const tiny = copyOf('fat32', 'tiny');
    truncateSync(tiny, 100);
    expectError(() => fsOf(tiny), 'CORRUPT', /only 100 bytes/);
    const noFat = copyOf('fat32', 'nofat');
    truncateSync(noFat, 20 * 1024);
    expectError(() => fsOf(noFat), 'CORRUPT', /first FAT ends at byte/);
    const half = copyOf('fat12', 'half');
    truncateSync(half, 1024 * 1024);
    const fs = fsOf(half);
    // The big file's clusters lie past the cut: reading it names the file and the cluster.
    expectError(() => readAll(fs, resolve(fs, 'sizes/s1048576.bin')), 'CORRUPT', /s1048576\.bin.*past the end/);
  });

  it('a hostile stat() number is NOT_FOUND, not a crash', () => {
    const fs = fsOf(join(dir, 'fat16.img'));
    expectError(() => fs.stat(2), 'NOT_FOUND', /no inode 2/);
    expectError(() => fs.stat(2 ** 50), 'NOT_FOUND', /no inode/);
    expectError(() => fs.readlink(resolve(fs, 'lower.txt')), 'UNSUPPORTED', /not a symbolic link/);
  });
});

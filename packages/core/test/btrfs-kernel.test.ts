// btrfs images written by the Linux kernel in the libguestfs appliance (recipe btrfs-guestfs)
// and what the kernel showed on a read-only mount of each (find -printf listings, sha256sum,
// getfattr, statvfs, `btrfs subvolume list`): DUP metadata; zstd, lzo and zlib compressed
// subvolumes with partial, preallocated and hole extents; a nested subvolume and a read-only
// snapshot; the default subvolume and subvol= / subvolid= mounts; RAID1, RAID0 + RAID1C3,
// RAID10 + RAID1C4 and RAID5 + RAID6 over several devices, complete and degraded; and the
// kernel's view of the mkfs.btrfs --rootdir image.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureImage } from '../../../test/helpers/images.js';
import type { BtrfsFilesystem } from '../src/fs/btrfs/index.js';
import { GuestkitError } from '../src/errors.js';
import {
  openImage, loadManifest, loadOracle, resolve, walk, sha256Of, readAll, hex, closeAll, warnings, linuxMakedev, Mismatches,
  type ManifestEntry, type Oracle, type WalkEntry,
} from './btrfs-helpers.js';
// @ts-expect-error plain JS module
import { BTRFS_TREE, compressibleText } from '../../../images/fixtures/btrfs-tree.mjs';

interface ImageInfo {
  uuid: string;
  label: string;
  files: string[];
  mkfs: string[];
}

let dir: string;
let rootdirDir: string;
let manifest: ManifestEntry[];
let byPath: Map<string, ManifestEntry>;
let info: Record<string, ImageInfo> & { algorithms: string[]; nested: { path: string; file: string; text: string }; readme: string };

beforeAll(() => {
  rootdirDir = ensureImage('btrfs-rootdir');
  dir = ensureImage('btrfs-guestfs');
  manifest = loadManifest(rootdirDir, { withoutBigdir: true });
  byPath = new Map(manifest.map((e) => [e.path, e]));
  info = JSON.parse(readFileSync(join(dir, 'images.json'), 'utf8'));
});
afterAll(closeAll);

const files = (k: string) => info[k].files.map((f) => join(dir, f));
const S_IFMT = 0o170000;

/**
 * The tree under `base` (a handle) equals the manifest: names, types, modes, owners, sizes,
 * link counts, mtimes with nanoseconds, device numbers, contents, targets, xattrs.
 */
function expectFixtureTree(fs: BtrfsFilesystem, base: number, where: string, extra: string[] = []): WalkEntry[] {
  const entries = walk(fs, base);
  expect(entries.map((e) => e.path).sort()).toEqual([...manifest.filter((e) => e.path !== '').map((e) => e.path), ...extra].sort());
  const root = fs.stat(base);
  expect(root.mode).toBe(byPath.get('')!.mode);
  expect([root.mtime.sec, root.mtime.nsec]).toEqual([byPath.get('')!.mtime.sec, byPath.get('')!.mtime.nsec]);
  let files = 0;
  for (const e of entries) {
    const m = byPath.get(e.path);
    if (!m) continue;
    const st = fs.stat(e.ino);
    const w = `${where}:${e.path}`;
    expect(e.type, w).toBe(m.type);
    expect(st.mode, w).toBe(m.mode);
    expect([st.uid, st.gid], w).toEqual([m.uid, m.gid]);
    expect([st.mtime.sec, st.mtime.nsec], w).toEqual([m.mtime.sec, m.mtime.nsec]);
    // GNU tar does not restore atimes: those are checked against the kernel's view instead.
    if (m.type !== 'dir') {
      expect(st.size, w).toBe(m.size);
      expect(st.nlink, w).toBe(m.nlink);
    }
    if (m.type === 'chardev' || m.type === 'blockdev') expect(st.rdev, w).toBe(m.rdev);
    if (m.type === 'symlink') expect(fs.readlink(e.ino), w).toBe(m.target);
    if (m.type === 'file' && m.sha256) {
      expect(sha256Of(fs, e.ino, m.size), w).toBe(m.sha256);
      files++;
    }
    expect(fs.listxattr(e.ino).sort(), w).toEqual(Object.keys(m.xattrs).sort());
    for (const [name, value] of Object.entries(m.xattrs)) expect(hex(fs.getxattr(e.ino, name)), `${w} ${name}`).toBe(value);
  }
  expect(files).toBeGreaterThan(400);
  return entries;
}

/** Every path the kernel listed has our inode number, type, mode, size, links, blocks, times, device number. */
function expectKernelView(fs: BtrfsFilesystem, o: Oracle, base = fs.rootIno): void {
  const entries = walk(fs, base);
  expect(entries.map((e) => e.path).sort()).toEqual([...o.list.keys()].filter((p) => p !== '').sort());
  const typeChar: Record<number, string> = { 0o040000: 'd', 0o100000: 'f', 0o120000: 'l', 0o020000: 'c', 0o060000: 'b', 0o010000: 'p', 0o140000: 's' };
  const m = new Mismatches();
  for (const e of [{ path: '', ino: base }, ...entries]) {
    const k = o.list.get(e.path)!;
    const st = fs.stat(e.ino);
    const w = e.path || '/';
    m.eq(w, [st.ino, typeChar[st.mode & S_IFMT], st.uid, st.gid, st.size, st.nlink, st.blocks], [k.ino, k.type, k.uid, k.gid, k.size, k.nlink, k.blocks]);
    if (k.type !== 'l') m.eq(`${w} mode`, st.mode & 0o7777, k.mode);
    // Linux gives the placeholder of a snapshotted subvolume (inode 2) the current time.
    if (k.ino !== 2) {
      m.eq(`${w} mtime`, [st.mtime.sec, st.mtime.nsec], k.mtime);
      if (k.type !== 'd' || e.ino !== base) m.eq(`${w} atime`, [st.atime.sec, st.atime.nsec], k.atime);
    }
    if (k.type === 'l') m.eq(`${w} target`, fs.readlink(e.ino), k.target);
    if (k.type === 'c' || k.type === 'b') m.eq(`${w} rdev`, st.rdev, linuxMakedev(...o.rdev.get(e.path)!));
    const sum = o.sha256.get(e.path);
    if (sum) m.eq(`${w} sha256`, sha256Of(fs, e.ino, st.size), sum);
    m.eq(`${w} xattrs`, fs.listxattr(e.ino).sort(), Object.keys(o.xattrs.get(e.path) ?? {}).sort());
  }
  expect(m.list).toEqual([]);
}

/**
 * statfs equals the kernel's statvfs (the appliance's Linux 6.1): f_blocks, f_bfree (with the
 * global reserve modelled as that kernel sizes it) and f_bavail (unallocated device space).
 */
function compareStatfs(fs: BtrfsFilesystem, o: Oracle): void {
  const s = fs.statfs();
  expect({ bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, namelen: s.namemax }).toEqual(o.statvfs);
}

describe('dup.img: DUP metadata, filled by the kernel (tar in the appliance)', () => {
  let fs: BtrfsFilesystem;
  beforeAll(() => {
    fs = openImage(files('dup')[0]);
  });

  it('has DUP metadata and single data', () => {
    expect(fs.uuid).toBe(info.dup.uuid);
    expect(fs.label).toBe(info.dup.label);
    expect(fs.profiles()).toEqual({ data: ['single'], metadata: ['dup'], system: ['dup'] });
  });

  it('reads back the fixture tree exactly: nanosecond times, device numbers, contents, xattrs, ACLs', () => {
    expectFixtureTree(fs, fs.rootIno, 'dup.img');
  });

  it("matches the kernel's view of every entry (inode numbers, links, blocks, times)", () => {
    expectKernelView(fs, loadOracle(dir, 'dup'));
  });

  it("statfs is the kernel's", () => {
    compareStatfs(fs, loadOracle(dir, 'dup'));
  });
});

describe('compress.img: subvolumes, snapshot, default subvolume, zstd / lzo / zlib', () => {
  let top: BtrfsFilesystem;
  let oracle: Oracle;
  beforeAll(() => {
    top = openImage(files('compress')[0], { options: 'subvolid=5' });
    oracle = loadOracle(dir, 'compress');
  });

  it('mounts the default subvolume (zstd, set with btrfs subvolume set-default) as /', () => {
    const fs = openImage(files('compress')[0]);
    const zstdId = top.locate(resolve(top, 'zstd')).subvolume;
    expect(oracle.defaultSubvol).toMatch(new RegExp(`^ID ${zstdId} .* path zstd\\n?$`));
    expect(fs.defaultSubvolId).toBe(zstdId);
    expect(fs.subvolId).toBe(zstdId);
    expect(fs.rootIno).toBe(256);
    expect(fs.stat(fs.rootIno).ino).toBe(256);
    expect(fs.lookup(fs.rootIno, 'inner')).not.toBeNull();
    expect(fs.readlink(resolve(fs, 'links/fast'))).toBe('target.txt');
  });

  it('the top level (subvolid=5) shows the subvolumes as directories, with inode 256', () => {
    expect([...top.readdir(top.rootIno)].map((e) => [e.name, e.type]).sort()).toEqual(
      [['README', 'file'], ['lzo', 'dir'], ['snap-zstd', 'dir'], ['zlib', 'dir'], ['zstd', 'dir']],
    );
    for (const n of ['zstd', 'lzo', 'zlib', 'snap-zstd']) {
      const h = resolve(top, n);
      expect(top.stat(h).ino, n).toBe(256);
      expect(top.locate(h).objectid).toBe(256);
    }
    // Same inode numbers in different subvolumes, different handles.
    const a = resolve(top, 'zstd/etc/hostname');
    const b = resolve(top, 'lzo/etc/hostname');
    expect(a).not.toBe(b);
    expect(top.stat(a).ino).toBe(top.stat(b).ino);
    expect(readAll(top, top.lookup(top.rootIno, 'README')!).toString()).toBe(info.readme);
  });

  it("matches the kernel's view of the whole filesystem, across subvolumes and the snapshot", () => {
    expectKernelView(top, oracle);
  });

  it('a snapshot shows a nested subvolume as an empty directory with inode 2, as Linux does', () => {
    const inSnap = resolve(top, 'snap-zstd/inner');
    expect(top.stat(inSnap).ino).toBe(2);
    expect(top.stat(inSnap).mode).toBe(0o040755);
    expect([...top.readdir(inSnap)]).toEqual([]);
    expect(top.lookup(inSnap, 'file.txt')).toBeNull();
    const real = resolve(top, 'zstd/inner');
    expect(top.stat(real).ino).toBe(256);
    expect(readAll(top, resolve(top, 'zstd/inner/file.txt')).toString()).toBe(info.nested.text);
  });

  it('lists the subvolumes with their paths, parents and read-only flags (btrfs subvolume list -p)', () => {
    const listed = top.subvolumes().map((s) => `ID ${s.id} parent ${s.parent} path ${s.path}`);
    const kernel = oracle.subvols.trim().split('\n').map((l) => {
      const m = /^ID (\d+) gen \d+ parent (\d+) top level \d+ path (.*)$/.exec(l)!;
      return `ID ${m[1]} parent ${m[2]} path ${m[3]}`;
    });
    expect(listed).toEqual(kernel);
    expect(top.subvolumes().find((s) => s.path === 'snap-zstd')!.readonly).toBe(true);
    expect(top.subvolumes().find((s) => s.path === 'zstd')!.readonly).toBe(false);
  });

  for (const alg of ['zstd', 'lzo', 'zlib']) {
    it(`subvol=${alg}: the fixture tree written under compress-force=${alg} reads back exactly`, () => {
      const fs = openImage(files('compress')[0], { options: `subvol=${alg}` });
      expect(fs.subvolId).toBe(top.locate(resolve(top, alg)).subvolume);
      expectFixtureTree(fs, fs.rootIno, `compress.img/${alg}`, alg === 'zstd' ? ['inner', 'inner/file.txt'] : []);
    });

    it(`${alg}: regular and inline extents are ${alg}-compressed; reads at every offset agree`, () => {
      const fs = openImage(files('compress')[0], { options: `subvol=${alg}` });
      const code = { zlib: 1, lzo: 2, zstd: 3 }[alg];
      const big = resolve(fs, `btrfs/text-${1024 * 1024 + 5}.txt`);
      const ext = fs.fileExtents(big);
      expect(ext.filter((e) => e.compression === code && e.type === 1).length).toBeGreaterThanOrEqual(8);
      const small = fs.fileExtents(resolve(fs, 'btrfs/text-3000.txt'));
      expect(small).toHaveLength(1);
      expect([small[0].type, small[0].compression, small[0].ramBytes]).toEqual([0, code, 3000]);
      // Unaligned reads across compressed extent boundaries equal the text.
      const text = compressibleText(`t${1024 * 1024 + 5}`, 1024 * 1024 + 5);
      for (const [pos, len] of [[0, 1], [131072 - 7, 20], [131072 * 3 + 5, 131072 + 11], [1024 * 1024 - 3, 100]]) {
        const b = new Uint8Array(len);
        const n = fs.read(big, b, pos);
        expect(n).toBe(Math.min(len, text.length - pos));
        expect(Buffer.from(b.subarray(0, n)).equals(text.subarray(pos, pos + n)), `${alg} ${pos}+${len}`).toBe(true);
      }
    });

    it(`${alg}: an overwritten compressed extent is read through offsets into it; prealloc reads as zeros; holes`, () => {
      const fs = openImage(files('compress')[0], { options: `subvol=${alg}` });
      const code = { zlib: 1, lzo: 2, zstd: 3 }[alg];
      const partial = fs.fileExtents(resolve(fs, 'btrfs/partial.txt'));
      expect(partial.some((e) => e.compression === code && e.offset > 0)).toBe(true);
      const prealloc = fs.fileExtents(resolve(fs, 'btrfs/prealloc.bin'));
      expect(prealloc.map((e) => e.type)).toEqual([2, 1, 2]);
      // no-holes is off on compress.img: the gap is an explicit hole extent (disk_bytenr 0).
      const holes = fs.fileExtents(resolve(fs, 'btrfs/holes.bin'));
      expect(holes.some((e) => e.type === 1 && e.diskBytenr === 0)).toBe(true);
      const h = resolve(fs, 'btrfs/holes.bin');
      const b = new Uint8Array(10000);
      expect(fs.read(h, b, BTRFS_TREE.holes.size - 5000)).toBe(5000);
      expect(b.subarray(0, 5000).every((x) => x === 0)).toBe(true);
    });
  }

  it('subvol=zstd/inner, subvol=/lzo and subvolid=N select those subvolumes', () => {
    const nested = openImage(files('compress')[0], { options: 'subvol=zstd/inner' });
    expect([...nested.readdir(nested.rootIno)].map((e) => e.name)).toEqual([info.nested.file]);
    const lzo = openImage(files('compress')[0], { options: 'rw,subvol=/lzo,compress=zstd' });
    const id = lzo.subvolId;
    const byId = openImage(files('compress')[0], { options: `subvolid=${id}` });
    expect(byId.subvolId).toBe(id);
    expect(openImage(files('compress')[0], { options: `subvol=lzo,subvolid=${id}` }).subvolId).toBe(id);
    expect(openImage(files('compress')[0], { options: 'subvolid=0' }).subvolId).toBe(5);
  });

  it('bad subvolume options are clear errors', () => {
    const open = (o: string) => () => openImage(files('compress')[0], { options: o });
    expect(open('subvol=missing')).toThrow(/subvolume missing does not exist/);
    expect(open('subvol=README')).toThrow(/README is not a btrfs subvolume/);
    expect(open('subvol=zstd/etc')).toThrow(/is not a btrfs subvolume/);
    expect(open('subvolid=4242')).toThrow(/subvolume id 4242 does not exist/);
    expect(open('subvolid=abc')).toThrow(/not a subvolume id/);
    expect(open('subvol=lzo,subvolid=5')).toThrow(/not subvolid=5/);
    try {
      open('subvol=missing')();
    } catch (e) {
      expect(e).toBeInstanceOf(GuestkitError);
      expect((e as GuestkitError).code).toBe('NOT_FOUND');
    }
  });

  it("statfs is the kernel's", () => {
    compareStatfs(top, oracle);
  });
});

describe('multi-device filesystems', () => {
  for (const [k, data, meta] of [['raid1', 'raid1', 'raid1'], ['raid0', 'raid0', 'raid1c3'], ['raid10', 'raid10', 'raid1c4'], ['raid5', 'raid5', 'raid6']] as const) {
    it(`${k}: data ${data}, metadata ${meta} over ${k === 'raid1' ? 2 : k === 'raid10' ? 4 : 3} devices reads back the fixture tree`, () => {
      warnings.length = 0;
      const fs = openImage(files(k));
      expect(fs.uuid).toBe(info[k].uuid);
      expect(fs.profiles().data).toEqual([data]);
      expect(fs.profiles().metadata).toEqual([meta]);
      expect(fs.warnings).toEqual([]);
      expectFixtureTree(fs, fs.rootIno, `${k}`);
      expectKernelView(fs, loadOracle(dir, k));
      compareStatfs(fs, loadOracle(dir, k));
    });
  }

  it('raid1 with either device alone reads everything (degraded, with a warning)', () => {
    for (const f of files('raid1')) {
      warnings.length = 0;
      const fs = openImage(f);
      expect(fs.warnings.join('\n')).toMatch(/1 of 2 devices given \(devid \d missing\).*degraded/);
      for (const p of ['sizes/size-1048577', 'btrfs/mixed.bin', 'sizes/fragmented.bin']) {
        expect(sha256Of(fs, resolve(fs, p), byPath.get(p)!.size), `${f} ${p}`).toBe(byPath.get(p)!.sha256);
      }
    }
  });

  it('raid0 with a device missing: metadata (RAID1C3) still reads, data on the missing device is a clear error', () => {
    const [a, b] = files('raid0');
    const fs = openImage([a, b]);
    expect(fs.warnings.join('\n')).toMatch(/2 of 3 devices given/);
    expect(walk(fs).length).toBe(manifest.length - 1);
    const big = resolve(fs, 'sizes/size-1048577');
    expect(() => sha256Of(fs, big, 1048577)).toThrow(/only on btrfs device 3, which was not given/);
  });

  it('a device of another filesystem is ignored with a warning', () => {
    const fs = openImage([files('raid1')[0], files('dup')[0], files('raid1')[1]]);
    expect(fs.warnings.join('\n')).toMatch(/belongs to btrfs filesystem .*dup|belongs to btrfs filesystem/);
    expect(fs.warnings.join('\n')).not.toMatch(/missing/);
  });
});

describe("btrfs-rootdir's btrfs.img as the kernel shows it", () => {
  it('inode numbers, links, blocks and times (mkfs.btrfs 6.2: no nanoseconds, rdev 0) match the kernel; statfs', () => {
    const fs = openImage(join(rootdirDir, 'btrfs.img'));
    const o = loadOracle(dir, 'rootdir');
    expectKernelView(fs, o);
    for (const p of ['dev/null', 'dev/sda', 'dev/bignum']) expect(o.rdev.get(p), p).toEqual([0, 0]);
    compareStatfs(fs, o);
  });
});

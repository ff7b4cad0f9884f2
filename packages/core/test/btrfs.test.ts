// btrfs images made by `mkfs.btrfs --rootdir` from the Linux fixture tree (recipe
// btrfs-rootdir): every entry, its metadata, contents, link target and xattrs read back
// equal the tree's (the manifest the recipe took of the host tree before mkfs), with 16 KiB
// and 4 KiB nodes, mixed block groups and each checksum type. What mkfs.btrfs 6.2 does not
// copy (nanoseconds, device numbers, directory atimes) is checked against the kernel's view
// in btrfs-kernel.test.ts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureImage } from '../../../test/helpers/images.js';
import { fileTypeOfMode } from '../src/fs/vfs.js';
import type { BtrfsFilesystem } from '../src/fs/btrfs/index.js';
import {
  openImage, loadManifest, resolve, walk, sha256Of, hex, closeAll, warnings, Mismatches,
  type ManifestEntry, type WalkEntry,
} from './btrfs-helpers.js';
// @ts-expect-error plain JS module
import { LINUX_TREE, mediumName, bigName } from '../../../images/fixtures/linux-tree.mjs';

interface ImageSpec {
  image: string;
  uuid: string;
  label: string;
  args: string[];
}

let dir: string;
let manifest: ManifestEntry[];
let byPath: Map<string, ManifestEntry>;
let specs: ImageSpec[];

beforeAll(() => {
  dir = ensureImage('btrfs-rootdir');
  manifest = loadManifest(dir);
  byPath = new Map(manifest.map((e) => [e.path, e]));
  specs = JSON.parse(readFileSync(join(dir, 'images.json'), 'utf8'));
});
afterAll(closeAll);

const spec = (image: string) => specs.find((s) => s.image === image)!;

/** The full comparison on the default image and the 4 KiB-node one (taller trees). */
for (const image of ['btrfs.img', 'btrfs-n4k.img']) {
  describe(`mkfs.btrfs --rootdir: ${image}`, () => {
    let fs: BtrfsFilesystem;
    let entries: WalkEntry[];

    beforeAll(() => {
      fs = openImage(join(dir, image));
      entries = walk(fs);
    });

    it('is btrfs with the recipe UUID and label, the top-level subvolume mounted', () => {
      expect(fs.type).toBe('btrfs');
      expect(fs.uuid).toBe(spec(image).uuid);
      expect(fs.label).toBe(spec(image).label);
      expect(fs.subvolId).toBe(5);
      expect(fs.defaultSubvolId).toBe(5);
      expect(fs.rootIno).toBe(256);
      expect(fs.stat(fs.rootIno).ino).toBe(256);
      // btrfs-progs 6.2 defaults: DUP metadata and system chunks, single data.
      expect(fs.profiles()).toEqual({ data: ['single'], metadata: ['dup'], system: ['dup'] });
      expect(fs.warnings).toEqual([]);
    });

    it('lists exactly the fixture tree, with entry types', () => {
      expect(entries.map((e) => e.path).sort()).toEqual(manifest.filter((e) => e.path !== '').map((e) => e.path).sort());
      for (const e of entries) expect(e.type, e.path).toBe(byPath.get(e.path)!.type);
    });

    it('every entry has the tree mode, owner, size, link count and times (seconds)', () => {
      expect(fs.stat(fs.rootIno).mode).toBe(byPath.get('')!.mode);
      const m = new Mismatches();
      for (const e of entries) {
        const want = byPath.get(e.path)!;
        const st = fs.stat(e.ino);
        const w = `${image}:${e.path}`;
        m.eq(w, [st.mode, fileTypeOfMode(st.mode), st.uid, st.gid, st.mtime.sec, st.blksize], [want.mode, want.type, want.uid, want.gid, want.mtime.sec, 4096]);
        // mkfs.btrfs 6.2 copies st_mtime/st_atime without nanoseconds.
        m.eq(`${w} mtime.nsec`, st.mtime.nsec, 0);
        if (want.type === 'dir') {
          m.eq(`${w} nlink`, st.nlink, 1); // btrfs directories always have one link
        } else {
          // mkfs.btrfs reads directories after it copied their times: only non-directories keep atime.
          m.eq(w, [st.size, st.nlink, st.atime.sec], [want.size, want.nlink, want.atime.sec]);
        }
      }
      expect(m.list).toEqual([]);
    });

    it('hard links share one handle; handles are the btrfs inode numbers', () => {
      const groups = new Map<number, Set<number>>();
      const m = new Mismatches();
      for (const e of entries) {
        const want = byPath.get(e.path)!;
        if (want.type === 'dir') continue;
        if (!groups.has(want.hostIno)) groups.set(want.hostIno, new Set());
        groups.get(want.hostIno)!.add(e.ino);
        m.eq(e.path, fs.stat(e.ino).ino, e.ino);
      }
      expect(m.list).toEqual([]);
      for (const inos of groups.values()) expect(inos.size).toBe(1);
      expect(resolve(fs, 'hardlinks/original')).toBe(resolve(fs, 'hardlinks/sub/third'));
      expect(fs.stat(resolve(fs, 'hardlinks/original')).nlink).toBe(3);
    });

    it('every file reads back with the tree content (sha256)', () => {
      let files = 0;
      const m = new Mismatches();
      for (const e of entries) {
        const want = byPath.get(e.path)!;
        if (want.type !== 'file' || want.sha256 === undefined) continue;
        m.eq(`${image}:${e.path}`, sha256Of(fs, e.ino, want.size), want.sha256);
        files++;
      }
      expect(m.list).toEqual([]);
      expect(files).toBeGreaterThan(20_000);
    });

    it('reads ranges across extents and holes, and nothing at or past EOF', () => {
      const ino = resolve(fs, 'sizes/fragmented.bin');
      const whole = new Uint8Array(400 * 8192);
      expect(fs.read(ino, whole, 0)).toBe(400 * 8192 - 4096);
      for (let i = 0; i < 400; i++) {
        expect(whole.subarray(i * 8192, i * 8192 + 4096).some((b) => b !== 0)).toBe(true);
        expect(whole.subarray(i * 8192 + 4096, (i + 1) * 8192).every((b) => b === 0)).toBe(true);
      }
      const part = new Uint8Array(9000);
      expect(fs.read(ino, part, 8192 * 7 + 4000)).toBe(9000);
      expect(Buffer.from(part).equals(Buffer.from(whole.subarray(8192 * 7 + 4000, 8192 * 7 + 13000)))).toBe(true);
      expect(fs.read(ino, part, 400 * 8192 - 4096)).toBe(0);
      expect(fs.read(ino, part, 10 ** 12)).toBe(0);
      expect(() => fs.read(fs.rootIno, part, 0)).toThrow(/Is a directory/);
    });

    it('symlinks read back with the tree targets (inline extents up to 903 bytes)', () => {
      let links = 0;
      for (const e of entries) {
        const m = byPath.get(e.path)!;
        if (m.type !== 'symlink') continue;
        expect(fs.readlink(e.ino), e.path).toBe(m.target);
        expect(fs.stat(e.ino).size, e.path).toBe(Buffer.byteLength(m.target!));
        links++;
      }
      expect(links).toBeGreaterThanOrEqual(11);
    });

    it('extended attributes (user, trusted, security, POSIX ACLs) equal the tree', () => {
      let n = 0;
      const m = new Mismatches();
      for (const e of entries) {
        const want = byPath.get(e.path)!;
        m.eq(e.path, fs.listxattr(e.ino).sort(), Object.keys(want.xattrs).sort());
        for (const [name, value] of Object.entries(want.xattrs)) {
          m.eq(`${e.path} ${name}`, hex(fs.getxattr(e.ino, name)), value);
          n++;
        }
      }
      expect(m.list).toEqual([]);
      expect(n).toBeGreaterThanOrEqual(30);
      expect(fs.getxattr(resolve(fs, 'xattr/small'), 'user.absent')).toBeNull();
    });

    it('looks up every name of the medium and big directories by name hash (and misses absent ones)', () => {
      for (const [d, count, name] of [['htree-medium', LINUX_TREE.mediumDirEntries, mediumName], ['bigdir', LINUX_TREE.bigDirEntries, bigName]] as const) {
        const h = resolve(fs, d);
        const listed = new Map([...fs.readdir(h)].map((e) => [e.name, e.ino]));
        expect(listed.size).toBe(count);
        const m = new Mismatches();
        for (let i = 0; i < count; i++) m.eq(name(i), fs.lookup(h, name(i)), listed.get(name(i)));
        expect(m.list).toEqual([]);
        expect(fs.lookup(h, 'absent-name')).toBeNull();
      }
      expect(fs.lookup(fs.rootIno, '.')).toBeNull();
      expect(fs.lookup(fs.rootIno, '')).toBeNull();
      expect(() => fs.lookup(resolve(fs, 'etc/hostname'), 'x')).toThrow(/Not a directory/);
      expect(() => fs.readdir(resolve(fs, 'etc/hostname'))[Symbol.iterator]().next()).toThrow(/Not a directory/);
    });

    it('statfs: 4 KiB blocks, no inode counts, 255-byte names, free space below the size', () => {
      const s = fs.statfs();
      expect(s.bsize).toBe(4096);
      expect(s.frsize).toBe(4096);
      expect(s.blocks * 4096).toBe(fs.sb.totalBytes);
      expect(s.bfree).toBeLessThan(s.blocks);
      expect(s.bavail).toBeLessThanOrEqual(s.bfree);
      expect([s.files, s.ffree, s.namemax]).toEqual([0, 0, 255]);
    });
  });
}

describe('mkfs.btrfs --rootdir: 4 KiB nodes', () => {
  it('give a multi-level fs tree with four times as many blocks as 16 KiB nodes, read the same', () => {
    const big = openImage(join(dir, 'btrfs.img'));
    const small = openImage(join(dir, 'btrfs-n4k.img'));
    expect(small.subvolumeTree(5).rootLevel).toBeGreaterThanOrEqual(2);
    const before = [big.reader.reads, small.reader.reads];
    expect(walk(small).map((e) => e.path)).toEqual(walk(big).map((e) => e.path));
    expect(small.reader.reads - before[1]).toBeGreaterThan(3 * (big.reader.reads - before[0]));
  });
});

for (const [image, csum] of [['btrfs-mixed.img', 'crc32c'], ['btrfs-xxhash.img', 'xxhash64'], ['btrfs-sha256.img', 'sha256'], ['btrfs-blake2.img', 'blake2b']] as const) {
  describe(`mkfs.btrfs --rootdir: ${image}`, () => {
    it(`reads the whole tree (${csum} tree block checksums${csum === 'blake2b' ? ' not verified, with a warning' : ' verified'})`, () => {
      warnings.length = 0;
      const fs = openImage(join(dir, image));
      expect(fs.uuid).toBe(spec(image).uuid);
      const entries = walk(fs);
      expect(entries.length).toBe(manifest.length - 1);
      let n = 0;
      for (const e of entries) {
        const m = byPath.get(e.path)!;
        if (m.type === 'file' && m.sha256 && (e.path.startsWith('sizes/') || e.path.startsWith('btrfs/'))) {
          expect(sha256Of(fs, e.ino, m.size), e.path).toBe(m.sha256);
          n++;
        }
        if (m.type === 'symlink') expect(fs.readlink(e.ino)).toBe(m.target);
      }
      expect(n).toBeGreaterThan(20);
      expect(fs.reader.verify).toBe(csum !== 'blake2b');
      if (csum === 'blake2b') expect(fs.warnings.join('\n')).toMatch(/blake2b checksums are not verified/);
      else expect(fs.warnings).toEqual([]);
      if (image === 'btrfs-mixed.img') expect(fs.profiles().data).toEqual(['single']);
    });
  });
}

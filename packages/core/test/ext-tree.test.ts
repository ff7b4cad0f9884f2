// ext2/3/4 images made by mke2fs -d from the Linux fixture tree (images/recipes/ext-*.mjs):
// every entry, its metadata, contents, link target and xattrs read back equal the tree's
// (the manifest the recipe took of the host tree before mke2fs), and directory lookups go
// through the htree with each hash variant.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, openSync, readSync, closeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureImage } from '../../../test/helpers/images.js';
import { openExtImage, resolve, walk, sha256Of, hex, debugfs, type WalkEntry } from './ext-helpers.js';
import type { ExtFs } from '../src/fs/ext/index.js';
import { fileTypeOfMode } from '../src/fs/vfs.js';
// @ts-expect-error plain JS module
import { LINUX_TREE, mediumName, bigName } from '../../../images/fixtures/linux-tree.mjs';
// @ts-expect-error plain JS module
import { EXT_CTIME, EXT_FAKE_TIME } from '../../../images/recipes/ext-ext4.mjs';

const golden: { images: Record<string, Record<string, number> & { recipeHash: string }> } = JSON.parse(
  readFileSync(join(__dirname, 'ext-statfs.golden.json'), 'utf8'),
);

interface ManifestEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  hostIno: number;
  rdev: number;
  atime: { sec: number; nsec: number };
  mtime: { sec: number; nsec: number };
  target?: string;
  xattrs: Record<string, string>;
  sha256?: string;
}

interface Case {
  recipe: string;
  image: string;
  type: 'ext2' | 'ext3' | 'ext4';
  /** Inodes larger than 128 bytes keep nanoseconds and crtime. */
  bigInodes: boolean;
  /** dx_root hash_version of the indexed directories (0 legacy, 1 half_md4, 2 tea). */
  hashVersion?: number;
  unsigned?: boolean;
  /** Entries of bigdir/ and the depth of its index (dx_root indirect_levels). */
  bigDir?: number;
  bigDirLevels?: number;
  /** Has the 2 GiB sparse file. */
  sparse?: boolean;
  /** Features dumpe2fs must list (and ones it must not, prefixed with ^). */
  features: string[];
  /** Group descriptor size and inode size the reader must see. */
  descSize: number;
  inodeSize: number;
}

const CASES: Case[] = [
  {
    recipe: 'ext-ext4', image: 'ext4.img', type: 'ext4', bigInodes: true, hashVersion: 1, unsigned: false, bigDir: 20000, bigDirLevels: 0, sparse: true,
    features: ['64bit', 'metadata_csum', 'flex_bg', 'huge_file', 'dir_nlink', 'extra_isize', 'extent', 'has_journal'], descSize: 64, inodeSize: 256,
  },
  {
    recipe: 'ext-ext4-1k', image: 'ext4-1k.img', type: 'ext4', bigInodes: true, hashVersion: 2, unsigned: true, bigDir: 6000, bigDirLevels: 1,
    features: ['^64bit', '^metadata_csum', 'uninit_bg', 'extent', 'flex_bg'], descSize: 32, inodeSize: 256,
  },
  {
    recipe: 'ext-ext3', image: 'ext3.img', type: 'ext3', bigInodes: true, hashVersion: 0, unsigned: false, bigDir: 6000, bigDirLevels: 1, sparse: true,
    features: ['has_journal', 'dir_index', '^extent', '^flex_bg'], descSize: 32, inodeSize: 256,
  },
  { recipe: 'ext-ext2', image: 'ext2.img', type: 'ext2', bigInodes: false, features: ['^filetype', '^dir_index', '^has_journal', '^extent'], descSize: 32, inodeSize: 128 },
  {
    recipe: 'ext-ext4-inline', image: 'ext4-inline.img', type: 'ext4', bigInodes: true, hashVersion: 0, unsigned: true,
    features: ['inline_data', 'metadata_csum'], descSize: 64, inodeSize: 1024,
  },
  {
    recipe: 'ext-ext4-bigalloc', image: 'ext4-bigalloc.img', type: 'ext4', bigInodes: true, hashVersion: 1, unsigned: true,
    features: ['bigalloc', 'meta_bg', 'sparse_super2', '^resize_inode', 'metadata_csum'], descSize: 64, inodeSize: 256,
  },
];

for (const c of CASES) {
  describe(`${c.recipe}: ${c.image} from the Linux fixture tree`, () => {
    let img: string;
    let fs: ExtFs;
    let manifest: ManifestEntry[];
    let byPath: Map<string, ManifestEntry>;
    let entries: WalkEntry[];

    beforeAll(() => {
      const dir = ensureImage(c.recipe);
      img = join(dir, c.image);
      manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      byPath = new Map(manifest.map((e) => [e.path, e]));
      fs = openExtImage(img);
      entries = walk(fs);
    });

    it(`is ${c.type} with the recipe's label, UUID and features (${c.features.join(' ')})`, () => {
      expect(fs.type).toBe(c.type);
      const blkid = execFileSync('blkid', ['-p', '-o', 'export', img], { encoding: 'utf8' });
      expect(blkid).toContain(`TYPE=${c.type}\n`);
      expect(blkid).toContain(`UUID=${fs.uuid}\n`);
      expect(blkid).toContain(`LABEL=${fs.label}\n`);
      const stats = debugfs(img, 'stats');
      const features = /^Filesystem features:\s+(.*)$/m.exec(stats)![1].split(/\s+/);
      for (const f of c.features) {
        if (f.startsWith('^')) expect(features, f).not.toContain(f.slice(1));
        else expect(features, f).toContain(f);
      }
      expect(fs.sb.descSize).toBe(c.descSize);
      expect(fs.sb.s_inode_size).toBe(c.inodeSize);
      expect(fs.sb.blockSize).toBe(Number(/^Block size:\s+(\d+)/m.exec(stats)![1]));
      expect(fs.sb.groupCount).toBe(Number(/^Block count:\s+(\d+)/m.exec(stats)![1]) > 0 ? stats.match(/^ Group\s+\d+:/gm)!.length : -1);
    });

    it('lists exactly the fixture tree, plus lost+found, with entry types', () => {
      const listed = entries.map((e) => e.path).sort();
      const expected = [...manifest.filter((e) => e.path !== '').map((e) => e.path), 'lost+found'].sort();
      expect(listed).toEqual(expected);
      const wrongType = entries.filter((e) => e.path !== 'lost+found' && e.type !== byPath.get(e.path)!.type);
      expect(wrongType.map((e) => `${e.path}: ${e.type}`)).toEqual([]);
    });

    it('every entry has the tree mode, owner, size, link count, device number and times', () => {
      expect(fs.stat(fs.rootIno).mode).toBe(byPath.get('')!.mode);
      // One record per entry, compared in one go (a mismatch lists every differing entry).
      const got: unknown[] = [];
      const want: unknown[] = [];
      let checked = 0;
      for (const e of entries) {
        const m = byPath.get(e.path);
        if (!m) continue;
        const st = fs.stat(e.ino);
        const dev = m.type === 'chardev' || m.type === 'blockdev';
        const a = {
          path: e.path,
          ino: st.ino,
          mode: st.mode,
          type: fileTypeOfMode(st.mode),
          owner: [st.uid, st.gid],
          size: m.type === 'dir' ? 0 : st.size,
          nlink: st.nlink,
          rdev: dev ? st.rdev : 0,
          mtime: st.mtime,
          atime: st.atime,
          ctime: st.ctime.sec,
          crtime: st.crtime?.sec,
        };
        const b = {
          path: e.path,
          ino: e.ino,
          mode: m.mode,
          type: m.type,
          owner: [m.uid, m.gid],
          size: m.type === 'dir' ? 0 : m.size,
          nlink: m.nlink,
          rdev: dev ? m.rdev : 0,
          mtime: c.bigInodes ? m.mtime : { sec: m.mtime.sec, nsec: 0 },
          atime: c.bigInodes ? m.atime : { sec: m.atime.sec, nsec: 0 },
          ctime: EXT_CTIME,
          crtime: c.bigInodes ? EXT_FAKE_TIME : undefined,
        };
        if (JSON.stringify(a) !== JSON.stringify(b)) {
          got.push(a);
          want.push(b);
        }
        // i_blocks: at least the data of a dense file, in 512-byte units (inline data: none).
        const inline = (fs.inode(e.ino).i_flags & 0x10000000) !== 0;
        if (m.type === 'file' && m.path.startsWith('sizes/size-') && !inline && st.blocks * 512 < m.size) {
          got.push({ path: e.path, blocks: st.blocks });
          want.push({ path: e.path, blocks: `>= ${m.size / 512}` });
        }
        checked++;
      }
      expect(got).toEqual(want);
      expect(checked).toBe(manifest.length - 1);
    });

    if (c.recipe === 'ext-ext4-inline') {
      it('reads an xattr value stored in an inode of its own (ea_inode)', () => {
        const lf = resolve(fs, 'lost+found');
        expect(fs.listxattr(lf)).toEqual(['user.huge']);
        const want = readFileSync(join(ensureImage(c.recipe), 'ea-inode-value.bin'));
        expect(Buffer.from(fs.getxattr(lf, 'user.huge')!).equals(want)).toBe(true);
        // The value lives in an EA inode (flag EXT4_EA_INODE_FL) of that size, not in a block.
        expect(fs.inode(lf).i_file_acl).toBe(0);
        const eaInodes: number[] = [];
        for (let ino = 1; ino <= fs.sb.s_inodes_count; ino++) if (fs.inode(ino).i_flags & 0x200000) eaInodes.push(ino);
        expect(eaInodes).toHaveLength(1);
        expect(fs.inode(eaInodes[0]).i_size).toBe(want.length);
        expect(debugfs(img, 'stat /lost+found')).toContain(`user.huge (${want.length})`);
      });

      it('keeps small files, directories and symlinks inline', () => {
        const flags = (p: string) => fs.inode(resolve(fs, p)).i_flags;
        for (const p of ['sizes/size-1', 'sizes/size-100', 'sizes/size-700', 'nested', 'links/slow-61']) {
          if (!byPath.has(p)) continue;
          expect(flags(p) & 0x10000000, p).toBe(0x10000000);
          expect(fs.stat(resolve(fs, p)).blocks, p).toBe(0);
        }
        expect(flags('sizes/size-4097') & 0x10000000).toBe(0);
      });
    }

    it('hard links share one inode', () => {
      const groups = new Map<number, Set<number>>();
      for (const e of entries) {
        const m = byPath.get(e.path);
        if (!m || m.type === 'dir') continue;
        if (!groups.has(m.hostIno)) groups.set(m.hostIno, new Set());
        groups.get(m.hostIno)!.add(e.ino);
      }
      expect([...groups.values()].filter((s) => s.size !== 1)).toEqual([]);
      expect(resolve(fs, 'hardlinks/original')).toBe(resolve(fs, 'hardlinks/sub/third'));
      expect(fs.stat(resolve(fs, 'hardlinks/original')).nlink).toBe(3);
    });

    it('every file reads back with the tree content (sha256)', () => {
      const bad: string[] = [];
      let files = 0;
      for (const e of entries) {
        const m = byPath.get(e.path);
        if (!m || m.type !== 'file' || m.sha256 === undefined) continue;
        if (sha256Of(fs, e.ino, m.size) !== m.sha256) bad.push(e.path);
        files++;
      }
      expect(bad).toEqual([]);
      expect(files).toBeGreaterThan(50);
    });

    it('reads ranges across block and extent boundaries', () => {
      const ino = resolve(fs, 'sizes/fragmented.bin');
      const whole = new Uint8Array(400 * 8192);
      expect(fs.read(ino, whole, 0)).toBe(400 * 8192 - 4096);
      // 4 KiB of data, then a 4 KiB hole (zeros), 400 times.
      for (let i = 0; i < 400; i++) {
        expect(whole.subarray(i * 8192, i * 8192 + 4096).some((b) => b !== 0)).toBe(true);
        expect(whole.subarray(i * 8192 + 4096, (i + 1) * 8192).every((b) => b === 0)).toBe(true);
      }
      // An unaligned read spanning data, hole and data.
      const part = new Uint8Array(9000);
      expect(fs.read(ino, part, 8192 * 7 + 4000)).toBe(9000);
      expect(Buffer.from(part).equals(Buffer.from(whole.subarray(8192 * 7 + 4000, 8192 * 7 + 13000)))).toBe(true);
      // Reads at and past EOF.
      expect(fs.read(ino, part, 400 * 8192 - 4096)).toBe(0);
      expect(fs.read(ino, part, 10 ** 12)).toBe(0);
    });

    it('symlinks read back with the tree targets (fast, slow, 59/60/61 bytes)', () => {
      let links = 0;
      for (const e of entries) {
        const m = byPath.get(e.path);
        if (!m || m.type !== 'symlink') continue;
        expect(fs.readlink(e.ino), e.path).toBe(m.target);
        links++;
      }
      expect(links).toBeGreaterThanOrEqual(11);
    });

    it('extended attributes (user, trusted, security, POSIX ACLs) equal the tree', () => {
      const got: Record<string, Record<string, string | null>> = {};
      const want: Record<string, Record<string, string>> = {};
      let n = 0;
      for (const e of entries) {
        const m = byPath.get(e.path);
        if (!m) continue;
        const names = fs.listxattr(e.ino);
        if (names.length === 0 && Object.keys(m.xattrs).length === 0) continue;
        got[e.path] = Object.fromEntries(names.sort().map((x) => [x, hex(fs.getxattr(e.ino, x))]));
        want[e.path] = Object.fromEntries(Object.keys(m.xattrs).sort().map((x) => [x, m.xattrs[x]]));
        n += names.length;
      }
      expect(got).toEqual(want);
      expect(n).toBeGreaterThanOrEqual(30);
      expect(got['xattr/acl-dir']?.['system.posix_acl_default']).toBeTruthy();
      expect(fs.getxattr(resolve(fs, 'xattr/small'), 'user.absent')).toBeNull();
    });

    it('looks up every name of the medium directory (and misses absent ones)', () => {
      const dir = resolve(fs, 'htree-medium');
      const listed = new Map([...fs.readdir(dir)].map((e) => [e.name, e.ino]));
      expect(listed.size).toBe(LINUX_TREE.mediumDirEntries);
      const before = { ...fs.stats };
      const wrong: string[] = [];
      for (let i = 0; i < LINUX_TREE.mediumDirEntries; i++) {
        const name = mediumName(i);
        if (fs.lookup(dir, name) !== listed.get(name)) wrong.push(name);
      }
      expect(wrong).toEqual([]);
      expect(fs.lookup(dir, 'm999-absent')).toBeNull();
      expect(fs.lookup(dir, mediumName(1) + 'x')).toBeNull();
      if (c.hashVersion !== undefined) {
        // The directory is indexed with the intended hash and every lookup used the index.
        const h = debugfs(img, 'htree /htree-medium');
        expect(h).toMatch(new RegExp(`Hash Version: ${c.hashVersion}\\b`));
        expect(fs.stats.htreeLookups - before.htreeLookups).toBe(LINUX_TREE.mediumDirEntries + 2);
        expect(fs.stats.linearLookups - before.linearLookups).toBe(0);
        const flags = debugfs(img, 'stats');
        expect(flags).toContain(c.unsigned ? 'unsigned_directory_hash' : 'signed_directory_hash');
      }
    });

    if (c.bigDir) {
      it(`looks up every name of the big directory (${c.bigDir} entries) through the htree`, () => {
        const dir = resolve(fs, 'bigdir');
        const listed = new Map([...fs.readdir(dir)].map((e) => [e.name, e.ino]));
        expect(listed.size).toBe(c.bigDir);
        expect(manifest.filter((e) => e.path.startsWith('bigdir/')).length).toBe(c.bigDir);
        const before = { ...fs.stats };
        const wrong: string[] = [];
        for (let i = 0; i < c.bigDir!; i++) {
          const name = bigName(i);
          if (fs.lookup(dir, name) !== listed.get(name)) wrong.push(name);
        }
        expect(wrong).toEqual([]);
        expect(fs.stats.htreeLookups - before.htreeLookups).toBe(c.bigDir);
        expect(fs.stats.linearLookups - before.linearLookups).toBe(0);
        expect(fs.lookup(dir, 'file-99999')).toBeNull();
        // Depth of the index, as debugfs reports it.
        expect(debugfs(img, 'htree /bigdir')).toMatch(new RegExp(`Indirect levels: ${c.bigDirLevels}\\b`));
      });

    }
    if (c.sparse) {
      it('reads the 2 GiB sparse file: zeros in the holes, data at the right offsets', () => {
        const ino = resolve(fs, LINUX_TREE.sparsePath);
        const st = fs.stat(ino);
        expect(st.size).toBe(LINUX_TREE.sparseSize);
        expect(st.blocks * 512).toBeLessThan(1024 * 1024);
        // Each data segment with 100 bytes of hole on either side, against the host file.
        const fd = openSync(join(ensureImage(c.recipe), 'tree', LINUX_TREE.sparsePath), 'r');
        try {
          for (const [off, len] of LINUX_TREE.sparseSegments as [number, number][]) {
            const from = Math.max(0, off - 100);
            const n = Math.min(len + 200, LINUX_TREE.sparseSize - from);
            const want = Buffer.alloc(n);
            expect(readSync(fd, want, 0, n, from)).toBe(n);
            const got = new Uint8Array(n);
            expect(fs.read(ino, got, from)).toBe(n);
            expect(Buffer.from(got).equals(want), `segment at ${off}`).toBe(true);
            expect(want.some((b) => b !== 0)).toBe(true);
          }
        } finally {
          closeSync(fd);
        }
        // Holes: 1 MiB in the middle of nowhere, and the whole file streamed in 8 MiB reads
        // without holding it (the sum of bytes equals the data segments').
        const hole = new Uint8Array(1 << 20);
        expect(fs.read(ino, hole, 1536 * 1024 * 1024)).toBe(hole.length);
        expect(hole.every((b) => b === 0)).toBe(true);
        const buf = new Uint8Array(8 << 20);
        const zero = Buffer.alloc(buf.length);
        let nonZero = 0;
        const heapBefore = process.memoryUsage().rss;
        for (let pos = 0; pos < st.size; ) {
          const n = fs.read(ino, buf, pos);
          const b = Buffer.from(buf.buffer, 0, n);
          if (!b.equals(zero.subarray(0, n))) {
            for (let i = 0; i < n; i += 4096) if (!b.subarray(i, i + 4096).equals(zero.subarray(0, Math.min(4096, n - i)))) nonZero++;
          }
          pos += n;
        }
        expect(nonZero).toBeGreaterThanOrEqual(4);
        expect(process.memoryUsage().rss - heapBefore).toBeLessThan(256 * 1024 * 1024);
      });
    }

    it("statfs equals the Linux kernel's statvfs, as virt-df reports it (libguestfs golden)", () => {
      // Regenerate with: node packages/core/test/ext-statfs-golden.mjs
      const g = golden.images[`${c.recipe}/${c.image}`];
      expect(g, 'no golden for this image').toBeDefined();
      const { recipeHash: _h, ...want } = g;
      const s = fs.statfs();
      expect({ bsize: s.bsize, frsize: s.frsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, favail: s.favail, namemax: s.namemax }).toEqual(want);
    });

    it('statfs is consistent with the superblock', () => {
      const s = fs.statfs();
      expect(s.bsize).toBe(fs.sb.blockSize);
      expect(s.files).toBe(fs.sb.s_inodes_count);
      expect(s.ffree).toBeLessThan(s.files - manifest.length + 1);
      expect(s.blocks).toBeLessThan(fs.sb.s_blocks_count);
      expect(s.bfree).toBeLessThanOrEqual(s.blocks);
      expect(s.bavail).toBeLessThanOrEqual(s.bfree);
      expect(s.namemax).toBe(255);
    });
  });
}

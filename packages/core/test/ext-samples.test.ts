// Real-world ext images nobody here wrote (../shared/samples, see its README): e2fsprogs's
// test images and dissect.extfs's symlink image. Clean ones list and read completely and
// agree with The Sleuth Kit (fls) and debugfs; corrupt ones give GuestkitErrors only, fast.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, readdirSync, lstatSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { sample } from '../../../test/helpers/images.js';
import { openExtImage, resolve, walk, sha256Of, unpackSample, debugfs, warnings, exhaust, type WalkEntry } from './ext-helpers.js';
import type { ExtFs } from '../src/fs/ext/index.js';
import { GuestkitError } from '../src/errors.js';

const E2FS = 'e2fsprogs';

/** fls -r -p: "t/t ino:\tpath" lines; deleted entries carry " * ". (Async: it takes seconds.) */
async function flsListing(img: string): Promise<{ type: string; ino: number; path: string; deleted: boolean }[]> {
  const { stdout } = await promisify(execFile)('fls', ['-r', '-p', img], { maxBuffer: 1 << 28, encoding: 'buffer' });
  const out = stdout.toString('latin1');
  const rows: { type: string; ino: number; path: string; deleted: boolean }[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\S+) (\* )?(\d+)(?:\(realloc\))?:\t(.*)$/.exec(line);
    if (m) rows.push({ type: m[1], deleted: !!m[2], ino: Number(m[3]), path: Buffer.from(m[4], 'latin1').toString('utf8') });
  }
  return rows;
}

/** Recursive listing by debugfs `ls -p` (one request per directory): "ino path" rows. */
function debugfsListing(img: string): string[] {
  const rows: string[] = [];
  const visit = (dir: string) => {
    const out = debugfs(img, `ls -p "${dir || '/'}"`);
    for (const line of out.split('\n')) {
      const m = /^\/(\d+)\/(\d+)\/\d+\/\d+\/(.*)\/\d*\/$/.exec(line);
      if (!m || m[3] === '.' || m[3] === '..' || m[1] === '0') continue;
      const path = dir ? `${dir}/${m[3]}` : m[3];
      rows.push(`${m[1]} ${path}`);
      if (m[2].startsWith('40')) visit(path);
    }
  };
  visit('');
  return rows;
}

/** Files of a debugfs rdump of the image: path → { mode, size, sha256 | target }. */
function rdump(img: string): Map<string, { mode: number; size: number; sha256?: string; target?: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'guestkit-rdump-'));
  try {
    execFileSync('debugfs', ['-R', `rdump / ${dir}`, img], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new Map<string, { mode: number; size: number; sha256?: string; target?: string }>();
    const visit = (rel: string) => {
      for (const name of readdirSync(join(dir, rel))) {
        const p = rel ? `${rel}/${name}` : name;
        const st = lstatSync(join(dir, p));
        const e: { mode: number; size: number; sha256?: string; target?: string } = { mode: st.mode, size: st.size };
        if (st.isFile()) e.sha256 = createHash('sha256').update(readFileSync(join(dir, p))).digest('hex');
        if (st.isSymbolicLink()) e.target = readlinkSync(join(dir, p), 'utf8');
        out.set(p, e);
        if (st.isDirectory()) visit(p);
      }
    };
    visit('');
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('clean e2fsprogs images list and read completely', () => {
  const CLEAN = ['f_16384_block', 'f_bigalloc_symlink_with_xattr', 'f_desc_size_128', 'f_okgroup', 'f_orphan_extents_inode', 'f_verity'];
  for (const name of CLEAN) {
    it(`${name}: listing equals debugfs's, contents equal debugfs rdump, no warnings`, async () => {
      const { file, cleanup } = await unpackSample(sample(`${E2FS}/${name}.image.gz`));
      try {
        const w0 = warnings.length;
        const fs = openExtImage(file);
        const ours = walk(fs);
        // (fls is the oracle for f_h_normal below; it cannot read bigalloc and misses
        // lost+found on f_okgroup's revision-0 filesystem.)
        expect(ours.map((e) => `${e.ino} ${e.path}`).sort()).toEqual(debugfsListing(file).sort());
        const dump = rdump(file);
        for (const e of ours) {
          const d = dump.get(e.path);
          expect(d, e.path).toBeDefined();
          const st = fs.stat(e.ino);
          expect(st.mode & 0o7777, e.path).toBe(d!.mode & 0o7777);
          if (e.type === 'file') {
            expect(st.size, e.path).toBe(d!.size);
            expect(sha256Of(fs, e.ino, st.size), e.path).toBe(d!.sha256);
          }
          if (e.type === 'symlink') expect(fs.readlink(e.ino), e.path).toBe(d!.target);
          fs.listxattr(e.ino);
        }
        expect(warnings.slice(w0)).toEqual([]);
      } finally {
        cleanup();
      }
    });
  }

  it('f_bigalloc_symlink_with_xattr: the symlink keeps its target and xattr (bigalloc, 1 KiB blocks)', async () => {
    const { file, cleanup } = await unpackSample(sample(`${E2FS}/f_bigalloc_symlink_with_xattr.image.gz`));
    try {
      const fs = openExtImage(file);
      const ino = resolve(fs, 'symlink');
      const st = fs.stat(ino);
      expect(fs.readlink(ino)).toHaveLength(st.size);
      const attrs = debugfs(file, 'ea_list /symlink');
      for (const n of fs.listxattr(ino)) expect(attrs).toContain(n);
      expect(fs.listxattr(ino).length).toBeGreaterThan(0);
    } finally {
      cleanup();
    }
  });
});

describe('f_h_normal: an htree image with 47,724 entries as fls -r lists them', () => {
  let file: string;
  let cleanup: () => void;
  let fs: ExtFs;
  let ours: WalkEntry[];

  beforeAll(async () => {
    ({ file, cleanup } = await unpackSample(sample(`${E2FS}/f_h_normal.image.gz`)));
    fs = openExtImage(file);
    ours = walk(fs);
  });
  afterAll(() => cleanup?.());

  it('the recursive listing equals fls -r -p without deleted entries and unallocated inodes', async () => {
    const fls = await flsListing(file);
    expect(fls).toHaveLength(47724);
    // fls also shows deleted names (" * "), its $OrphanFiles virtual directory, and one
    // "-/-" entry it parses out of an htree interior block whose inode is not allocated.
    const unallocated = fls.filter((r) => r.type === '-/-' && !r.deleted);
    for (const r of unallocated) expect(debugfs(file, `stat <${r.ino}>`)).toMatch(/Type: bad type\s+Mode:\s+0000/);
    const live = fls.filter((r) => !r.deleted && r.type !== 'V/V' && r.type !== '-/-');
    expect(ours).toHaveLength(live.length);
    expect(ours.map((e) => `${e.ino} ${e.path}`).sort()).toEqual(live.map((r) => `${r.ino} ${r.path}`).sort());
    // Types agree with fls's (r = file, d = dir).
    const t = new Map(live.map((r) => [r.path, r.type]));
    expect(ours.filter((e) => (e.type === 'dir' ? 'd/d' : 'r/r') !== t.get(e.path)).map((e) => e.path)).toEqual([]);
  });

  it('every name of its indexed directories is found through the htree (signed hash)', () => {
    expect(debugfs(file, 'stats')).toContain('signed_directory_hash');
    let n = 0;
    const dirs = ['test', 'test2'].map((d) => resolve(fs, d));
    const before = { ...fs.stats };
    const wrong: string[] = [];
    for (const dino of dirs) {
      for (const e of fs.readdir(dino)) {
        if (fs.lookup(dino, e.name) !== e.ino) wrong.push(`${dino}/${e.name}`);
        n++;
      }
    }
    expect(wrong).toEqual([]);
    expect(n).toBeGreaterThan(40000);
    expect(fs.stats.htreeLookups - before.htreeLookups).toBe(n);
    expect(fs.stats.linearLookups - before.linearLookups).toBe(0);
  });
});

describe('d_inline_dump: inline data files, directories and symlinks (debugfs oracle)', () => {
  it('stat fields, inline sizes, xattrs and link targets match d_inline_dump.expect', async () => {
    const { file, cleanup } = await unpackSample(sample(`${E2FS}/d_inline_dump.image.gz`));
    try {
      const fs = openExtImage(file);
      const expectText = readFileSync(sample(`${E2FS}/d_inline_dump.expect`), 'utf8');
      const sections = expectText.split(/^\*\*\* /m).slice(1).filter((s) => !s.startsWith('end test'));
      expect(sections).toHaveLength(6);
      const byIno = new Map(walk(fs).map((e) => [e.ino, e]));
      for (const sec of sections) {
        const ino = Number(/^Inode: (\d+)/m.exec(sec)![1]);
        const st = fs.stat(ino);
        const i = fs.inode(ino);
        const e = byIno.get(ino)!;
        expect(e, `inode ${ino}`).toBeDefined();
        const mode = /Mode:\s+(\d+)/.exec(sec)![1];
        expect((st.mode & 0o7777).toString(8).padStart(4, '0')).toBe(mode);
        expect(i.i_flags).toBe(Number(/Flags: (0x[0-9a-f]+)/.exec(sec)![1]));
        expect(st.uid).toBe(Number(/User:\s+(\d+)/.exec(sec)![1]));
        expect(st.size).toBe(Number(/Size: (\d+)/.exec(sec)![1]));
        expect(st.nlink).toBe(Number(/Links: (\d+)/.exec(sec)![1]));
        expect(st.blocks).toBe(Number(/Blockcount: (\d+)/.exec(sec)![1]));
        for (const [label, t] of [['ctime', st.ctime], ['atime', st.atime], ['mtime', st.mtime], ['crtime', st.crtime!]] as const) {
          const m = new RegExp(`^\\s*${label}: 0x([0-9a-f]+):([0-9a-f]+)`, 'm').exec(sec)!;
          expect(t.sec, `${label} of ${ino}`).toBe(parseInt(m[1], 16));
          expect(t.nsec, `${label} of ${ino}`).toBe(parseInt(m[2], 16) >>> 2);
        }
        // user.* attributes are listed (system.data, the inline data itself, is not).
        const users = [...sec.matchAll(/^\s+(user\.\S+) \((\d+)\)/gm)].map((m) => m[1]);
        expect(fs.listxattr(ino)).toEqual(users);
        for (const u of users) expect(Buffer.from(fs.getxattr(ino, u)!).toString()).toBe(/= "(.*)"/.exec(sec.split(u)[1])![1]);
        const inline = /Size of inline data: (\d+)/.exec(sec);
        const link = /Fast link dest: "(.*)"/.exec(sec);
        if (link) expect(fs.readlink(ino)).toBe(link[1]);
        else if (e.type === 'file') {
          const buf = new Uint8Array(st.size);
          expect(fs.read(ino, buf, 0)).toBe(st.size);
          // debugfs cat prints the whole 60-byte i_block of a short inline file: compare i_size bytes.
          const cat = execFileSync('debugfs', ['-R', `cat <${ino}>`, file], { stdio: ['ignore', 'pipe', 'pipe'] });
          expect(cat.length).toBeGreaterThanOrEqual(st.size);
          expect(Buffer.from(buf).equals(cat.subarray(0, st.size))).toBe(true);
          expect(inline && Number(inline[1])).toBeGreaterThanOrEqual(st.size);
        } else if (e.type === 'dir') {
          const names = [...fs.readdir(ino)].map((d) => `${d.ino} ${d.name}`).sort();
          const ls = debugfs(file, `ls <${ino}>`).split(/\s+/);
          const fromDebugfs: string[] = [];
          for (let k = 0; k + 1 < ls.length; k++) {
            const m = /^\((\d+)\)$/.exec(ls[k + 1]);
            if (/^\d+$/.test(ls[k]) && m && ls[k + 2] && ls[k + 2] !== '.' && ls[k + 2] !== '..') fromDebugfs.push(`${ls[k]} ${ls[k + 2]}`);
          }
          expect(names).toEqual(fromDebugfs.sort());
          if (inline && Number(inline[1]) > 60) expect(names.length).toBeGreaterThan(0);
        }
      }
    } finally {
      cleanup();
    }
  });
});

describe('dissect.extfs ext4_symlink_test: chained relative symlinks', () => {
  it('readlink gives the relative targets its README lists; the chain ends at a file', async () => {
    const { file, cleanup } = await unpackSample(sample('dissect.extfs/ext4_symlink_test.bin.gz'));
    try {
      const fs = openExtImage(file);
      expect(fs.readlink(resolve(fs, 'path/to/dir/with/file.ext'))).toBe('../../../../other/path/source/to/my/file.ext');
      expect(fs.readlink(resolve(fs, 'other/path/source/to'))).toBe('../target/to');
      const target = resolve(fs, 'other/path/target/to/my/file.ext');
      expect(fs.stat(target).mode & 0o170000).toBe(0o100000);
      const buf = new Uint8Array(fs.stat(target).size);
      fs.read(target, buf, 0);
      const cat = execFileSync('debugfs', ['-R', 'cat /other/path/target/to/my/file.ext', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      expect(Buffer.from(buf).equals(cat)).toBe(true);
    } finally {
      cleanup();
    }
  });
});

describe('corrupt e2fsprogs images: only GuestkitErrors, never a hang', () => {
  const CORRUPT: [string, RegExp | null][] = [
    ['f_badsymlinks2', /symlink inode \d+.*longer than 4095|encrypted/],
    ['f_dir_bad_csum', null],
    ['f_ea_inode', /EA inode|value inode/],
    ['f_encrypted_lpf', null],
    ['f_extent_too_deep', /extent tree depth 7 exceeds the maximum of 5/],
    ['f_extents', /extent|outside the filesystem/],
    ['f_idata_and_extents', null],
    ['f_inlinedata_repair', null],
    ['f_inlinedir_detector', null],
    ['f_many_subdirs', /link count 0/],
    ['f_special_ea', null],
    ['f_uninit_dir', null],
  ];
  for (const [name, want] of CORRUPT) {
    it(`${name}: the whole tree is walked and read in under 10 s`, async () => {
      const { file, cleanup } = await unpackSample(sample(`${E2FS}/${name}.image.gz`));
      try {
        const t0 = Date.now();
        const cpu0 = process.cpuUsage();
        let result: { entries: number; errors: GuestkitError[] };
        try {
          result = exhaust(openExtImage(file));
        } catch (e) {
          // Refused at open: must be a GuestkitError too.
          expect(e).toBeInstanceOf(GuestkitError);
          result = { entries: 0, errors: [e as GuestkitError] };
        }
        // CPU time: the bound holds on a loaded CI machine too; a loop would burn CPU.
        const cpu = process.cpuUsage(cpu0);
        expect((cpu.user + cpu.system) / 1000).toBeLessThan(10_000);
        expect(Date.now() - t0).toBeLessThan(60_000);
        if (want) expect(result.errors.map((e) => e.message).join('\n')).toMatch(want);
        for (const e of result.errors) expect(e.message).not.toMatch(/undefined|NaN|\[object/);
      } finally {
        cleanup();
      }
    }, 60_000);
  }
});

// XFS log recovery against the kernel's: images/recipes/xfs-dirty.mjs shuts a filesystem down
// with creates, writes, a rename, unlinks, setattrs, links, a truncate and an xattr only in its
// log, then mounts a copy in the libguestfs appliance (the kernel replays the log) and records
// what it shows. guestkit replays the log of the untouched dirty image into memory and must
// show the same tree: names, inode numbers, types, modes, owners, sizes, link counts, times,
// blocks, link targets, contents, xattrs and statfs.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { RawFile } from '@guestkit/core';
import { openXfs, XfsFilesystem } from '../src/fs/xfs/index.js';
import { setWarningSink } from '../src/warn.js';
import { ensureImage } from '../../../test/helpers/images.js';
import { resolvePath as resolve, readAll } from './fs-helpers.js';

let dir = '';
let warnings: string[] = [];
const devs: RawFile[] = [];

beforeAll(() => {
  dir = ensureImage('xfs-dirty');
  setWarningSink((m) => warnings.push(m));
});
afterAll(() => {
  for (const d of devs) d.close();
  setWarningSink((m) => process.stderr.write(`guestkit: warning: ${m}\n`));
});

function open(name: string, replayJournal = true): XfsFilesystem {
  const d = new RawFile(join(dir, name));
  devs.push(d);
  return openXfs(d, { replayJournal }) as XfsFilesystem;
}

const TYPE: Record<string, string> = { d: 'dir', f: 'file', l: 'symlink', p: 'fifo', c: 'chardev', b: 'blockdev', s: 'socket' };
/** find's %A@ / %T@ (seconds with a 10-digit fraction) from a timespec. */
const findTime = (t: { sec: number; nsec: number }) => `${t.sec}.${String(t.nsec).padStart(9, '0')}0`;



function walk(fs: XfsFilesystem): string[] {
  const out: string[] = [];
  const go = (ino: number, path: string) => {
    for (const e of fs.readdir(ino)) {
      if (e.name === '.' || e.name === '..') continue;
      const p = path ? `${path}/${e.name}` : e.name;
      out.push(p);
      if (e.type === 'dir') go(e.ino, p);
    }
  };
  go(fs.rootIno, '');
  return out.sort();
}

describe('xfs log recovery (v5) against the kernel', () => {
  it('shows what the kernel shows after recovering the log', () => {
    warnings = [];
    const fs = open('dirty-v5.img');
    expect(fs.log!.clean).toBe(false);
    expect(fs.replay).not.toBeNull();
    expect(fs.warnings.join('\n')).not.toMatch(/checksum mismatch|cannot be replayed/);
    const oracle = readFileSync(join(dir, 'dirty-v5.oracle.list'), 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
    const paths = oracle.map((f) => f[10]).filter((p) => p !== '.').map((p) => p.replace(/^\.\//, '')).sort();
    expect(walk(fs)).toEqual(paths);
    // The logged-only changes are all there.
    expect(paths).toEqual(expect.arrayContaining(['new/n119', 'deep/a/b/c/file', 'base/rename-dst', 'base/keep-link', 'new/longsym']));
    expect(paths).not.toContain('base/unlink-me');
    expect(paths).not.toContain('base/rename-src');
    for (const [ino, y, mode, uid, gid, size, nlink, atime, mtime, blocks, p, target] of oracle) {
      const path = p === '.' ? '' : p.replace(/^\.\//, '');
      const i = resolve(fs, path);
      const st = fs.stat(i);
      const got = [st.ino, fs.stat(i).mode, st.uid, st.gid, st.size, st.nlink, findTime(st.atime), findTime(st.mtime), st.blocks];
      const want = [Number(ino), Number.parseInt(mode, 8), Number(uid), Number(gid), Number(size), Number(nlink), atime, mtime, Number(blocks)];
      expect([path, (got[1] as number) & 0o7777, ...got.slice(2)], path).toEqual([path, want[1] & 0o7777, ...want.slice(2)]);
      expect(st.ino, path).toBe(want[0]);
      const type = [...fs.readdir(path.includes('/') ? resolve(fs, path.slice(0, path.lastIndexOf('/'))) : fs.rootIno)].find((e) => e.name === path.slice(path.lastIndexOf('/') + 1))?.type;
      if (path) expect(type, path).toBe(TYPE[y]);
      if (y === 'l') expect(fs.readlink(i), path).toBe(target);
    }
    for (const line of readFileSync(join(dir, 'dirty-v5.oracle.sha256'), 'utf8').split('\n').filter(Boolean)) {
      const [sha, p] = [line.slice(0, 64), line.slice(66).replace(/^\.\//, '')];
      expect(createHash('sha256').update(readAll(fs, resolve(fs, p))).digest('hex'), p).toBe(sha);
    }
    expect(Buffer.from(fs.getxattr(resolve(fs, 'new/n1'), 'user.note')!).toString()).toBe('logged');
    expect(readFileSync(join(dir, 'dirty-v5.oracle.xattr'), 'utf8')).toMatch(/# file: (\.\/)?new\/n1\nuser\.note=0x6c6f67676564/);
    const [, blocks, bfree, , files, ffree] = readFileSync(join(dir, 'dirty-v5.oracle.statvfs'), 'utf8').trim().split(' ').map(Number);
    const s = fs.statfs();
    expect([s.blocks, s.bfree, s.files, s.ffree]).toEqual([blocks, bfree, files, ffree]);
  });

  it('without replay: the on-disk state, with the warning', () => {
    warnings = [];
    const fs = open('dirty-v5.img', false);
    expect(fs.replay).toBeNull();
    expect(fs.warnings.join('\n')).toMatch(/not replayed/);
    expect(fs.lookup(fs.rootIno, 'new')).toBeNull();
    expect(fs.lookup(resolve(fs, 'base'), 'rename-src')).not.toBeNull();
  });
});

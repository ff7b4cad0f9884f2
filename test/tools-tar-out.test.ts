// guestkit tar-out: the archive of a guest directory, extracted by the host's GNU tar, must
// equal the fixture tree it was built from (contents, modes, owners, mtimes, symlinks, hard
// links, device nodes, fifos, xattrs); gzip/xz/bzip2 variants; stdout; temporary file and
// rename (a failure leaves an existing TARFILE as it was); hostile names left out.
// Needs `pnpm build` (runs bin/guestkit) and root for tar to restore owners and devices.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, mkdirSync, writeFileSync, existsSync,
  copyFileSync, openSync, writeSync, closeSync,
} from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ensureImage, GUESTKIT, ROOT } from './helpers/images';
// @ts-expect-error: plain .mjs fixture module
import { GUEST, GUEST_OWNERS, GUEST_SPECIAL, GUEST_XATTRS, GUEST_HARDLINKS } from '../images/fixtures/guest-tree.mjs';

let guest: string;
let sample: string;
let tree: string;
let tmp: string;
const isRoot = process.getuid?.() === 0;

beforeAll(() => {
  guest = ensureImage('guest-linux', 'guest-linux.raw');
  sample = ensureImage('sample', 'sample.raw');
  tree = ensureImage('guest-linux', 'tree-root');
  tmp = mkdtempSync(join(tmpdir(), 'gk-tarout-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function gk(args: string[]) {
  const r = spawnSync(process.execPath, [GUESTKIT, ...args], { cwd: ROOT, maxBuffer: 1 << 28 });
  return { rc: r.status, out: r.stdout as Buffer, err: (r.stderr as Buffer).toString() };
}

function tar(args: string[], cwd: string, input?: Buffer) {
  const r = spawnSync('tar', args, { cwd, input, encoding: 'buffer', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`tar ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Relative paths of a host tree, parents first. */
function paths(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const n of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${n}` : n;
    out.push(r);
    if (lstatSync(join(dir, r)).isDirectory()) out.push(...paths(dir, r));
  }
  return out;
}

function xattrsOf(p: string): Record<string, string> {
  const r = spawnSync('getfattr', ['--absolute-names', '-h', '-d', '-m', '-', p], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const m of r.stdout.matchAll(/^([^#=\n]+)="(.*)"$/gm)) out[m[1]] = m[2];
  return out;
}

describe('guestkit tar-out', () => {
  it('/data with --xattrs extracts to the fixture tree: contents, modes, owners, times, links, xattrs', () => {
    const file = join(tmp, 'data.tar');
    const r = gk(['tar-out', '-a', guest, '--xattrs', '/data', file]);
    expect(r.rc, r.err).toBe(0);
    const x = join(tmp, 'x-data');
    mkdirSync(x);
    tar(['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', file], x);
    const want = paths(join(tree, 'data'));
    const specials = GUEST_SPECIAL.filter((s: { path: string }) => s.path.startsWith('data/')).map((s: { path: string }) => s.path.slice(5));
    expect(new Set(paths(x))).toEqual(new Set([...want, ...specials]));
    for (const rel of want) {
      const h = lstatSync(join(tree, 'data', rel));
      const g = lstatSync(join(x, rel));
      expect(g.mode, rel).toBe(h.mode);
      expect(Math.floor(g.mtimeMs / 1000), rel).toBe(GUEST.time);
      if (isRoot) expect([g.uid, g.gid], rel).toEqual(GUEST_OWNERS[`data/${rel}`] ?? [0, 0]);
      if (h.isSymbolicLink()) expect(readlinkSync(join(x, rel))).toBe(readlinkSync(join(tree, 'data', rel)));
      else if (h.isFile()) expect(sha(readFileSync(join(x, rel))), rel).toBe(sha(readFileSync(join(tree, 'data', rel))));
    }
    // Hard links came out as links: one inode.
    const inos = GUEST_HARDLINKS[0].map((p: string) => lstatSync(join(x, p.slice(5))).ino);
    expect(new Set(inos).size).toBe(1);
    expect(lstatSync(join(x, 'fifo')).isFIFO()).toBe(true);
    for (const [p, attrs] of Object.entries(GUEST_XATTRS as Record<string, Record<string, string>>)) {
      expect(xattrsOf(join(x, p.slice(5)))).toEqual(attrs);
    }
    // The archive itself: "./" names, hard links as 'h' entries, numeric ids with root's name only.
    const list = tar(['--numeric-owner', '-tvf', file], tmp);
    expect(list).toMatch(/^drwxr-xr-x 0\/0 +0 2020-09-13 12:26 \.\/$/m);
    expect(list).toMatch(/^-rw-r--r-- 0\/0 +23 2020-09-13 12:26 \.\/hardlink-c$/m);
    expect(list).toMatch(/^hrw-r--r-- 0\/0 +0 2020-09-13 12:26 \.\/hardlinks\/b link to \.\/hardlink-c$/m);
    expect(list).toMatch(/^---------- 0\/0 +22 2020-09-13 12:26 \.\/noperm$/m);
    expect(list).toMatch(/^-rw-r--r-- 65534\/65534 +16 2020-09-13 12:26 \.\/nobody\.txt$/m);
    // No owner names, as the appliance's tar writes none (so extraction maps owners by number).
    const raw = readFileSync(file);
    const hello = raw.indexOf('./hello.txt\0');
    expect(raw.subarray(hello + 265, hello + 265 + 64).every((b) => b === 0)).toBe(true);
  });

  it('archives device nodes with their numbers (/dev)', () => {
    const file = join(tmp, 'dev.tar');
    expect(gk(['tar-out', '-a', guest, '/dev', file]).rc).toBe(0);
    const list = tar(['--numeric-owner', '-tvf', file], tmp);
    expect(list).toMatch(/^crw-rw-rw- 0\/0 +1,3 2020-09-13 12:26 \.\/null$/m);
    expect(list).toMatch(/^brw-rw---- 0\/6 +8,0 2020-09-13 12:26 \.\/sda$/m);
  });

  it('writes gzip, xz and bzip2 archives, and to stdout', () => {
    for (const [flag, tflag] of [['--gzip', '-z'], ['-z', '-z'], ['--xz', '-J'], ['--bzip2', '-j'], ['--compress=xz', '-J']]) {
      const file = join(tmp, `etc${flag}.tar`);
      expect(gk(['tar-out', '-a', sample, flag, '/etc', file]).rc).toBe(0);
      expect(tar([tflag, '-tf', file], tmp).split('\n')).toContain('./hostname');
    }
    const r = gk(['tar-out', '-a', sample, '/home', '-']);
    expect(r.rc).toBe(0);
    expect(tar(['-tf', '-'], tmp, r.out).split('\n').filter(Boolean)).toEqual(['./', './user/', './user/notes.txt']);
  });

  it('leaves TARFILE as it was (and no temporary file) when it fails', () => {
    const file = join(tmp, 'keep.tar');
    writeFileSync(file, 'old contents');
    expect(gk(['tar-out', '-a', sample, '/nonexistent', file])).toMatchObject({ rc: 1, err: 'guestkit: /nonexistent: No such file or directory\n' });
    expect(gk(['tar-out', '-a', sample, '/etc/hostname', file]).err).toBe('guestkit: /etc/hostname: not a directory\n');
    // A directory that cannot be read in the middle of the tree (its inode's extent root smashed).
    const img = join(tmp, 'broken.ext4');
    copyFileSync(ensureImage('guest-hostile', 'hostile.ext4'), img);
    const imap = spawnSync('debugfs', ['-R', 'imap /attack', img], { encoding: 'utf8' }).stdout;
    const [, block, offset] = /located at block (\d+), offset 0x([0-9a-f]+)/.exec(imap)!;
    const fd = openSync(img, 'r+');
    writeSync(fd, Buffer.alloc(60, 0xa5), 0, 60, Number(block) * 1024 + parseInt(offset, 16) + 40);
    closeSync(fd);
    const r = gk(['tar-out', '-a', img, '-m', '/dev/sda', '/', file]);
    expect(r.rc).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe('old contents');
    expect(readdirSync(tmp).filter((n) => n.includes('guestkit'))).toEqual([]);
    expect(gk(['tar-out', '-a', sample, '--gzip', '--xz', '/etc', file]).rc).toBe(2);
  });

  it('leaves out hostile names, duplicate entries and directory loops, with warnings', () => {
    const file = join(tmp, 'hostile.tar');
    const r = gk(['tar-out', '-a', ensureImage('guest-hostile', 'hostile.ext4'), '-m', '/dev/sda', '/', file]);
    expect(r.rc, r.err).toBe(0);
    const names = tar(['-tf', file], tmp).split('\n').filter(Boolean);
    expect(names).toContain('./attack/q1');
    expect(names.filter((n) => n.startsWith('./attack/q1'))).toEqual(['./attack/q1']);
    expect(names.filter((n) => n.includes('a/b'))).toEqual([]);
    expect(names.filter((n) => n === './dir/file')).toEqual(['./dir/file']);
    // The looping directory is archived as an (empty) directory, not entered.
    expect(names.filter((n) => n.startsWith('./dir/sub/loop'))).toEqual(['./dir/sub/loop/']);
    expect(r.err).toContain('guestkit: warning: /dir: refusing entry named "a/b" (not a usable file name)');
    expect(r.err).toContain('guestkit: warning: /attack: second entry named "q1" left out (corrupt or hostile directory)');
  });

  it('--exclude and --numeric-owner', () => {
    const file = join(tmp, 'excl.tar');
    expect(gk(['tar-out', '-a', guest, '--numeric-owner', '--exclude', '*.txt', '--exclude', 'chain4?', '/data', file]).rc).toBe(0);
    const list = tar(['-tvf', file], tmp);
    expect(list).not.toMatch(/\.txt/);
    expect(list).not.toMatch(/chain40/);
    expect(list).toMatch(/ 0\/0 +0 2020-09-13 12:26 \.\/$/m);
    expect(existsSync(file)).toBe(true);
  });
});

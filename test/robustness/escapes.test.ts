// Escapes and traversal (issue 7): guest names with NUL, control characters, 255 bytes, a path
// longer than PATH_MAX, NTFS names longer than any host name, symlinks to /etc/passwd and /etc,
// hard links across directories (robust-hostile), and '/', '.', '..', duplicates, directory
// loops, symlink-then-directory (guest-hostile). copy-out, tar-out and mount never create or
// touch anything outside their target, and name what they leave out. (qcow2 backing files:
// packages/core/test/qcow2-chain.test.ts and the cases below.) Needs `pnpm build`.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync, lstatSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImage, GuestkitError } from '@guestkit/core';
import { ensureImage, GUESTKIT, ROOT } from '../helpers/images.js';
// @ts-expect-error plain .mjs recipe module
import { ROBUST_HOSTILE as H } from '../../images/recipes/robust-hostile.mjs';
// @ts-expect-error plain .mjs recipe module
import { HOSTILE } from '../../images/recipes/guest-hostile.mjs';

let tmp: string;
let ext: string;
let ntfs: string;
let guestHostile: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'gk-escapes-'));
  ext = ensureImage('robust-hostile', 'hostile.ext4');
  ntfs = ensureImage('robust-hostile', 'long.ntfs');
  guestHostile = ensureImage('guest-hostile', 'hostile.ext4');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function gk(args: string[]) {
  const r = spawnSync(process.execPath, [GUESTKIT, ...args], { cwd: ROOT, maxBuffer: 1 << 26, timeout: 120_000 });
  return { rc: r.status, out: (r.stdout as Buffer).toString(), err: (r.stderr as Buffer).toString('latin1') };
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Every path under `dir` with its type and size (lstat: links not followed). */
function snapshot(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const n of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${n}` : n;
    const st = lstatSync(join(dir, r));
    out.push(`${r} ${st.mode.toString(8)} ${st.size}`);
    if (st.isDirectory()) out.push(...snapshot(dir, r));
  }
  return out;
}

/** A box with a sentinel next to the target: the snapshot of everything but the target. */
function box(name: string): { dir: string; out: string; outside: () => string[] } {
  const dir = join(tmp, name);
  const out = join(dir, 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(dir, 'sentinel'), 'outside\n');
  symlinkSync('/etc', join(dir, 'etc-link'));
  return { dir, out, outside: () => snapshot(dir).filter((l) => !l.startsWith('out')) };
}

const hostEtc = () => [sha('/etc/passwd'), lstatSync('/etc/passwd').mtimeMs, readdirSync('/etc').length].join(' ');

/** Each stderr line is one `guestkit: ` line: no name's newline or escape sequence leaks raw. */
function expectOneLineMessages(err: string): void {
  for (const l of err.split('\n').filter(Boolean)) expect(l, JSON.stringify(l)).toMatch(/^guestkit: /);
  expect(err).not.toMatch(/\x1b|\x07|\0/);
}

describe('copy-out', () => {
  it('robust-hostile: NUL names refused, control characters and 255-byte names copied inside, PATH_MAX reported, links kept as links', () => {
    const b = box('copy-ext');
    const before = b.outside();
    const etc = hostEtc();
    const r = gk(['copy-out', '-a', ext, '-m', '/dev/sda', '/', b.out]);
    expect(b.outside()).toEqual(before);
    expect(hostEtc()).toBe(etc);
    expectOneLineMessages(r.err);
    expect(r.err).toContain('guestkit: warning: /names: refusing entry named "nul\\u0000name" (not a usable file name)');
    // The chain deeper than PATH_MAX: the first directory that cannot be made is named.
    expect(r.err).toMatch(/guestkit: warning: \/deep(\/D{240}){17}: .*ENAMETOOLONG/);
    expect(readdirSync(join(b.out, 'names')).sort()).toEqual([H.long, H.ctl, H.newline, 'plain'].sort());
    expect(readFileSync(join(b.out, 'names', H.newline), 'utf8')).toBe('newline\n');
    expect(readlinkSync(join(b.out, 'links', 'passwd'))).toBe('/etc/passwd');
    expect(readlinkSync(join(b.out, 'links', 'up'))).toBe('../../../../../../etc/passwd');
    expect(readlinkSync(join(b.out, 'links', 'etc'))).toBe('/etc');
    // One inode from two guest directories: one inode in the target, not a copy elsewhere.
    expect(lstatSync(join(b.out, 'h1', 'file')).ino).toBe(lstatSync(join(b.out, 'h2', 'same')).ino);
    expect(lstatSync(join(b.out, 'h2', 'same')).nlink).toBe(2);
    // A second run over the first: symlinks already there are not written through.
    const r2 = gk(['copy-out', '-a', ext, '-m', '/dev/sda', '/links', b.out]);
    expectOneLineMessages(r2.err);
    expect(hostEtc()).toBe(etc);
    expect(b.outside()).toEqual(before);
  });

  it('long.ntfs: a 765-byte name (255 UTF-16 characters) is reported by name, the rest is copied', () => {
    const b = box('copy-ntfs');
    const before = b.outside();
    const r = gk(['copy-out', '-a', ntfs, '-m', '/dev/sda', '/', b.out]);
    expect(b.outside()).toEqual(before);
    expect(Buffer.from(r.err, 'latin1').toString('utf8')).toContain(`guestkit: warning: /${H.ntfsLong}: `);
    expect(r.err).toMatch(/ENAMETOOLONG/);
    expect(readdirSync(b.out)).toEqual(['short.txt']);
  });
});

describe('tar-out', () => {
  it('robust-hostile: member names are relative and stay below ./, NUL names are left out and named', () => {
    const file = join(tmp, 'hostile.tar');
    const r = gk(['tar-out', '-a', ext, '-m', '/dev/sda', '/', file]);
    expect(r.rc, r.err).toBe(0);
    expectOneLineMessages(r.err);
    expect(r.err).toContain('guestkit: warning: /names: refusing entry named "nul\\u0000name" (not a usable file name)');
    // GNU tar's escape quoting: one line per member whatever its name holds.
    const names = execFileSync('tar', ['--quoting-style=escape', '-tf', file], { encoding: 'utf8', maxBuffer: 1 << 26 })
      .split('\n').filter(Boolean);
    for (const n of names) {
      expect(n.startsWith('./'), n).toBe(true);
      expect(n.split('/').slice(1).filter((c) => c === '..' || c === '.'), n).toEqual([]);
    }
    expect(names).toContain('./names/ctl\\033[2J\\033]0;x\\a');
    expect(names).toContain('./names/new\\nline');
    expect(names.filter((n) => n.includes('nul'))).toEqual([]);
    // The path longer than PATH_MAX is archived whole (PAX header), not cut.
    expect(names).toContain(`./deep/${Array(H.deepLevels).fill(H.deepName).join('/')}/bottom`);
    // Hard link across directories: a link member to the first name; symlinks as symlinks.
    const v = execFileSync('tar', ['-tvf', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(v).toMatch(/^h.* \.\/h2\/same link to \.\/h1\/file$/m);
    expect(v).toMatch(/^l.* \.\/links\/passwd -> \/etc\/passwd$/m);
  });
});

describe('mount', () => {
  const mps: string[] = [];
  const isMounted = (mp: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mp);
  afterAll(() => {
    for (const mp of mps) {
      if (isMounted(mp)) gk(['unmount', '--no-retry', mp]);
      if (isMounted(mp)) spawnSync('fusermount', ['-u', '-z', mp]);
      try { rmdirSync(mp); } catch { /* left for inspection */ }
    }
  });
  const fuse = existsSync('/dev/fuse');

  it.skipIf(!fuse)('guest-hostile and robust-hostile: listings hold only usable, unique names; find stays inside; links are not followed', () => {
    const etc = hostEtc();
    for (const [img, want] of [
      [guestHostile, { '/dir': ['file', 'sub', 'x'], '/attack': ['q1', 'r1'] }],
      [ext, { '/names': [H.long, H.ctl, H.newline, 'plain'].sort(), '/links': ['etc', 'passwd', 'up'] }],
    ] as const) {
      const mp = mkdtempSync(join(tmp, 'mp-'));
      mps.push(mp);
      const r = gk(['mount', '-a', img, '-m', '/dev/sda', mp]);
      expect(r.rc, r.err).toBe(0);
      try {
        for (const [dir, names] of Object.entries(want)) expect(readdirSync(join(mp, dir)).sort(), dir).toEqual(names);
        // find -P (links not followed) lists only paths below the mountpoint, and no errors
        // but the directory loop of guest-hostile (find says so itself).
        const f = spawnSync('find', [mp, '-print0'], { encoding: 'buffer', maxBuffer: 1 << 26, timeout: 60_000 });
        const paths = f.stdout.toString('utf8').split('\0').filter(Boolean);
        for (const p of paths) expect(p.startsWith(mp), p).toBe(true);
        expect(f.stderr.toString()).not.toMatch(/Input\/output error/);
        if (img === ext) {
          expect(readlinkSync(join(mp, 'links', 'passwd'))).toBe('/etc/passwd');
          expect(lstatSync(join(mp, 'h1', 'file')).ino).toBe(lstatSync(join(mp, 'h2', 'same')).ino);
        } else {
          // Of the two "q1" entries (a symlink out of the guest, then a directory), one is shown.
          expect(existsSync(HOSTILE.escapeAbs)).toBe(false);
        }
      } finally {
        gk(['unmount', mp]);
      }
      expect(isMounted(mp)).toBe(false);
    }
    expect(hostEtc()).toBe(etc);
  }, 180_000);

  it.skipIf(!fuse)('names what it leaves out (foreground: warnings on stderr)', async () => {
    const mp = mkdtempSync(join(tmp, 'mp-'));
    mps.push(mp);
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [GUESTKIT, 'mount', '--no-fork', '-a', guestHostile, '-m', '/dev/sda', mp], { cwd: ROOT });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      for (let i = 0; i < 600 && !isMounted(mp); i++) await new Promise((r) => setTimeout(r, 100));
      expect(isMounted(mp)).toBe(true);
      readdirSync(join(mp, 'dir'));
      readdirSync(join(mp, 'attack'));
      for (let i = 0; i < 50 && !err.includes('second entry'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(err).toContain('guestkit: warning: /dir: refusing entry named "a/b" (not a usable file name)');
      expect(err).toContain('guestkit: warning: /attack: second entry named "q1" left out (corrupt or hostile directory)');
    } finally {
      gk(['unmount', mp]);
      child.kill('SIGTERM');
    }
  }, 180_000);
});

describe('qcow2 backing files (complementing qcow2-chain.test.ts)', () => {
  const withBacking = (path: string, backing: string) => {
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-b', backing, '-F', 'qcow2', path, '1M']);
    return path;
  };
  const refused = (top: string, opts = {}) => {
    try {
      openImage(top, opts).close();
    } catch (e) {
      expect(e).toBeInstanceOf(GuestkitError);
      return e as GuestkitError;
    }
    throw new Error(`${top} opened`);
  };
  beforeAll(() => {
    mkdirSync(join(tmp, 'q/tree/sub'), { recursive: true });
    mkdirSync(join(tmp, 'q/outside'), { recursive: true });
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(tmp, 'q/outside/base.qcow2'), '1M']);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(tmp, 'q/tree/base.qcow2'), '1M']);
    // A directory symlink inside the tree leading out of it.
    symlinkSync(join(tmp, 'q/outside'), join(tmp, 'q/tree/out-link'));
  });

  for (const [what, name] of [
    ['through a symlinked directory inside the tree', 'out-link/base.qcow2'],
    ['"sub/../../outside/base.qcow2" (.. after a real directory)', 'sub/../../outside/base.qcow2'],
    ['an absolute path outside the tree', '__OUTSIDE__'],
    ['an nbd+unix: URL', 'nbd+unix:///disk?socket=/tmp/nbd.sock'],
    ['an ssh: URL', 'ssh://root@host/disk.qcow2'],
    ['an https: URL', 'https://example.com/disk.qcow2'],
    ['a json: string naming a file inside the tree', 'json:{"file.filename":"base.qcow2"}'],
  ] as const) {
    it(`${what}: REFUSED, naming it`, () => {
      const n = name === '__OUTSIDE__' ? join(tmp, 'q/outside/base.qcow2') : name;
      const top = withBacking(join(tmp, 'q/tree', `top-${what.length}.qcow2`), n);
      const e = refused(top);
      expect(e.code).toBe('REFUSED');
      expect(e.message).toContain(top);
    });
  }

  it('"sub/../base.qcow2" (.. that stays inside the tree) is followed', () => {
    const top = withBacking(join(tmp, 'q/tree/top-inside.qcow2'), 'sub/../base.qcow2');
    openImage(top).close();
  });

  it('--backing-dir naming the tree that holds a symlink out does not allow the symlink\'s target', () => {
    const top = withBacking(join(tmp, 'q/tree/top-bd.qcow2'), 'out-link/base.qcow2');
    expect(refused(top, { backingDirs: [join(tmp, 'q/tree')] }).code).toBe('REFUSED');
  });
});

// guestkit copy-out: a guest tree copied out equals its fixture tree (contents, modes, owners
// when root, mtimes, symlinks as symlinks, hard links as links, fifos), a single file comes
// out like guestfs download, and a hostile filesystem's symlinks, '/'-names, duplicates and
// directory loops never make it write outside LOCALDIR. Needs `pnpm build`.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, mkdirSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ensureImage, GUESTKIT, ROOT } from './helpers/images';
// @ts-expect-error: plain .mjs fixture module
import { GUEST, GUEST_OWNERS, GUEST_HARDLINKS } from '../images/fixtures/guest-tree.mjs';
// @ts-expect-error: plain .mjs recipe module
import { HOSTILE } from '../images/recipes/guest-hostile.mjs';

let guest: string;
let tree: string;
let tmp: string;
const isRoot = process.getuid?.() === 0;

beforeAll(() => {
  guest = ensureImage('guest-linux', 'guest-linux.raw');
  tree = ensureImage('guest-linux', 'tree-root');
  tmp = mkdtempSync(join(tmpdir(), 'gk-copyout-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function gk(args: string[]) {
  const r = spawnSync(process.execPath, [GUESTKIT, ...args], { cwd: ROOT, maxBuffer: 1 << 26 });
  return { rc: r.status, out: (r.stdout as Buffer).toString(), err: (r.stderr as Buffer).toString() };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function paths(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const n of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${n}` : n;
    out.push(r);
    if (lstatSync(join(dir, r)).isDirectory()) out.push(...paths(dir, r));
  }
  return out;
}

/** Everything under `dir` and its parent, with sizes, to see that nothing else changed. */
function snapshot(dir: string): string[] {
  return paths(dir).map((p) => `${p} ${lstatSync(join(dir, p)).size}`);
}

describe('guestkit copy-out', () => {
  it('copies a directory tree as tar would: contents, modes, owners, mtimes, symlinks, hard links, fifos', () => {
    const out = join(tmp, 'out1');
    mkdirSync(out);
    const r = gk(['copy-out', '-a', guest, '/data', '/etc/hostname', out]);
    expect(r.rc, r.err).toBe(0);
    const want = paths(join(tree, 'data'));
    expect(new Set(paths(join(out, 'data')))).toEqual(new Set([...want, 'fifo']));
    for (const rel of want) {
      const h = lstatSync(join(tree, 'data', rel));
      const g = lstatSync(join(out, 'data', rel));
      expect(g.mode & 0o170000, rel).toBe(h.mode & 0o170000);
      if (isRoot) {
        expect(g.mode, rel).toBe(h.mode);
        expect([g.uid, g.gid], rel).toEqual(GUEST_OWNERS[`data/${rel}`] ?? [0, 0]);
      }
      expect(Math.floor(g.mtimeMs / 1000), rel).toBe(GUEST.time);
      if (h.isSymbolicLink()) expect(readlinkSync(join(out, 'data', rel))).toBe(readlinkSync(join(tree, 'data', rel)));
      else if (h.isFile()) expect(sha(readFileSync(join(out, 'data', rel))), rel).toBe(sha(readFileSync(join(tree, 'data', rel))));
    }
    expect(lstatSync(join(out, 'data', 'fifo')).isFIFO()).toBe(true);
    const inos = GUEST_HARDLINKS[0].map((p: string) => lstatSync(join(out, p)).ino);
    expect(new Set(inos).size).toBe(1);
    // The sparse file keeps its holes.
    const sparse = lstatSync(join(out, 'data', 'sparse.bin'));
    expect(sparse.size).toBe(GUEST.sparse.size);
    expect(sparse.blocks * 512).toBeLessThan(1024 * 1024);
    // A single file is downloaded: contents only, a new mtime, mode 0666 less the umask.
    expect(readFileSync(join(out, 'hostname'), 'utf8')).toBe('guest-linux\n');
    expect(Math.floor(lstatSync(join(out, 'hostname')).mtimeMs / 1000)).not.toBe(GUEST.time);
  });

  it('copies / into LOCALDIR itself and merges into existing directories', () => {
    const out = join(tmp, 'out2');
    mkdirSync(join(out, 'www'), { recursive: true });
    writeFileSync(join(out, 'www', 'mine.txt'), 'mine\n');
    const r = gk(['copy-out', '-a', guest, '-m', '/dev/sda4', '/', out]);
    expect(r.rc, r.err).toBe(0);
    expect(readFileSync(join(out, 'www', 'index.html'), 'utf8')).toBe('<h1>guest-linux</h1>\n');
    expect(readFileSync(join(out, 'www', 'mine.txt'), 'utf8')).toBe('mine\n');
  });

  it('refuses what is not a file or a directory, a missing LOCALDIR, and a symlink in the way', () => {
    const out = join(tmp, 'out3');
    mkdirSync(out);
    symlinkSync(tmp, join(out, 'data'));
    symlinkSync('/etc/passwd', join(out, 'hostname'));
    const r = gk(['copy-out', '-a', guest, '/bin', '/nope', '/data', '/etc/hostname', out]);
    expect(r.rc).toBe(1);
    expect(r.err.split('\n').filter((l) => l && !l.includes('could not be mounted'))).toEqual([
      "guestkit: '/bin' is not a file or directory",
      'guestkit: /nope: No such file or directory',
      `guestkit: ${out}/data: exists and is not a directory; not replaced`,
      `guestkit: ${out}/hostname: is a symbolic link; not writing through it`,
    ]);
    expect(readlinkSync(join(out, 'data'))).toBe(tmp);
    expect(gk(['copy-out', '-a', guest, '/etc/hostname', join(tmp, 'missing')]).err).toContain(`target '${join(tmp, 'missing')}' is not a directory`);
  });

  it('never writes outside LOCALDIR, whatever the hostile filesystem holds', () => {
    for (const p of [HOSTILE.escapeAbs, '/tmp/guestkit-escape-rel']) rmSync(p, { recursive: true, force: true });
    const box = join(tmp, 'box');
    const out = join(box, 'out');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(box, 'sentinel'), 'outside\n');
    const before = snapshot(box).filter((l) => !l.startsWith('out'));
    const r = gk(['copy-out', '-a', ensureImage('guest-hostile', 'hostile.ext4'), '-m', '/dev/sda', '/', out]);
    expect(r.rc).toBe(1); // the directory loop is reported
    expect(snapshot(box).filter((l) => !l.startsWith('out'))).toEqual(before);
    expect(existsSync(HOSTILE.escapeAbs)).toBe(false);
    expect(existsSync('/tmp/guestkit-escape-rel')).toBe(false);
    // The planted symlinks are there as symlinks, their same-named directories are not.
    expect(readlinkSync(join(out, 'attack', 'q1'))).toBe(HOSTILE.escapeAbs);
    expect(readlinkSync(join(out, 'attack', 'r1'))).toBe(HOSTILE.escapeRel);
    expect(readdirSync(join(out, 'attack')).sort()).toEqual(['q1', 'r1']);
    expect(readdirSync(join(out, 'dir')).sort()).toEqual(['file', 'sub', 'x']);
    expect(readdirSync(join(out, 'dir', 'sub', 'loop'))).toEqual([]);
    expect(r.err).toContain('guestkit: warning: /dir: refusing entry named "a/b" (not a usable file name)');
    expect(r.err).toContain('guestkit: warning: /attack: second entry named "q1" not copied (corrupt or hostile directory)');
    expect(r.err).toContain('guestkit: warning: /dir/sub/loop: directory is its own ancestor (hard-linked directory loop); not descending');
  });
});

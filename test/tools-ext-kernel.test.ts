// guestkit ls, cat and df on ext4 images the Linux kernel wrote, against the kernel's own
// answers recorded when the images were made: names that are not valid UTF-8 in a casefolded
// htree directory (images/recipes/ext-casefold-bytes.mjs, kernel.json), and a filesystem
// whose journal holds fast commits (images/recipes/ext-fastcommit.mjs: statvfs after the
// kernel's recovery, kernel-statfs.json). Names that are not UTF-8 are printed and taken in
// their Latin-1 spelling (dir.ts decodeName), as everywhere in guestkit.
// Needs `pnpm build` (runs bin/guestkit).

import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureImage, GUESTKIT, ROOT } from './helpers/images';
import { dfLine, dfTitle } from '../tools/df/src/format';

function gk(args: string[]) {
  const r = spawnSync(process.execPath, [GUESTKIT, ...args], { cwd: ROOT, env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 26 });
  return { rc: r.status, out: (r.stdout as Buffer).toString(), err: (r.stderr as Buffer).toString() };
}

const fromOctal = (s: string) => Buffer.from(s.split('\\').slice(1).map((o) => parseInt(o, 8)));
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** guestkit's spelling of a name's bytes: UTF-8, else Latin-1. */
const spell = (b: Buffer) => {
  try {
    return utf8.decode(b);
  } catch {
    return b.toString('latin1');
  }
};

describe('guestkit ls and cat: non-UTF-8 names in a casefolded directory (kernel-made)', () => {
  let img: string;
  let kernel: { lookups: [string, number | null][]; entries: [number, string][] };
  beforeAll(() => {
    const dir = ensureImage('ext-casefold-bytes');
    img = join(dir, 'casefold-bytes.img');
    kernel = JSON.parse(readFileSync(join(dir, 'kernel.json'), 'utf8'));
  });

  it('ls lists every name the kernel lists', () => {
    const r = gk(['ls', '-a', img, '-m', '/dev/sda', '/ci']);
    expect(r.rc).toBe(0);
    const want = kernel.entries.map(([, hex]) => spell(Buffer.from(hex, 'hex'))).sort();
    expect(r.out.split('\n').filter(Boolean).sort()).toEqual(want);
  });

  it('cat finds what the kernel finds (by exact bytes when not UTF-8, case-insensitively when UTF-8) and nothing else', () => {
    const byIno = new Map(kernel.entries.map(([ino, hex]) => [ino, Buffer.from(hex, 'hex')]));
    const octal = (b: Buffer) => [...b].map((c) => `\\${c.toString(8).padStart(3, '0')}`).join('');
    // One cat for the names the kernel finds (each file holds the octal spelling of its stored
    // name), one for those it does not (each gives one error line, and cat goes on).
    const found = kernel.lookups.filter(([oct, ino]) => ino !== null && !/^file-/i.test(fromOctal(oct).toString('latin1')));
    const missing = kernel.lookups.filter(([, ino]) => ino === null);
    const r = gk(['cat', '-a', img, '-m', '/dev/sda', ...found.map(([oct]) => `/ci/${spell(fromOctal(oct))}`)]);
    expect(r).toMatchObject({ rc: 0, err: '' });
    expect(r.out).toBe(found.map(([, ino]) => `${octal(byIno.get(ino!)!)}\n`).join(''));
    const m = gk(['cat', '-a', img, '-m', '/dev/sda', ...missing.map(([oct]) => `/ci/${spell(fromOctal(oct))}`)]);
    expect(m.rc).toBe(1);
    expect(m.out).toBe('');
    expect(m.err.split('\n').filter(Boolean).map((l) => l.startsWith('guestkit: '))).toEqual(missing.map(() => true));
    expect(found.length).toBeGreaterThan(10);
    expect(missing.length).toBeGreaterThan(5);
  });
});

describe('guestkit df after fast-commit replay', () => {
  it("equals virt-df's numbers for the kernel's statvfs of the recovered filesystem (blocks and inodes)", () => {
    const dir = ensureImage('ext-fastcommit');
    const st = { ...JSON.parse(readFileSync(join(dir, 'kernel-statfs.json'), 'utf8')), namemax: 255 };
    st.frsize = st.bsize;
    st.favail = st.ffree;
    for (const inodes of [false, true]) {
      const o = { csv: true, human: false, inodes };
      const r = gk(['df', '--csv', ...(inodes ? ['-i'] : []), '-a', join(dir, 'crash.img')]);
      expect(r.rc).toBe(0);
      expect(r.out).toBe(dfTitle(o) + dfLine('crash.img', '/dev/sda', st, o));
    }
  });
});

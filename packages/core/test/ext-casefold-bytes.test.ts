// Names that are not valid UTF-8 in an ext4 casefolded htree directory, created by the
// Linux kernel of the libguestfs appliance (images/recipes/ext-casefold-bytes.mjs: libext2fs
// refuses such names). The kernel (no strict-encoding flag) treats them as opaque bytes:
// found by their exact bytes only, hashed into the htree by their raw bytes. kernel.json holds
// what the kernel answered for every lookup (stat in a fresh read-only mount) and its listing
// of the directory; guestkit's readdir and lookup (through the htree) must give the same.
// Names are passed to guestkit as it spells them (dir.ts decodeName: UTF-8, else Latin-1).
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureImage } from '../../../test/helpers/images.js';
import { openExtImage, resolve } from './ext-helpers.js';
import { decodeName } from '../src/fs/ext/dir.js';
import type { ExtFs } from '../src/fs/ext/index.js';

interface Kernel {
  lsattr: string;
  /** [name as octal escapes, inode the kernel found or null]. */
  lookups: [string, number | null][];
  /** [inode, name as hex], the kernel's readdir. */
  entries: [number, string][];
}

export const fromOctal = (s: string) => Buffer.from(s.split('\\').slice(1).map((o) => parseInt(o, 8)));
const spell = (b: Buffer) => decodeName(b, 0, b.length);
const utf8 = new TextDecoder('utf-8', { fatal: true });
const valid = (b: Buffer) => {
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
};

describe('non-UTF-8 names in a casefolded htree directory (kernel-made) read as the kernel reads them', () => {
  let fs: ExtFs;
  let ci: number;
  let kernel: Kernel;
  beforeAll(() => {
    const dir = ensureImage('ext-casefold-bytes');
    kernel = JSON.parse(readFileSync(join(dir, 'kernel.json'), 'utf8'));
    fs = openExtImage(join(dir, 'casefold-bytes.img'));
    ci = resolve(fs, 'ci');
  });

  it('the directory is casefolded and htree-indexed, and holds names that are not UTF-8', () => {
    expect(fs.inode(ci).i_flags & 0x40001000).toBe(0x40001000);
    expect(kernel.lsattr.split(' ')[0]).toMatch(/F/);
    const invalid = kernel.entries.filter(([, hex]) => !valid(Buffer.from(hex, 'hex')));
    expect(invalid.length).toBeGreaterThanOrEqual(12);
  });

  it("readdir lists every entry the kernel lists, with the kernel's inode numbers", () => {
    const mine = fs.readdir(ci).map((e) => `${e.ino} ${e.name}`).sort();
    const theirs = kernel.entries.map(([ino, hex]) => `${ino} ${spell(Buffer.from(hex, 'hex'))}`).sort();
    expect(mine).toEqual(theirs);
    expect(new Set(mine).size).toBe(mine.length); // Latin-1 spellings do not collide here
  });

  it('names differing only in the case of their ASCII part are distinct entries when not UTF-8', () => {
    const names = new Set(fs.readdir(ci).map((e) => e.name));
    for (const n of ['Caf\u00e9.txt', 'CAF\u00e9.TXT', 'bad-\u00ff-name', 'BAD-\u00ff-NAME', 'Bad-\u00ff-Name']) expect(names).toContain(n);
  });

  it('every lookup gives what the kernel gave, through the htree', () => {
    const byIno = new Map(kernel.entries.map(([ino, hex]) => [ino, spell(Buffer.from(hex, 'hex'))]));
    const got: Record<string, string | null> = {};
    const want: Record<string, string | null> = {};
    for (const [oct, ino] of kernel.lookups) {
      const name = spell(fromOctal(oct));
      const before = fs.stats.htreeLookups;
      const linear = fs.stats.linearLookups;
      const found = fs.lookup(ci, name);
      expect(fs.stats.htreeLookups, name).toBe(before + 1);
      expect(fs.stats.linearLookups, name).toBe(linear);
      got[oct] = found === null ? null : byIno.get(found) ?? `inode ${found}`;
      want[oct] = ino === null ? null : byIno.get(ino) ?? `inode ${ino}`;
    }
    expect(got).toEqual(want);
    // Both outcomes occur: exact names found, case variants of invalid names not.
    expect(Object.values(want).filter((v) => v === null).length).toBeGreaterThan(5);
    expect(Object.values(want).filter((v) => v !== null).length).toBeGreaterThan(15);
  });
});

// Lookups in an ext4 casefolded (+F) directory (images/recipes/ext-casefold.mjs: an htree
// directory keyed by hashes of casefolded names) give what the Linux kernel gives: every
// name of ext-casefold.kernel.json was looked up (stat) by the libguestfs appliance's kernel
// in a mount of the same image, and the name it found (or none) is recorded there.
// Also: the utf8-12.1 folding itself on known strings.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureImage } from '../../../test/helpers/images.js';
import { openExtImage, resolve } from './ext-helpers.js';
import { casefoldName } from '../src/fs/ext/casefold.js';
import type { ExtFs } from '../src/fs/ext/index.js';

const KERNEL: Record<string, string | null> = JSON.parse(readFileSync(join(__dirname, 'ext-casefold.kernel.json'), 'utf8'));

const fold = (s: string) => {
  const f = casefoldName(Buffer.from(s, 'utf8'));
  return f && Buffer.from(f).toString('utf8');
};

describe('utf8-12.1 casefolding (the kernel\'s nfdicf)', () => {
  it('folds case fully, decomposes canonically, orders combining marks, drops ignorables', () => {
    expect(fold('Straße')).toBe('strasse');
    expect(fold('CAFÉ')).toBe('cafe\u0301');
    expect(fold('Cafe\u0301')).toBe('cafe\u0301');
    expect(fold('\u212A')).toBe('k');
    expect(fold('ﬁ')).toBe('fi');
    expect(fold('İ')).toBe('i\u0307');
    expect(fold('ı')).toBe('ı');
    expect(fold('ς')).toBe('σ');
    expect(fold('a\u200bb\u00adc')).toBe('abc');
    expect(fold('한')).toBe('\u1112\u1161\u11ab');
    expect(fold('a\u0307\u0323')).toBe('a\u0323\u0307');
    expect(fold('ᾼ')).toBe('αι');
  });

  it('leaves characters newer than Unicode 12.1 alone and rejects invalid UTF-8', () => {
    expect(fold('\uA7C0')).toBe('\uA7C0'); // LATIN CAPITAL LETTER OLD POLISH O, Unicode 14
    expect(fold('\u{1E900}')).toBe('\u{1E922}'); // ADLAM CAPITAL ALIF, Unicode 9
    expect(casefoldName(Uint8Array.from([0x61, 0xff]))).toBeNull();
    expect(casefoldName(Uint8Array.from([0xed, 0xa0, 0x80]))).toBeNull(); // a surrogate
    expect(casefoldName(Uint8Array.from([0xc0, 0xaf]))).toBeNull(); // overlong
    expect(casefoldName(Uint8Array.from([0x61, 0xf4, 0x90, 0x80, 0x80]))).toBeNull(); // past U+10FFFF
    expect(casefoldName(Uint8Array.from([0x61, 0xe2, 0x82]))).toBeNull(); // truncated
  });

  it('passes a stray continuation byte through, as the kernel\'s utf8byte does, unless it starts the name', () => {
    const hex = (b: Uint8Array | null) => b && Buffer.from(b).toString('hex');
    expect(hex(casefoldName(Uint8Array.from([0x41, 0x80])))).toBe('6180');
    expect(hex(casefoldName(Buffer.concat([Buffer.from('É'), Buffer.from([0xbf]), Buffer.from('X')])))).toBe(`${Buffer.from('e\u0301').toString('hex')}bf78`);
    expect(casefoldName(Uint8Array.from([0x80, 0x41]))).toBeNull();
  });
});

describe('lookups in a casefolded htree directory match the kernel', () => {
  let fs: ExtFs;
  let ci: number;
  let names: Map<number, string>;
  beforeAll(() => {
    fs = openExtImage(ensureImage('ext-casefold', 'casefold.img'));
    ci = resolve(fs, 'ci');
    names = new Map([...fs.readdir(ci)].map((e) => [e.ino, e.name]));
  });

  it('the directory is casefolded and indexed, and every stored name is listed', () => {
    expect(fs.inode(ci).i_flags & 0x40001000).toBe(0x40001000);
    expect(names.size).toBe(412);
  });

  for (const [name, want] of Object.entries(KERNEL)) {
    it(`${JSON.stringify(name)} → ${want === null ? 'not found' : JSON.stringify(want)}`, () => {
      const before = fs.stats.htreeLookups;
      const ino = fs.lookup(ci, name);
      expect(ino === null ? null : names.get(ino)).toBe(want);
      expect(fs.stats.htreeLookups).toBe(before + 1);
    });
  }
});

// Byte-order sorting of guest names and paths (sortByBytes, compareBytes in guest/view.ts): the
// order strcmp, GNU ls in the C locale and libguestfs give, checked against Buffer.compare of
// the UTF-8 bytes, with and without names beyond the Basic Multilingual Plane (where UTF-16
// order and byte order differ).
import { describe, it, expect } from 'vitest';
import { compareBytes, sortByBytes, sortStringsByBytes } from '../src/guest/view.js';

const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('sortByBytes', () => {
  it('ASCII and BMP names: the engine comparison gives UTF-8 byte order', () => {
    const names = ['usr/share', 'usr', 'Usr', 'usr/sbin', 'é', 'z', 'usr/share/doc', '_', 'ü', 'A-b', 'a', ''];
    expect(sortByBytes([...names], (s) => s)).toEqual([...names].sort(byUtf8));
    expect(sortStringsByBytes([...names])).toEqual([...names].sort(byUtf8));
  });

  it('names beyond the BMP (surrogate pairs) sort after U+E000..U+FFFF, as their UTF-8 bytes do', () => {
    const names = ['a\u{1F600}', 'a\uE000', 'a\uFFFD', 'a\u{10000}', 'a', 'ab', 'a\u00e9'];
    const sorted = sortByBytes([...names], (s) => s);
    expect(sorted).toEqual([...names].sort(byUtf8));
    expect(sortStringsByBytes([...names])).toEqual(sorted);
    // UTF-16 order would put the surrogate pairs (0xD83D...) before U+E000.
    expect([...names].sort()).not.toEqual(sorted);
    expect(sorted.indexOf('a\uE000')).toBeLessThan(sorted.indexOf('a\u{10000}'));
  });

  it('sorts objects by a key; compareBytes agrees with it', () => {
    const items = ['b', 'a\u{1F600}', 'a\uFFFD', 'a'].map((name, i) => ({ name, i }));
    expect(sortByBytes(items, (e) => e.name).map((e) => e.name)).toEqual(['a', 'a\uFFFD', 'a\u{1F600}', 'b']);
    expect(compareBytes('a\uFFFD', 'a\u{1F600}')).toBeLessThan(0);
  });
});

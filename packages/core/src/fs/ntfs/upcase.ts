// $UpCase (MFT entry 10), libfsntfs §4.1: the volume's table of 65,536 upper-case UTF-16 code
// units, which defines NTFS's case-insensitive name comparison and the $I30 collation order
// (COLLATION_FILENAME, compared as ntfs-3g's ntfs_names_full_collate does).

import { GuestkitError } from '../../errors.js';

export const UPCASE_ENTRIES = 65536;

export class UpCase {
  readonly table: Uint16Array;

  constructor(table: Uint16Array) {
    this.table = table;
  }

  static fromBytes(data: Uint8Array): UpCase {
    if (data.length < 2 || data.length % 2) throw new GuestkitError('CORRUPT', `$UpCase: invalid size ${data.length}`);
    const n = Math.min(UPCASE_ENTRIES, data.length / 2);
    const t = new Uint16Array(UPCASE_ENTRIES);
    const dv = new DataView(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < UPCASE_ENTRIES; i++) t[i] = i < n ? dv.getUint16(i * 2, true) : i;
    return new UpCase(t);
  }

  /** A stand-in when $UpCase cannot be read: ASCII and Latin-1 letters only. */
  static fallback(): UpCase {
    const t = new Uint16Array(UPCASE_ENTRIES);
    for (let i = 0; i < UPCASE_ENTRIES; i++) t[i] = i;
    for (let i = 0x61; i <= 0x7a; i++) t[i] = i - 32;
    for (let i = 0xe0; i <= 0xfe; i++) if (i !== 0xf7) t[i] = i - 32;
    return new UpCase(t);
  }

  /** Case-insensitive collation: <0, 0, >0 (COLLATION_FILENAME). */
  collate(a: string, b: string): number {
    const t = this.table;
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const x = t[a.charCodeAt(i)];
      const y = t[b.charCodeAt(i)];
      if (x !== y) return x < y ? -1 : 1;
    }
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }

  upper(s: string): string {
    let out = '';
    for (let i = 0; i < s.length; i++) out += String.fromCharCode(this.table[s.charCodeAt(i)]);
    return out;
  }
}

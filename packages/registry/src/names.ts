// Key and value names: ASCII-compressed (Latin-1, "extended ASCII") or UTF-16LE strings, compared
// case-insensitively as Windows does (each UTF-16 code unit upcased, then compared by code),
// and the lh name hash. Spec: msuhanov "Windows registry file format specification", "Fast
// leaf", "Hash leaf" (hash: H = 37*H + upcase(c) over the UTF-16 code units, modulo 2^32).

import { GuestkitError } from '@guestkit/core';

let upcaseTable: Uint16Array | null = null;

/** Upcase table for the 65,536 UTF-16 code units (RtlUpcaseUnicodeChar-like: a character whose
 *  uppercase form is not a single code unit, such as U+00DF, stays as it is). */
function upcase(): Uint16Array {
  if (upcaseTable) return upcaseTable;
  const t = new Uint16Array(65536);
  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) {
      t[c] = c;
      continue;
    }
    const u = String.fromCharCode(c).toUpperCase();
    t[c] = u.length === 1 ? u.charCodeAt(0) : c;
  }
  upcaseTable = t;
  return t;
}

/** Uppercase form of a name, code unit by code unit. */
export function upcaseName(s: string): string {
  const t = upcase();
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s.toUpperCase();
  let out = '';
  for (let i = 0; i < s.length; i++) out += String.fromCharCode(t[s.charCodeAt(i)]);
  return out;
}

/** Windows order of two names: upcased UTF-16 code units compared by value. */
export function compareNames(a: string, b: string): number {
  const t = upcase();
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = t[a.charCodeAt(i)];
    const y = t[b.charCodeAt(i)];
    if (x !== y) return x - y;
  }
  return a.length - b.length;
}

export function namesEqual(a: string, b: string): boolean {
  return a.length === b.length && compareNames(a, b) === 0;
}

/** The lh "name hash". */
export function nameHash(name: string): number {
  const t = upcase();
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 37) + t[name.charCodeAt(i)]) >>> 0;
  return h;
}

/** Decode a stored name: Latin-1 when the record's "compressed name" flag is set, else UTF-16LE. */
export function decodeName(b: Uint8Array, compressed: boolean, what: string): string {
  if (compressed) return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
  if (b.length % 2 !== 0) throw new GuestkitError('CORRUPT', `${what}: UTF-16 name has an odd length (${b.length} bytes)`);
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf16le');
}

/** True when every code unit fits in Latin-1, so the name can be stored compressed. */
export function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Encode a name for a new record: compressed (Latin-1) when possible, as Windows and hivex do. */
export function encodeName(s: string): { bytes: Uint8Array; compressed: boolean } {
  if (isLatin1(s)) return { bytes: Buffer.from(s, 'latin1'), compressed: true };
  return { bytes: Buffer.from(s, 'utf16le'), compressed: false };
}

/** Length of a name in bytes when treated as UTF-16 (the nk "largest name" fields). */
export function utf16Bytes(s: string): number {
  return s.length * 2;
}

/** Code-point order, as Perl's `cmp` (used by Win::Hivex::Regedit to sort keys and values). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates stand for code points above U+FFFF: they sort after every BMP character.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

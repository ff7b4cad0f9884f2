// Value data types and their decoding. Spec: msuhanov "Key value", "Data types"; libregf
// section 4.4.3 "Data types". Types outside the list are allowed and kept as raw bytes.
// String decoding follows hivex (hivex_value_string / hivex_value_multiple_strings), which is
// what virt-win-reg prints for a single value.

export const REG_NONE = 0;
export const REG_SZ = 1;
export const REG_EXPAND_SZ = 2;
export const REG_BINARY = 3;
export const REG_DWORD = 4;
export const REG_DWORD_BIG_ENDIAN = 5;
export const REG_LINK = 6;
export const REG_MULTI_SZ = 7;
export const REG_RESOURCE_LIST = 8;
export const REG_FULL_RESOURCE_DESCRIPTOR = 9;
export const REG_RESOURCE_REQUIREMENTS_LIST = 10;
export const REG_QWORD = 11;

const NAMES = [
  'REG_NONE',
  'REG_SZ',
  'REG_EXPAND_SZ',
  'REG_BINARY',
  'REG_DWORD',
  'REG_DWORD_BIG_ENDIAN',
  'REG_LINK',
  'REG_MULTI_SZ',
  'REG_RESOURCE_LIST',
  'REG_FULL_RESOURCE_DESCRIPTOR',
  'REG_RESOURCE_REQUIREMENTS_LIST',
  'REG_QWORD',
];

/** "REG_SZ"..., or "0x10000005" for a type outside the list. */
export function typeName(t: number): string {
  return NAMES[t] ?? `0x${(t >>> 0).toString(16).padStart(8, '0')}`;
}

export function isStringType(t: number): boolean {
  return t === REG_SZ || t === REG_EXPAND_SZ || t === REG_LINK;
}

/** Length in bytes of the UTF-16 string at the start of `d`, up to its first aligned NUL. */
function utf16Len(d: Uint8Array, from: number): number {
  let i = from;
  while (i + 1 < d.length && (d[i] !== 0 || d[i + 1] !== 0)) i += 2;
  return i - from;
}

function utf16(d: Uint8Array, from: number, len: number): string {
  return Buffer.from(d.buffer, d.byteOffset + from, len).toString('utf16le');
}

/** REG_SZ / EXPAND_SZ / LINK: UTF-16LE up to the first NUL (Windows often leaves junk after it). */
export function decodeString(d: Uint8Array): string {
  return utf16(d, 0, utf16Len(d, 0));
}

/**
 * REG_MULTI_SZ: the NUL-separated strings, as hivex splits them: every NUL ends a string, so
 * the usual terminating empty string is included ("a\0b\0\0" gives "a", "b", "").
 */
export function decodeMultiString(d: Uint8Array): string[] {
  const out: string[] = [];
  let p = 0;
  while (p < d.length) {
    const n = utf16Len(d, p);
    out.push(utf16(d, p, n));
    p += n + 2;
  }
  return out;
}

/** REG_DWORD (little-endian) or REG_DWORD_BIG_ENDIAN as a signed 32-bit number; null when short. */
export function decodeDword(d: Uint8Array, type: number): number | null {
  if (d.length < 4) return null;
  const dv = new DataView(d.buffer, d.byteOffset, 4);
  return dv.getInt32(0, type !== REG_DWORD_BIG_ENDIAN);
}

/** REG_QWORD as a signed 64-bit number; null when short. */
export function decodeQword(d: Uint8Array): bigint | null {
  if (d.length < 8) return null;
  return new DataView(d.buffer, d.byteOffset, 8).getBigInt64(0, true);
}

/** Data for a string value: the text and its terminating NUL in UTF-16LE (what regedit stores). */
export function encodeString(s: string): Uint8Array {
  return Buffer.from(s + '\0', 'utf16le');
}

export function encodeMultiString(strings: string[]): Uint8Array {
  return Buffer.from(strings.map((s) => s + '\0').join('') + '\0', 'utf16le');
}

export function encodeDword(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

export function encodeQword(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, n), true);
  return b;
}

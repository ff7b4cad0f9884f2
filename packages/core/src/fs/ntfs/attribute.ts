// MFT attribute header, libfsntfs §5.5 "MFT attribute": the 16-byte common header, then the
// resident form (value size and offset) or the non-resident form (VCN range, data runs
// offset, compression unit, allocated / data / valid data sizes, total allocated size).

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { utf16 } from './file-name.js';

/** Attribute type codes, libfsntfs §6.1 "The attribute types". */
export const AT = {
  STANDARD_INFORMATION: 0x10,
  ATTRIBUTE_LIST: 0x20,
  FILE_NAME: 0x30,
  OBJECT_ID: 0x40,
  SECURITY_DESCRIPTOR: 0x50,
  VOLUME_NAME: 0x60,
  VOLUME_INFORMATION: 0x70,
  DATA: 0x80,
  INDEX_ROOT: 0x90,
  INDEX_ALLOCATION: 0xa0,
  BITMAP: 0xb0,
  REPARSE_POINT: 0xc0,
  EA_INFORMATION: 0xd0,
  EA: 0xe0,
  LOGGED_UTILITY_STREAM: 0x100,
  END: 0xffffffff,
} as const;

/** MFT attribute data flags, libfsntfs §5.5.1.2. */
export const ATTR_COMPRESSION_MASK = 0x00ff;
export const ATTR_IS_ENCRYPTED = 0x4000;
export const ATTR_IS_SPARSE = 0x8000;

export interface MftAttribute {
  type: number;
  /** Attribute name (UTF-16 in the record), "" when unnamed. */
  name: string;
  flags: number;
  id: number;
  /** MFT entry the attribute header was found in, and the header's offset in that entry. */
  entry: number;
  offset: number;
  resident: boolean;
  /** Resident value (a view into the entry's buffer). */
  value: Uint8Array;
  // Non-resident form.
  lowestVcn: number;
  highestVcn: number;
  compressionUnit: number;
  allocatedSize: number;
  dataSize: number;
  initializedSize: number;
  /** Total allocated size (compressed or sparse attributes), in bytes. */
  compressedSize: number;
  /** The data runs (mapping pairs), a view into the entry's buffer. */
  mappingPairs: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** Parse the attribute at `off` of an MFT entry; `end` is the entry's used size. */
export function parseAttribute(b: Bytes, off: number, end: number, entry: number): { attr: MftAttribute; length: number } {
  // (Built only for an error: this runs for every attribute of every entry read.)
  const where = () => `${b.what}: attribute at offset ${off}`;
  const type = b.u32le(off);
  const length = b.u32le(off + 4);
  if (length < 16 || off + length > end || length % 8 !== 0) {
    throw new GuestkitError('CORRUPT', `${where()} (type 0x${type.toString(16)}): length ${length} is out of bounds`);
  }
  const nonResident = b.u8(off + 8);
  const nameLength = b.u8(off + 9);
  const nameOffset = b.u16le(off + 10);
  let name = '';
  if (nameLength > 0) {
    if (nameOffset + nameLength * 2 > length) throw new GuestkitError('CORRUPT', `${where()}: name is past the attribute's end`);
    name = utf16(b.raw(off + nameOffset, nameLength * 2), 0, nameLength);
  }
  const attr: MftAttribute = {
    type,
    name,
    flags: b.u16le(off + 12),
    id: b.u16le(off + 14),
    entry,
    offset: off,
    resident: nonResident === 0,
    value: EMPTY,
    lowestVcn: 0,
    highestVcn: -1,
    compressionUnit: 0,
    allocatedSize: 0,
    dataSize: 0,
    initializedSize: 0,
    compressedSize: 0,
    mappingPairs: EMPTY,
  };
  if (nonResident === 0) {
    if (length < 24) throw new GuestkitError('CORRUPT', `${where()}: resident attribute header is truncated`);
    const valueLength = b.u32le(off + 16);
    const valueOffset = b.u16le(off + 20);
    if (valueOffset + valueLength > length) {
      throw new GuestkitError('CORRUPT', `${where()}: resident value (${valueLength} bytes at ${valueOffset}) is past the attribute's end`);
    }
    attr.value = b.raw(off + valueOffset, valueLength);
    attr.dataSize = attr.allocatedSize = attr.initializedSize = valueLength;
  } else if (nonResident === 1) {
    if (length < 64) throw new GuestkitError('CORRUPT', `${where()}: non-resident attribute header is truncated`);
    attr.lowestVcn = i64(b, off + 16, -1, where, 'lowest VCN');
    attr.highestVcn = i64(b, off + 24, -1, where, 'highest VCN');
    const mpOffset = b.u16le(off + 32);
    attr.compressionUnit = b.u8(off + 34);
    attr.allocatedSize = i64(b, off + 40, 0, where, 'allocated size');
    attr.dataSize = i64(b, off + 48, 0, where, 'data size');
    attr.initializedSize = i64(b, off + 56, 0, where, 'valid data size');
    if ((attr.flags & (ATTR_COMPRESSION_MASK | ATTR_IS_SPARSE)) !== 0 && length >= 72 && mpOffset >= 72) {
      attr.compressedSize = i64(b, off + 64, 0, where, 'total allocated size');
    } else {
      attr.compressedSize = attr.allocatedSize;
    }
    if (mpOffset < 64 || mpOffset > length) throw new GuestkitError('CORRUPT', `${where()}: data runs offset ${mpOffset} is out of bounds`);
    if (attr.lowestVcn < 0 || attr.highestVcn < attr.lowestVcn - 1) {
      throw new GuestkitError('CORRUPT', `${where()}: VCN range ${attr.lowestVcn}..${attr.highestVcn} is invalid`);
    }
    if (attr.compressionUnit > 16) throw new GuestkitError('CORRUPT', `${where()}: compression unit 2^${attr.compressionUnit} clusters is invalid`);
    attr.mappingPairs = b.raw(off + mpOffset, length - mpOffset);
  } else {
    throw new GuestkitError('CORRUPT', `${where()}: non-resident flag ${nonResident} is invalid`);
  }
  return { attr, length };
}

/**
 * Signed 64-bit field at `off` as a number in [min, 2^53): CORRUPT outside. Read as two
 * 32-bit halves (no BigInt: this runs for every non-resident attribute).
 */
function i64(b: Bytes, off: number, min: number, where: () => string, field: string): number {
  const lo = b.u32le(off);
  const hi = b.i32le(off + 4);
  const v = hi * 4294967296 + lo;
  if (hi < -1 || hi > 0x1fffff || v < min) throw new GuestkitError('CORRUPT', `${where()}: ${field} ${b.i64le(off)} is out of range`);
  return v;
}

export function attrTypeName(type: number): string {
  for (const [k, v] of Object.entries(AT)) if (v === type) return `$${k}`;
  return `attribute 0x${type.toString(16)}`;
}

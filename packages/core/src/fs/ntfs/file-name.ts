// $FILE_NAME, libfsntfs §6.4 "The file name attribute": parent reference, four FILETIMEs,
// sizes, file attribute flags, the reparse tag (extended data), and the UTF-16 name with its
// namespace (POSIX, Win32, DOS, Win32 & DOS). Also the key of $I30 index entries.

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { refIndex } from './mft-entry.js';

/** Namespaces, libfsntfs §6.4.1. */
export const FILE_NAME_POSIX = 0;
export const FILE_NAME_WIN32 = 1;
export const FILE_NAME_DOS = 2;
export const FILE_NAME_WIN32_AND_DOS = 3;

export interface FileName {
  parent: number;
  creationTime: bigint;
  modificationTime: bigint;
  entryModificationTime: bigint;
  accessTime: bigint;
  allocatedSize: bigint;
  dataSize: bigint;
  fileAttributes: number;
  /** Reparse point tag when FILE_ATTRIBUTE_REPARSE_POINT is set. */
  extendedData: number;
  namespace: number;
  name: string;
}

/** The part of a $FILE_NAME that listings and lookups need (no times or sizes). */
export interface FileNameKey {
  parent: number;
  fileAttributes: number;
  namespace: number;
  name: string;
}

/** Fast path for directory listings: parent, flags, namespace and name only. */
export function parseFileNameKey(v: Uint8Array, what: string): FileNameKey {
  if (v.length < 66) throw new GuestkitError('CORRUPT', `${what}: $FILE_NAME of ${v.length} bytes is too short`);
  const len = v[64];
  if (66 + len * 2 > v.length) throw new GuestkitError('CORRUPT', `${what}: $FILE_NAME: name of ${len} characters is past its end`);
  return {
    parent: v[0] + v[1] * 2 ** 8 + v[2] * 2 ** 16 + v[3] * 2 ** 24 + v[4] * 2 ** 32 + v[5] * 2 ** 40,
    fileAttributes: (v[56] | (v[57] << 8) | (v[58] << 16) | (v[59] << 24)) >>> 0,
    namespace: v[65],
    name: utf16(v, 66, len),
  };
}

/** Scratch for the Latin-1 fast path of utf16() (names are at most 255 units). */
const LATIN1 = Buffer.alloc(256);

/**
 * UTF-16LE code units to a string (lone surrogates kept, as NTFS allows them). Fast path:
 * names whose units are all below 0x100 (most of them) are gathered into a byte buffer and
 * made one flat Latin-1 string in a single call.
 */
export function utf16(b: Uint8Array, off: number, units: number): string {
  if (units <= LATIN1.length) {
    let i = 0;
    for (; i < units; i++) {
      if (b[off + 2 * i + 1] !== 0) break;
      LATIN1[i] = b[off + 2 * i];
    }
    if (i === units) return LATIN1.toString('latin1', 0, units);
  }
  let s = '';
  for (let i = 0; i < units; i++) s += String.fromCharCode(b[off + 2 * i] | (b[off + 2 * i + 1] << 8));
  return s;
}

export function parseFileName(value: Uint8Array, what: string): FileName {
  const b = new Bytes(value, `${what}: $FILE_NAME`);
  if (value.length < 66) throw new GuestkitError('CORRUPT', `${b.what}: ${value.length} bytes is too short`);
  const len = b.u8(64);
  if (66 + len * 2 > value.length) throw new GuestkitError('CORRUPT', `${b.what}: name of ${len} characters is past its end`);
  return {
    parent: refIndex(b.u64leBig(0)),
    creationTime: b.i64le(8),
    modificationTime: b.i64le(16),
    entryModificationTime: b.i64le(24),
    accessTime: b.i64le(32),
    allocatedSize: b.i64le(40),
    dataSize: b.i64le(48),
    fileAttributes: b.u32le(56),
    extendedData: b.u32le(60),
    namespace: b.u8(65),
    name: b.utf16le(66, len * 2),
  };
}

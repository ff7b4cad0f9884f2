// $STANDARD_INFORMATION, libfsntfs §6.2 "The standard information attribute": the four
// FILETIMEs (creation, modification, MFT entry modification, access) and the file attribute
// flags; NTFS 3.0 adds owner and security identifiers (72 bytes).

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';

/** File attribute flags, libfsntfs §14.1. */
export const FILE_ATTRIBUTE = {
  READONLY: 0x1,
  HIDDEN: 0x2,
  SYSTEM: 0x4,
  DIRECTORY: 0x10,
  ARCHIVE: 0x20,
  SPARSE_FILE: 0x200,
  REPARSE_POINT: 0x400,
  COMPRESSED: 0x800,
  ENCRYPTED: 0x4000,
  RECALL_ON_OPEN: 0x40000,
  /** $FILE_NAME only: the entry has an $I30 index (a directory). */
  I30_INDEX_PRESENT: 0x10000000,
} as const;

export interface StandardInformation {
  creationTime: bigint;
  modificationTime: bigint;
  entryModificationTime: bigint;
  accessTime: bigint;
  fileAttributes: number;
  ownerId?: number;
  securityId?: number;
}

export function parseStandardInformation(value: Uint8Array, what: string): StandardInformation {
  if (value.length < 48) throw new GuestkitError('CORRUPT', `${what}: $STANDARD_INFORMATION is ${value.length} bytes (at least 48 expected)`);
  const b = new Bytes(value, `${what}: $STANDARD_INFORMATION`);
  const si: StandardInformation = {
    creationTime: b.i64le(0),
    modificationTime: b.i64le(8),
    entryModificationTime: b.i64le(16),
    accessTime: b.i64le(24),
    fileAttributes: b.u32le(32),
  };
  if (value.length >= 72) {
    si.ownerId = b.u32le(48);
    si.securityId = b.u32le(52);
  }
  return si;
}

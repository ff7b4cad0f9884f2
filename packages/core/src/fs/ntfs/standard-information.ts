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
  readonly creationTime: bigint;
  readonly modificationTime: bigint;
  readonly entryModificationTime: bigint;
  readonly accessTime: bigint;
  readonly fileAttributes: number;
  readonly ownerId?: number;
  readonly securityId?: number;
  /** The attribute's value: times for stat() are converted from it without BigInts. */
  readonly value: Uint8Array;
}

/** Offsets of the four FILETIMEs in the value. */
export const SI_CREATION_TIME = 0;
export const SI_MODIFICATION_TIME = 8;
export const SI_ENTRY_MODIFICATION_TIME = 16;
export const SI_ACCESS_TIME = 24;

/** The parsed attribute: sizes checked once, the 64-bit times read when asked for. */
class StandardInformationValue implements StandardInformation {
  readonly fileAttributes: number;
  readonly ownerId?: number;
  readonly securityId?: number;
  constructor(readonly value: Uint8Array, private readonly what: string) {
    // (The caller checked the size: at least 48 bytes, 72 for the two identifiers.)
    const u32 = (o: number) => (value[o] | (value[o + 1] << 8) | (value[o + 2] << 16) | (value[o + 3] << 24)) >>> 0;
    this.fileAttributes = u32(32);
    if (value.length >= 72) {
      this.ownerId = u32(48);
      this.securityId = u32(52);
    }
  }
  private time(off: number): bigint {
    return new Bytes(this.value, this.what).i64le(off);
  }
  get creationTime(): bigint {
    return this.time(SI_CREATION_TIME);
  }
  get modificationTime(): bigint {
    return this.time(SI_MODIFICATION_TIME);
  }
  get entryModificationTime(): bigint {
    return this.time(SI_ENTRY_MODIFICATION_TIME);
  }
  get accessTime(): bigint {
    return this.time(SI_ACCESS_TIME);
  }
}

export function parseStandardInformation(value: Uint8Array, what: string): StandardInformation {
  if (value.length < 48) throw new GuestkitError('CORRUPT', `${what}: $STANDARD_INFORMATION is ${value.length} bytes (at least 48 expected)`);
  return new StandardInformationValue(value, what);
}

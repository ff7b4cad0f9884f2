// FAT directory entries (Microsoft FAT spec v1.03, section 6: FAT Directory Structure, and
// section 7: FAT Long Directory Entries): the 32-byte short entry, VFAT long-name slots with
// their checksum, the NT case bits, and the date/time encodings.

import { Bytes } from '../../bytes.js';
import type { Timespec } from '../vfs.js';
import { decodeOem } from './bpb.js';

export const DIR_ENTRY_SIZE = 32;

export const ATTR_READ_ONLY = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYSTEM = 0x04;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
export const ATTR_LONG_NAME = ATTR_READ_ONLY | ATTR_HIDDEN | ATTR_SYSTEM | ATTR_VOLUME_ID;
export const ATTR_LONG_NAME_MASK = ATTR_LONG_NAME | ATTR_DIRECTORY | ATTR_ARCHIVE;

/** DIR_NTRes bits (Windows NT; Linux CASE_LOWER_BASE / CASE_LOWER_EXT). */
export const NTRES_LOWER_BASE = 0x08;
export const NTRES_LOWER_EXT = 0x10;

/** DIR_Name[0] values. */
export const DIR_FREE_LAST = 0x00;
export const DIR_FREE = 0xe5;
/** A name whose first byte really is 0xE5 (KANJI lead byte) is stored as 0x05. */
export const DIR_KANJI_E5 = 0x05;

/** LDIR_Ord: the last (first stored) slot of a long name. */
export const LAST_LONG_ENTRY = 0x40;
/** Long names are at most 255 UTF-16 units: 20 slots of 13. */
export const MAX_LFN_SLOTS = 20;
export const LFN_CHARS_PER_SLOT = 13;

/** A short (8.3) directory entry, section 6. */
export interface ShortEntry {
  /** DIR_Name, 11 bytes. */
  name: Uint8Array;
  /** DIR_Attr */
  attr: number;
  /** DIR_NTRes */
  ntRes: number;
  /** DIR_CrtTimeTenth: 10-ms units, 0-199. */
  crtTimeTenth: number;
  /** DIR_CrtTime */
  crtTime: number;
  /** DIR_CrtDate */
  crtDate: number;
  /** DIR_LstAccDate */
  lstAccDate: number;
  /** DIR_FstClusHI (FAT32 only; other FAT types keep EA data here) */
  fstClusHi: number;
  /** DIR_WrtTime */
  wrtTime: number;
  /** DIR_WrtDate */
  wrtDate: number;
  /** DIR_FstClusLO */
  fstClusLo: number;
  /** DIR_FileSize */
  fileSize: number;
}

export function parseShortEntry(b: Bytes, off: number): ShortEntry {
  return {
    name: b.raw(off, 11),
    attr: b.u8(off + 11),
    ntRes: b.u8(off + 12),
    crtTimeTenth: b.u8(off + 13),
    crtTime: b.u16le(off + 14),
    crtDate: b.u16le(off + 16),
    lstAccDate: b.u16le(off + 18),
    fstClusHi: b.u16le(off + 20),
    wrtTime: b.u16le(off + 22),
    wrtDate: b.u16le(off + 24),
    fstClusLo: b.u16le(off + 26),
    fileSize: b.u32le(off + 28),
  };
}

/** First cluster of an entry; the high word counts on FAT32 only (as Linux's fat_get_start). */
export function firstCluster(e: ShortEntry, fat32: boolean): number {
  return fat32 ? e.fstClusHi * 0x10000 + e.fstClusLo : e.fstClusLo;
}

export function isLongNameSlot(attr: number): boolean {
  return (attr & ATTR_LONG_NAME_MASK) === ATTR_LONG_NAME;
}

/** Section 7.2: the checksum of an 11-byte short name that every slot of its long name carries. */
export function shortNameChecksum(name: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = ((((sum & 1) << 7) | (sum >> 1)) + name[i]) & 0xff;
  return sum;
}

/** "." and ".." entries. */
export function isDotEntry(name: Uint8Array): boolean {
  return name[0] === 0x2e && (name[1] === 0x20 || (name[1] === 0x2e && name[2] === 0x20));
}

/**
 * The 8.3 name as Linux vfat shows it (shortname=mixed, its default): stored case, except that
 * the NT bits lower-case the base (0x08) or the extension (0x10); trailing spaces removed; a
 * dot only when there is an extension; 0x05 in the first byte means 0xE5.
 */
export function shortNameText(name: Uint8Array, ntRes: number): string {
  const raw = Uint8Array.from(name);
  if (raw[0] === DIR_KANJI_E5) raw[0] = DIR_FREE;
  let baseEnd = 8;
  while (baseEnd > 0 && raw[baseEnd - 1] === 0x20) baseEnd--;
  let extEnd = 11;
  while (extEnd > 8 && raw[extEnd - 1] === 0x20) extEnd--;
  let base = decodeOem(raw.subarray(0, baseEnd));
  let ext = decodeOem(raw.subarray(8, extEnd));
  if (ntRes & NTRES_LOWER_BASE) base = base.toLowerCase();
  if (ntRes & NTRES_LOWER_EXT) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}

/** One long-name slot (section 7): LDIR_Ord, LDIR_Chksum and its 13 UTF-16 units. */
export interface LongNameSlot {
  ord: number;
  chksum: number;
  units: number[];
}

export function parseLongNameSlot(b: Bytes, off: number): LongNameSlot {
  const units: number[] = [];
  for (const [o, n] of [[1, 5], [14, 6], [28, 2]] as const) {
    for (let i = 0; i < n; i++) units.push(b.u16le(off + o + 2 * i));
  }
  return { ord: b.u8(off), chksum: b.u8(off + 13), units };
}

/**
 * Collects long-name slots ahead of their short entry, as Linux's fat_parse_long does: a name
 * starts with the slot flagged LAST_LONG_ENTRY, continues with ordinals counting down to 1,
 * all with one checksum; anything out of sequence drops what was gathered (orphan slots are
 * ignored), and the name is used only when the short entry that follows has that checksum.
 */
export class LongNameAssembler {
  private parts: (number[] | undefined)[] = [];
  private expect = 0;
  private chksum = -1;

  reset(): void {
    this.parts = [];
    this.expect = 0;
    this.chksum = -1;
  }

  add(slot: LongNameSlot): void {
    const n = slot.ord & 0x1f;
    if (slot.ord & LAST_LONG_ENTRY) {
      this.reset();
      if (n === 0 || n > MAX_LFN_SLOTS) return;
      this.parts = new Array(n);
      this.parts[n - 1] = slot.units;
      this.expect = n - 1;
      this.chksum = slot.chksum;
      return;
    }
    if (this.chksum < 0 || n === 0 || n !== this.expect || slot.chksum !== this.chksum) {
      this.reset();
      return;
    }
    this.parts[n - 1] = slot.units;
    this.expect = n - 1;
  }

  /** The long name for this short entry, or undefined; always resets. */
  finish(shortName: Uint8Array): string | undefined {
    const complete = this.chksum >= 0 && this.expect === 0 && this.chksum === shortNameChecksum(shortName);
    const parts = this.parts;
    this.reset();
    if (!complete) return undefined;
    const units: number[] = [];
    outer: for (const p of parts) {
      for (const u of p!) {
        if (u === 0) break outer;
        units.push(u);
      }
    }
    if (units.length === 0) return undefined;
    return String.fromCharCode(...units);
  }
}

// Linux fs/fat/misc.c, fat_time_fat2unix(): cumulative days before each month (index = month,
// 1-based; months 13-15 count as 0, as there).
const DAYS_BEFORE_MONTH = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 0, 0, 0];
const SECS_PER_DAY = 86400;
/** Days from 1970-01-01 to 1980-01-01. */
const DAYS_DELTA = 365 * 10 + 2;
const YEAR_2100 = 120;

/**
 * DOS date and time (section 6.3) to Unix time, as Linux computes it (including its handling
 * of out-of-range months and days), with the volume's time zone taken as UTC, which is what a
 * vfat mount without tz= or time_offset= gives in libguestfs's appliance. `cs` adds 10-ms units
 * (DIR_CrtTimeTenth).
 */
export function fatTimeToUnix(time: number, date: number, cs = 0): Timespec {
  let sec = (time & 0x1f) * 2 + ((time >> 5) & 0x3f) * 60 + (time >> 11) * 3600;
  const year = date >> 9;
  const month = Math.max(1, (date >> 5) & 0xf);
  const day = Math.max(1, date & 0x1f) - 1;
  let leapDay = Math.floor((year + 3) / 4);
  if (year > YEAR_2100) leapDay--;
  if ((year + 1980) % 4 === 0 && year !== YEAR_2100 && month > 2) leapDay++;
  sec += (year * 365 + leapDay + DAYS_BEFORE_MONTH[month] + day + DAYS_DELTA) * SECS_PER_DAY;
  if (cs) return { sec: sec + Math.floor(cs / 100), nsec: (cs % 100) * 10_000_000 };
  return { sec, nsec: 0 };
}

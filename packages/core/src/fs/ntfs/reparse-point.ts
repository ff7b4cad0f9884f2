// $REPARSE_POINT, libfsntfs §9 "The reparse point": the tag, the data size, and for the tags
// guestkit follows the junction / mount point data (§9.2), the symbolic link data (§9.3) and
// WSL's LX_SYMLINK (a version word and a UTF-8 target).

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';

export const IO_REPARSE_TAG_MOUNT_POINT = 0xa0000003;
export const IO_REPARSE_TAG_SYMLINK = 0xa000000c;
export const IO_REPARSE_TAG_LX_SYMLINK = 0xa000001d;
export const IO_REPARSE_TAG_AF_UNIX = 0x80000023;
export const IO_REPARSE_TAG_LX_FIFO = 0x80000024;
export const IO_REPARSE_TAG_LX_CHR = 0x80000025;
export const IO_REPARSE_TAG_LX_BLK = 0x80000026;
export const IO_REPARSE_TAG_WOF = 0x80000017;
/** Bit 31: Microsoft tag (no GUID in the header). */
export const IO_REPARSE_TAG_IS_MICROSOFT = 0x80000000;
export const SYMLINK_FLAG_RELATIVE = 1;

/** Known tag names for the note shown on reparse points guestkit does not follow. */
export const REPARSE_TAG_NAMES: Record<number, string> = {
  0x80000005: 'DRIVE_EXTENDER', 0x80000006: 'HSM2', 0x80000007: 'SIS', 0x80000008: 'WIM',
  0x80000009: 'CSV', 0x8000000a: 'DFS', 0x80000012: 'DFSR', 0x80000013: 'DEDUP', 0x80000014: 'NFS',
  0x80000015: 'FILE_PLACEHOLDER', 0x80000017: 'WOF', 0x80000018: 'WCI', 0x8000001b: 'APPEXECLINK',
  0x8000001e: 'STORAGE_SYNC', 0x80000023: 'AF_UNIX', 0x80000024: 'LX_FIFO', 0x80000025: 'LX_CHR',
  0x80000026: 'LX_BLK', 0x9000001c: 'PROJFS', 0xa0000003: 'MOUNT_POINT', 0xa000000c: 'SYMLINK',
  0xa0000010: 'IIS_CACHE', 0xa000001a: 'CLOUD', 0xa000001d: 'LX_SYMLINK', 0xc0000004: 'HSM',
};

export function reparseTagName(tag: number): string {
  const n = REPARSE_TAG_NAMES[tag] ?? ((tag & 0xffff0fff) === 0x9000001a ? 'CLOUD' : undefined);
  return `${n ? `IO_REPARSE_TAG_${n} ` : ''}0x${tag.toString(16).padStart(8, '0')}`;
}

export interface ReparsePoint {
  tag: number;
  /** The reparse data after the 8-byte header (and the GUID of non-Microsoft tags). */
  data: Uint8Array;
  /** The whole attribute value is consistent (size field, GUID) as ntfs-3g checks it. */
  valid: boolean;
}

export function parseReparsePoint(value: Uint8Array, what: string): ReparsePoint {
  const b = new Bytes(value, `${what}: $REPARSE_POINT`);
  if (value.length < 8) throw new GuestkitError('CORRUPT', `${b.what}: ${value.length} bytes is too short`);
  const tag = b.u32le(0);
  const size = b.u16le(4);
  const header = tag & IO_REPARSE_TAG_IS_MICROSOFT ? 8 : 24;
  const valid = tag !== 0 && size + header === value.length;
  const data = value.subarray(Math.min(header, value.length), Math.min(header + size, value.length));
  return { tag, data, valid };
}

export interface LinkReparseData {
  substituteName: string;
  printName: string;
  /** SYMLINK_FLAG_RELATIVE for relative symbolic links; 0 for junctions. */
  flags: number;
}

/** Junction (mount point) or symbolic link reparse data, or null when inconsistent. */
export function parseLinkReparseData(rp: ReparsePoint): LinkReparseData | null {
  const isLink = rp.tag === IO_REPARSE_TAG_SYMLINK;
  const head = isLink ? 12 : 8;
  const d = rp.data;
  if (d.length < head) return null;
  const b = new Bytes(d, 'reparse data');
  const subOff = b.u16le(0);
  const subLen = b.u16le(2);
  const prnOff = b.u16le(4);
  const prnLen = b.u16le(6);
  if (head + subOff + subLen > d.length || subLen % 2) return null;
  const prn = head + prnOff + prnLen <= d.length ? b.utf16le(head + prnOff, prnLen - (prnLen % 2)) : '';
  return { substituteName: b.utf16le(head + subOff, subLen), printName: prn, flags: isLink ? b.u32le(8) : 0 };
}

/** WSL symbolic link: version 2, then the UTF-8 target. */
export function parseLxSymlink(rp: ReparsePoint): string | null {
  if (rp.data.length <= 4) return null;
  const b = new Bytes(rp.data, 'LX_SYMLINK reparse data');
  if (b.u32le(0) !== 2) return null;
  return Buffer.from(rp.data.subarray(4)).toString('utf8');
}

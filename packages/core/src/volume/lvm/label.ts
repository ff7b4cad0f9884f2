// LVM2 physical volume label: label_header and pv_header (lvm2 lib/label/label.h,
// lib/format_text/layout.h; "LVM2 on-disk format": the label is in one of the first four
// 512-byte sectors, "LABELONE", CRC over the rest of the sector from offset_xl).

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import type { BlockDevice } from '../../block/device.js';

export const LABEL_ID = 'LABELONE';
export const LABEL_TYPE_LVM2 = 'LVM2 001';
/** Labels are looked for in sectors 0-3 (LABEL_SCAN_SECTORS), in 512-byte units. */
export const LABEL_SCAN_SECTORS = 4;
export const LABEL_SECTOR_SIZE = 512;
/** lvm2 INITIAL_CRC */
export const LVM_INITIAL_CRC = 0xf597a6cf;
/** pv_header: UUID (ID_LEN) */
export const ID_LEN = 32;
/** Data and metadata area descriptors read from one pv_header, at most (all fit in the sector). */
const MAX_DISK_AREAS = 16;

// lvm2 lib/misc/crc.c: CRC-32 (reflected 0xEDB88320) a nibble at a time, no final XOR.
const CRC_TAB = [
  0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
  0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
];

/** lvm2 calc_crc(): chainable (pass the previous result as `initial`). */
export function calcCrc(initial: number, buf: Uint8Array): number {
  let crc = initial >>> 0;
  for (let i = 0; i < buf.length; i++) {
    crc ^= buf[i];
    crc = (crc >>> 4) ^ CRC_TAB[crc & 0xf];
    crc = (crc >>> 4) ^ CRC_TAB[crc & 0xf];
  }
  return crc >>> 0;
}

/** An {offset, size} pair of the pv_header (disk_locn), in bytes from the start of the device. */
export interface DiskLocn {
  offset: number;
  size: number;
}

export interface PvLabel {
  /** label_header.sector_xl: where the label was found. */
  sector: number;
  /** pv_header.pv_uuid in LVM's text form (6-4-4-4-4-4-6 with dashes). */
  pvUuid: string;
  /** pv_header.device_size_xl, bytes. */
  deviceSize: number;
  /** Data areas (normally one: pe_start onwards; size 0 = to the end). */
  dataAreas: DiskLocn[];
  /** Metadata areas (0, 1 or 2: start and/or end of the device). */
  metadataAreas: DiskLocn[];
}

/** Format a 32-character LVM id with dashes as LVM prints it (lib/uuid/uuid.c id_write_format). */
export function formatLvmId(id: string): string {
  const groups = [6, 4, 4, 4, 4, 4, 6];
  const out: string[] = [];
  let at = 0;
  for (const g of groups) {
    out.push(id.slice(at, at + g));
    at += g;
  }
  return out.join('-');
}

/** The 32 characters of an id, dashes removed (as libguestfs's pvuuid/vguuid/lvuuid print it). */
export function compactLvmId(id: string): string {
  return id.replace(/-/g, '');
}

/**
 * Look for an LVM2 label in the first four sectors of `dev`. Returns null when there is none
 * (the cheap case: one 2 KiB read). A LABELONE sector whose CRC, sector number or type is wrong
 * throws CORRUPT naming the device.
 */
export function readPvLabel(dev: BlockDevice, name: string): PvLabel | null {
  const len = Math.min(LABEL_SCAN_SECTORS * LABEL_SECTOR_SIZE, dev.size);
  if (len < LABEL_SECTOR_SIZE) return null;
  const buf = new Uint8Array(len);
  if (dev.pread(buf, 0) !== len) return null;
  for (let s = 0; s * LABEL_SECTOR_SIZE + LABEL_SECTOR_SIZE <= len; s++) {
    const sec = buf.subarray(s * LABEL_SECTOR_SIZE, (s + 1) * LABEL_SECTOR_SIZE);
    if (Buffer.from(sec.buffer, sec.byteOffset, 8).toString('latin1') !== LABEL_ID) continue;
    return parseLabelSector(new Bytes(sec, `LVM label in sector ${s} of ${name}`), s);
  }
  return null;
}

export function parseLabelSector(b: Bytes, sectorNo: number): PvLabel {
  const bad = (d: string) => new GuestkitError('CORRUPT', `${b.what}: ${d}`);
  // label_header: id[8], sector_xl u64, crc_xl u32, offset_xl u32, type[8]
  const sector = b.u64le(8);
  if (sector !== sectorNo) throw bad(`sector_xl is ${sector}, but the label is in sector ${sectorNo}`);
  const crc = b.u32le(16);
  const want = calcCrc(LVM_INITIAL_CRC, b.raw(20, b.length - 20));
  if (crc !== want) throw bad(`crc_xl 0x${crc.toString(16)} does not match the sector (0x${want.toString(16)})`);
  const offset = b.u32le(20);
  const type = b.cstring(24, 8, 'latin1');
  if (type !== LABEL_TYPE_LVM2) {
    throw new GuestkitError('UNSUPPORTED', `${b.what}: label type "${type}" is not ${LABEL_TYPE_LVM2}`);
  }
  if (offset < 32 || offset + ID_LEN + 8 > b.length) throw bad(`offset_xl ${offset} is outside the sector`);

  // pv_header: pv_uuid[32], device_size_xl u64, then disk_locn lists (data, then metadata),
  // each ended by a {0, 0} entry.
  const rawId = b.cstring(offset, ID_LEN, 'latin1');
  if (!/^[A-Za-z0-9!#]{32}$/.test(rawId)) throw bad(`pv_uuid "${rawId}" is not a valid LVM id`);
  const deviceSize = b.u64le(offset + ID_LEN);
  let at = offset + ID_LEN + 8;
  const lists: DiskLocn[][] = [[], []];
  for (const list of lists) {
    for (let i = 0; ; i++) {
      if (i > MAX_DISK_AREAS) throw bad(`more than ${MAX_DISK_AREAS} disk areas, or an unterminated list`);
      const o = b.u64le(at);
      const sz = b.u64le(at + 8);
      at += 16;
      if (o === 0 && sz === 0) break;
      list.push({ offset: o, size: sz });
    }
  }
  return { sector, pvUuid: formatLvmId(rawId), deviceSize, dataAreas: lists[0], metadataAreas: lists[1] };
}

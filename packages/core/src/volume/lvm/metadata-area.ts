// LVM2 metadata area: mda_header and its raw_locn descriptors (lvm2 lib/format_text/layout.h,
// format-text.c _vg_read_raw_area). The area is a circular buffer after the 512-byte header;
// raw_locn[0] locates the committed metadata text, which may wrap around the buffer's end.

import { Bytes, allocFromDisk } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { readBytes, readExact, type BlockDevice } from '../../block/device.js';
import { calcCrc, LVM_INITIAL_CRC, type DiskLocn } from './label.js';

/** FMTT_MAGIC */
export const FMTT_MAGIC = ' LVM2 x[5A%r0N*>';
export const FMTT_VERSION = 1;
export const MDA_HEADER_SIZE = 512;
/** raw_locn.flags: this metadata area is ignored (pvchange --metadataignore y). */
export const RAW_LOCN_IGNORED = 0x00000001;
/** raw_locn entries read from one header at most (the list is zero-terminated). */
const MAX_RAW_LOCNS = 4;

export interface RawLocn {
  /** Offset of the text from the start of the metadata area. */
  offset: number;
  size: number;
  checksum: number;
  flags: number;
}

export interface MdaHeader {
  version: number;
  /** Absolute byte offset of the area on the device. */
  start: number;
  size: number;
  rawLocns: RawLocn[];
}

export function readMdaHeader(dev: BlockDevice, area: DiskLocn, what: string): MdaHeader {
  if (area.offset + MDA_HEADER_SIZE > dev.size) {
    throw new GuestkitError('CORRUPT', `${what}: the metadata area at ${area.offset} is past the end of the device (${dev.size} bytes)`);
  }
  const b = readBytes(dev, area.offset, MDA_HEADER_SIZE, what);
  return parseMdaHeader(b, area);
}

export function parseMdaHeader(b: Bytes, area: DiskLocn): MdaHeader {
  const bad = (d: string) => new GuestkitError('CORRUPT', `${b.what}: ${d}`);
  const magic = Buffer.from(b.raw(4, 16)).toString('latin1');
  if (magic !== FMTT_MAGIC) throw bad('wrong magic (not an LVM2 metadata area header)');
  const sum = b.u32le(0);
  const want = calcCrc(LVM_INITIAL_CRC, b.raw(4, MDA_HEADER_SIZE - 4));
  if (sum !== want) throw bad(`checksum_xl 0x${sum.toString(16)} does not match the header (0x${want.toString(16)})`);
  const version = b.u32le(20);
  if (version !== FMTT_VERSION) throw new GuestkitError('UNSUPPORTED', `${b.what}: metadata format version ${version}`);
  const start = b.u64le(24);
  const size = b.u64le(32);
  if (start !== area.offset) throw bad(`start ${start} is not where the PV label says the area is (${area.offset})`);
  if (size <= MDA_HEADER_SIZE) throw bad(`size ${size} leaves no room for metadata`);
  if (area.size !== 0 && size > area.size) throw bad(`size ${size} is larger than the area in the PV label (${area.size})`);
  const rawLocns: RawLocn[] = [];
  for (let i = 0, at = 40; i < MAX_RAW_LOCNS; i++, at += 24) {
    const r = { offset: b.u64le(at), size: b.u64le(at + 8), checksum: b.u32le(at + 16), flags: b.u32le(at + 20) };
    if (r.offset === 0 && r.size === 0 && r.checksum === 0 && r.flags === 0) break;
    rawLocns.push(r);
  }
  return { version, start, size, rawLocns };
}

/**
 * The committed metadata text of an area (raw_locn[0]), or null when the area holds none or is
 * ignored. The text may wrap from the end of the circular buffer to just after the header; its
 * checksum is verified over both pieces.
 */
export function readMetadataText(dev: BlockDevice, mda: MdaHeader, what: string): string | null {
  const r = mda.rawLocns[0];
  if (!r || (r.offset === 0 && r.size === 0)) return null;
  if (r.flags & RAW_LOCN_IGNORED) return null;
  const bad = (d: string) => new GuestkitError('CORRUPT', `${what}: raw_locn[0] ${d}`);
  if (r.offset < MDA_HEADER_SIZE || r.offset >= mda.size) {
    throw bad(`offset ${r.offset} is outside the metadata area (${MDA_HEADER_SIZE}-${mda.size})`);
  }
  if (r.size === 0) throw bad('size is 0');
  if (r.size > LIMITS.maxMetadata) {
    throw new GuestkitError('LIMIT', `${what}: metadata text of ${r.size} bytes exceeds the limit of ${LIMITS.maxMetadata} bytes`);
  }
  const wrap = Math.max(0, r.offset + r.size - mda.size);
  if (wrap > r.offset - MDA_HEADER_SIZE) throw bad(`offset ${r.offset} and size ${r.size} overlap themselves when wrapped in a ${mda.size}-byte area`);
  const text = allocFromDisk(r.size, `${what}: metadata text`, LIMITS.maxMetadata);
  const first = r.size - wrap;
  text.set(readExact(dev, mda.start + r.offset, first, `${what}: metadata text`), 0);
  if (wrap) text.set(readExact(dev, mda.start + MDA_HEADER_SIZE, wrap, `${what}: metadata text (wrapped part)`), first);
  const sum = calcCrc(LVM_INITIAL_CRC, text);
  if (sum !== r.checksum) {
    throw bad(`checksum 0x${r.checksum.toString(16)} does not match the ${r.size}-byte metadata text (0x${sum.toString(16)})`);
  }
  let end = text.length;
  while (end > 0 && text[end - 1] === 0) end--;
  return Buffer.from(text.buffer, text.byteOffset, end).toString('utf8');
}

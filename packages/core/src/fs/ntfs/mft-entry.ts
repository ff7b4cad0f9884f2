// MFT entry (FILE record), libfsntfs §5.1 "MFT entry" and §5.1.1 "MFT entry header": the
// multi-sector header, sequence and link counts, flags, used size, base record reference,
// then the attributes up to the end-of-attributes marker.

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { applyFixups } from './fixup.js';
import { AT, parseAttribute, type MftAttribute } from './attribute.js';

/** MFT entry flags, libfsntfs §5.2. */
export const MFT_RECORD_IN_USE = 0x0001;
export const MFT_RECORD_IS_DIRECTORY = 0x0002;

/** The 48-bit MFT entry index of a file reference. */
export function refIndex(ref: bigint): number {
  return Number(ref & 0xffff_ffff_ffffn);
}

export interface MftEntry {
  index: number;
  inUse: boolean;
  isDirectory: boolean;
  sequence: number;
  linkCount: number;
  flags: number;
  /** MFT entry index of the base record, 0 for a base record. */
  baseEntry: number;
  attributes: MftAttribute[];
}

/**
 * Parse MFT entry `index` from its raw bytes (which are modified: fix-ups are undone, unless
 * `fixedUp` says an earlier parse of the same bytes did it already).
 * An all-zero entry (seen for the reserved entries 16 to 23) is reported as not in use.
 */
export function parseMftEntry(buf: Uint8Array, index: number, fixedUp = false): MftEntry {
  const what = `MFT entry ${index}`;
  const b = new Bytes(buf, what);
  if (buf.length < 48) throw new GuestkitError('CORRUPT', `${what}: ${buf.length} bytes is too short`);
  if (!(buf[0] === 0x46 && buf[1] === 0x49 && buf[2] === 0x4c && buf[3] === 0x45)) {
    const magic = Buffer.from(buf.subarray(0, 4)).toString('latin1');
    if (magic === '\0\0\0\0' && buf.every((x) => x === 0)) {
      return { index, inUse: false, isDirectory: false, sequence: 0, linkCount: 0, flags: 0, baseEntry: 0, attributes: [] };
    }
    if (magic === 'BAAD') throw new GuestkitError('CORRUPT', `${what}: marked bad ("BAAD") by chkdsk`);
    throw new GuestkitError('CORRUPT', `${what}: bad signature ${JSON.stringify(magic)} (expected "FILE")`);
  }
  if (!fixedUp) applyFixups(buf, what);
  const sequence = b.u16le(16);
  const linkCount = b.u16le(18);
  const attrsOffset = b.u16le(20);
  const flags = b.u16le(22);
  const usedSize = b.u32le(24);
  const allocatedSize = b.u32le(28);
  // Base record reference: 48-bit entry index (the 16-bit sequence number is not needed).
  const baseEntry = b.u32le(32) + b.u16le(36) * 4294967296;
  if (allocatedSize !== buf.length) {
    throw new GuestkitError('CORRUPT', `${what}: total entry size ${allocatedSize} differs from the MFT entry size ${buf.length}`);
  }
  if (usedSize > buf.length || attrsOffset < 42 || attrsOffset + 8 > usedSize || attrsOffset % 8 !== 0) {
    throw new GuestkitError('CORRUPT', `${what}: used size ${usedSize} or attributes offset ${attrsOffset} is out of bounds`);
  }
  if (b.u16le(4) >= 48) {
    const self = b.u32le(44);
    // NTFS 3.1 stores the entry's own index (3.0 has its fix-ups there, at offset 42): a
    // mismatch means the MFT's data runs map to the wrong place.
    if (self !== (index >>> 0) && self !== 0) {
      throw new GuestkitError('CORRUPT', `${what}: the record says it is MFT entry ${self}`);
    }
  }
  const attributes: MftAttribute[] = [];
  let off = attrsOffset;
  // Each attribute takes at least 16 bytes: the loop ends within usedSize / 16 steps.
  for (;;) {
    if (off + 4 > usedSize) throw new GuestkitError('CORRUPT', `${what}: attributes run past the used size ${usedSize} without an end marker`);
    const type = b.u32le(off);
    if (type === AT.END) break;
    const { attr, length } = parseAttribute(b, off, usedSize, index);
    attributes.push(attr);
    off += length;
  }
  return {
    index,
    inUse: (flags & MFT_RECORD_IN_USE) !== 0,
    isDirectory: (flags & MFT_RECORD_IS_DIRECTORY) !== 0,
    sequence,
    linkCount,
    flags,
    baseEntry,
    attributes,
  };
}

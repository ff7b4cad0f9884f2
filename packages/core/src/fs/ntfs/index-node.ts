// Index structures, libfsntfs §7 "The index": the index root header (§7.2.1), the index entry
// (INDX record, §7.3.1) with its fix-ups, the index node header (§7.4) and the index values
// (§7.5: file reference, sizes, flags, key, sub-node VCN).

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { applyFixups } from './fixup.js';

export const INDEX_NODE_IS_BRANCH = 0x1;
export const INDEX_VALUE_HAS_SUB_NODE = 0x1;
export const INDEX_VALUE_IS_LAST = 0x2;
export const COLLATION_FILENAME = 0x1;

const NO_KEY = new Uint8Array(0);

export interface IndexValue {
  /** File reference: MFT entry index (48 bits). */
  entry: number;
  flags: number;
  /** Index key (a $FILE_NAME for $I30), a view into the node's buffer. */
  key: Uint8Array;
  /** Sub-node VCN when INDEX_VALUE_HAS_SUB_NODE. */
  subNodeVcn: number;
}

export interface IndexRoot {
  attributeType: number;
  collation: number;
  indexEntrySize: number;
  values: IndexValue[];
}

/** Index values of the node whose header starts at `nodeOff` of `b`. */
export function parseIndexNode(b: Bytes, nodeOff: number): IndexValue[] {
  const valuesOffset = b.u32le(nodeOff);
  const nodeSize = b.u32le(nodeOff + 4);
  const end = nodeOff + nodeSize;
  if (end > b.length || valuesOffset < 16 || nodeOff + valuesOffset > end) {
    throw new GuestkitError('CORRUPT', `${b.what}: index node (values at ${valuesOffset}, size ${nodeSize}) is out of bounds`);
  }
  const out: IndexValue[] = [];
  let off = nodeOff + valuesOffset;
  // Each value takes at least 16 bytes, so this ends within (end - off) / 16 steps.
  for (;;) {
    if (off + 16 > end) throw new GuestkitError('CORRUPT', `${b.what}: index values run past the node's end without a last value`);
    // File reference: 48-bit entry index, 16-bit sequence (read as numbers: no BigInt per value).
    const entry = b.u32le(off) + b.u16le(off + 4) * 4294967296;
    const size = b.u16le(off + 8);
    const keySize = b.u16le(off + 10);
    const flags = b.u32le(off + 12);
    if (size < 16 || off + size > end || size % 8 !== 0) {
      throw new GuestkitError('CORRUPT', `${b.what}: index value at offset ${off} has an invalid size ${size}`);
    }
    const isLast = (flags & INDEX_VALUE_IS_LAST) !== 0;
    const hasSub = (flags & INDEX_VALUE_HAS_SUB_NODE) !== 0;
    if (!isLast && 16 + keySize > size - (hasSub ? 8 : 0)) {
      throw new GuestkitError('CORRUPT', `${b.what}: index value at offset ${off}: key of ${keySize} bytes is past its end`);
    }
    let subNodeVcn = -1;
    if (hasSub) {
      if (size < 24) throw new GuestkitError('CORRUPT', `${b.what}: index value at offset ${off} has no room for its sub-node VCN`);
      const hi = b.i32le(off + size - 4);
      if (hi < 0 || hi > 0x1fffff) throw new GuestkitError('CORRUPT', `${b.what}: index value at offset ${off}: sub-node VCN ${b.i64le(off + size - 8)} is invalid`);
      subNodeVcn = hi * 4294967296 + b.u32le(off + size - 8);
    }
    out.push({
      entry,
      flags,
      key: isLast ? NO_KEY : b.raw(off + 16, keySize),
      subNodeVcn,
    });
    if (isLast) return out;
    off += size;
  }
}

export function parseIndexRoot(value: Uint8Array, what: string): IndexRoot {
  const b = new Bytes(value, `${what}: $INDEX_ROOT`);
  if (value.length < 32) throw new GuestkitError('CORRUPT', `${b.what}: ${value.length} bytes is too short`);
  const indexEntrySize = b.u32le(8);
  if (indexEntrySize < 256 || indexEntrySize > 65536 || (indexEntrySize & (indexEntrySize - 1)) !== 0) {
    throw new GuestkitError('CORRUPT', `${b.what}: index entry size ${indexEntrySize} is invalid`);
  }
  return { attributeType: b.u32le(0), collation: b.u32le(4), indexEntrySize, values: parseIndexNode(b, 16) };
}

/**
 * An INDX record read from $INDEX_ALLOCATION at `vcn` (fix-ups are undone in `buf`).
 * The record must say it is at that VCN: anything else means a broken index.
 */
export function parseIndexRecord(buf: Uint8Array, vcn: number, what: string): IndexValue[] {
  const name = `${what}: index entry at VCN ${vcn}`;
  const b = new Bytes(buf, name);
  const magic = Buffer.from(b.raw(0, 4)).toString('latin1');
  if (magic !== 'INDX') throw new GuestkitError('CORRUPT', `${name}: bad signature ${JSON.stringify(magic)} (expected "INDX")`);
  applyFixups(buf, name);
  const self = b.u64leBig(16);
  if (self !== BigInt(vcn)) throw new GuestkitError('CORRUPT', `${name}: the record says it is at VCN ${self}`);
  return parseIndexNode(b, 24);
}

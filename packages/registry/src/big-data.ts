// Big data ("db"): value data over 16344 bytes in regf 1.4 and later, split into segments of
// 16344 bytes (the last one shorter) listed in a separate cell. Spec: msuhanov "Big data";
// libregf section 4.5 "Data block key".

import { Bytes, GuestkitError } from '@guestkit/core';
import type { CellSource } from './cell.js';
import { REGISTRY_LIMITS } from './limits.js';

export const DB_HEADER_SIZE = 8;

export interface BigData {
  segmentCount: number;
  segmentListOffset: number;
}

export function parseBigData(b: Bytes): BigData {
  if (b.length < DB_HEADER_SIZE || b.u8(0) !== 0x64 || b.u8(1) !== 0x62) {
    throw new GuestkitError('CORRUPT', `${b.what}: not a big data record (no "db" signature)`);
  }
  return { segmentCount: b.u16le(2), segmentListOffset: b.u32le(4) };
}

/**
 * Assemble `size` bytes of value data from the big data record at `dbOffset`. Each segment
 * contributes up to 16344 bytes (Windows ignores anything a larger segment cell holds beyond
 * that); the chain must hold enough segments.
 */
export function readBigData(cells: CellSource, dbOffset: number, size: number, owner: string): Uint8Array {
  const db = parseBigData(cells.data(dbOffset, `${owner}: big data record`));
  const seg = REGISTRY_LIMITS.bigDataSegment;
  if (size > REGISTRY_LIMITS.maxValueBytes) {
    throw new GuestkitError('LIMIT', `${cells.what}: ${owner}: big data of ${size} bytes exceeds the ${REGISTRY_LIMITS.maxValueBytes}-byte limit`);
  }
  // The value's data size leads (libregf, "data block segments size mismatch"): extra segments
  // are ignored, missing ones are an error.
  const needed = Math.ceil(size / seg);
  if (db.segmentCount < needed) {
    throw new GuestkitError('CORRUPT', `${cells.what}: ${owner}: big data record has ${db.segmentCount} segments, but ${size} bytes need ${needed}`);
  }
  const list = cells.data(db.segmentListOffset, `${owner}: big data segment list`);
  if (needed * 4 > list.length) {
    throw new GuestkitError('CORRUPT', `${list.what}: ${needed} segments run past the end of the cell (${list.length} bytes)`);
  }
  const out = new Uint8Array(size);
  let pos = 0;
  for (let i = 0; i < needed; i++) {
    const s = cells.data(list.u32le(i * 4), `${owner}: big data segment ${i}`);
    const n = Math.min(seg, size - pos);
    if (s.length < n) throw new GuestkitError('CORRUPT', `${s.what}: segment holds ${s.length} bytes, ${n} expected`);
    out.set(s.raw(0, n), pos);
    pos += n;
  }
  return out;
}

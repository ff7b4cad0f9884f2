// An rpm header blob as rpmdb stores it (rpm's lib/header.c headerImport; the on-disk format
// in rpm's "RPM file format" doc, "Header structure"): big-endian int32 index_length (il),
// int32 data_length (dl), il index entries {tag, type, offset, count} of 16 bytes, then dl
// bytes of data. Only the tags inspection needs are decoded.

import { GuestkitError } from '@guestkit/core';
import type { Application } from '../types.js';
import { clean } from './dpkg.js';

export const RPMTAG = {
  NAME: 1000, VERSION: 1001, RELEASE: 1002, EPOCH: 1003, SUMMARY: 1004, DESCRIPTION: 1005,
  URL: 1020, ARCH: 1022,
} as const;

/** rpm's header sanity limits (lib/header.c: hdrchkTags 0x0000ffff entries, hdrchkData 256 MiB). */
export const MAX_HEADER_TAGS = 0xffff;
export const MAX_HEADER_DATA = 256 * 1024 * 1024;

const RPM_INT32_TYPE = 4;
const RPM_STRING_TYPE = 6;
const RPM_STRING_ARRAY_TYPE = 8;
const RPM_I18NSTRING_TYPE = 9;

export interface RpmHeader {
  string(tag: number): string | undefined;
  int32(tag: number): number | undefined;
}

/** Parse a header blob; throws GuestkitError('CORRUPT') naming the defect. */
export function parseRpmHeader(blob: Uint8Array, where = 'rpm header'): RpmHeader {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const bad = (m: string) => new GuestkitError('CORRUPT', `${where}: ${m}`);
  if (b.length < 8) throw bad(`blob of ${b.length} bytes is shorter than its 8-byte preamble`);
  const il = b.readUInt32BE(0);
  const dl = b.readUInt32BE(4);
  if (il === 0 || il > MAX_HEADER_TAGS) throw bad(`index length ${il} out of range`);
  if (dl > MAX_HEADER_DATA) throw bad(`data length ${dl} out of range`);
  const dataStart = 8 + il * 16;
  if (dataStart + dl > b.length) throw bad(`index (${il} entries) and data (${dl} bytes) run past the blob (${b.length} bytes)`);
  const data = b.subarray(dataStart, dataStart + dl);
  const entries = new Map<number, { type: number; offset: number; count: number }>();
  for (let i = 0; i < il; i++) {
    const o = 8 + i * 16;
    const tag = b.readUInt32BE(o);
    if (!entries.has(tag)) entries.set(tag, { type: b.readUInt32BE(o + 4), offset: b.readInt32BE(o + 8), count: b.readUInt32BE(o + 12) });
  }
  const cstr = (off: number): string | undefined => {
    if (off < 0 || off >= data.length) return undefined;
    const end = data.indexOf(0, off);
    if (end < 0) return undefined;
    return data.toString('utf8', off, end);
  };
  return {
    string(tag) {
      const e = entries.get(tag);
      if (!e) return undefined;
      if (e.type === RPM_STRING_TYPE || e.type === RPM_STRING_ARRAY_TYPE || e.type === RPM_I18NSTRING_TYPE) return cstr(e.offset);
      if (e.type === RPM_INT32_TYPE) return this.int32(tag)?.toString();
      return undefined;
    },
    int32(tag) {
      const e = entries.get(tag);
      if (!e || e.type !== RPM_INT32_TYPE || e.count < 1) return undefined;
      if (e.offset < 0 || e.offset + 4 > data.length) return undefined;
      return data.readInt32BE(e.offset);
    },
  };
}

/** The application a header describes (libguestfs daemon/rpm-c.c: NAME, EPOCH, VERSION, RELEASE, ARCH, URL, SUMMARY, DESCRIPTION). */
export function applicationOfHeader(h: RpmHeader): Application | null {
  const name = h.string(RPMTAG.NAME);
  if (!name) return null;
  // headerFormat("%{TAG}") prints "(none)" for an absent tag: libguestfs passes that through.
  const f = (tag: number) => h.string(tag) ?? '(none)';
  return clean({
    name,
    epoch: h.int32(RPMTAG.EPOCH) ?? 0,
    version: f(RPMTAG.VERSION),
    release: f(RPMTAG.RELEASE),
    arch: f(RPMTAG.ARCH),
    url: f(RPMTAG.URL),
    summary: f(RPMTAG.SUMMARY),
    description: f(RPMTAG.DESCRIPTION),
  });
}

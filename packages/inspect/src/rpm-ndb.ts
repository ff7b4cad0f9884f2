// rpm's ndb `Packages.db` (openSUSE Tumbleweed 2021+, SLES 15 SP3+): rpm's own package store
// (rpm lib/backend/ndb/rpmpkg.c), every integer little-endian:
//   header (file offset 0, 32 bytes)  magic "RpmP", version 0, generation, slotnpages, nextpkgidx
//   slot area (slotnpages × 4096 bytes from offset 0; slots start after the header)
//                                     16-byte slots: magic "Slot", pkgidx, blkoff, blkcnt
//                                     (in 16-byte blocks); blkoff 0 = a free slot (an erase
//                                     writes all three 0; rpmpkgReadSlots skips on blkoff)
//   blob (at blkoff × 16, blkcnt × 16 bytes)
//                                     head: magic "BlbS", pkgidx, generation, bloblen;
//                                     the header blob; tail (last 12 bytes): adler32, bloblen, "BlbE"
// Magics, lengths, the slot's package index and the blob's adler32 are checked (rpmpkgReadBlob;
// rpm checks the adler32 only when it moves a blob, and on reads the header's own SHA256/SHA1
// digests instead: either way a damaged package is skipped). Freed space between blobs is zeros.
//
// Verified on databases written by rpm 4.18's ndb backend (test/inspector-ndb.test.ts: fresh,
// after erases that move blobs, 300 packages over two slot pages) against its `rpm -qa`.

import { Bytes, GuestkitError } from '@guestkit/core';

const PKGDB_MAGIC = 0x506d7052; // "RpmP"
const SLOT_MAGIC = 0x746f6c53; // "Slot"
const BLOBHEAD_MAGIC = 0x53626c42; // "BlbS"
const BLOBTAIL_MAGIC = 0x45626c42; // "BlbE"
const PKGDB_HEADER_SIZE = 32;
const SLOT_SIZE = 16;
const BLK_SIZE = 16;
const PAGE_SIZE = 4096;
const BLOBHEAD_SIZE = 16;
const BLOBTAIL_SIZE = 12;

/** A slot area larger than this is refused (64 MiB: four million packages). */
export const MAX_NDB_SLOT_PAGES = 16384;

/**
 * The header blobs of an ndb Packages.db, in package index order. A damaged slot area fails the
 * whole database (rpmpkgReadSlots does); a damaged blob (head, length, tail, adler32) fails it
 * too, unless `onBadBlob` is given: then that package is left out and reported, as `rpm -qa`
 * skips a package whose blob or header does not verify and lists the others.
 */
export function ndbHeaderBlobs(db: Uint8Array, what = 'Packages.db', onBadBlob?: (e: GuestkitError) => void): Uint8Array[] {
  const b = new Bytes(db, `${what}: ndb header`);
  if (db.length < PKGDB_HEADER_SIZE || b.u32le(0) !== PKGDB_MAGIC) throw new GuestkitError('CORRUPT', `${what}: not an rpm ndb database (bad magic)`);
  const version = b.u32le(4);
  if (version !== 0) throw new GuestkitError('UNSUPPORTED', `${what}: ndb version ${version}`);
  const slotnpages = b.u32le(12);
  if (slotnpages === 0 || slotnpages > MAX_NDB_SLOT_PAGES) throw new GuestkitError('CORRUPT', `${what}: ndb header: ${slotnpages} slot pages`);
  if (slotnpages * PAGE_SIZE > db.length) throw new GuestkitError('CORRUPT', `${what}: ndb slot area (${slotnpages} pages) is past the end of the file`);
  const slots = new Bytes(db.subarray(0, slotnpages * PAGE_SIZE), `${what}: ndb slot area`);
  const rows: { pkgidx: number; blob: Uint8Array }[] = [];
  const seen = new Set<number>();
  for (let off = PKGDB_HEADER_SIZE; off + SLOT_SIZE <= slots.length; off += SLOT_SIZE) {
    const slotno = (off - PKGDB_HEADER_SIZE) / SLOT_SIZE;
    if (slots.u32le(off) !== SLOT_MAGIC) throw new GuestkitError('CORRUPT', `${what}: ndb slot ${slotno}: bad magic`);
    const pkgidx = slots.u32le(off + 4);
    const blkoff = slots.u32le(off + 8);
    const blkcnt = slots.u32le(off + 12);
    // A free slot has no blob (rpmpkgReadSlots: blkoff 0; an erase writes pkgidx, blkoff and blkcnt 0).
    if (blkoff === 0) continue;
    if (pkgidx === 0) throw new GuestkitError('CORRUPT', `${what}: ndb slot ${slotno}: a blob without a package index`);
    if (seen.has(pkgidx)) throw new GuestkitError('CORRUPT', `${what}: ndb slot ${slotno}: package ${pkgidx} is in two slots`);
    seen.add(pkgidx);
    const start = blkoff * BLK_SIZE;
    const len = blkcnt * BLK_SIZE;
    if (start < slotnpages * PAGE_SIZE || len < BLOBHEAD_SIZE + BLOBTAIL_SIZE || start + len > db.length) {
      throw new GuestkitError('CORRUPT', `${what}: ndb slot ${slotno}: blob at block ${blkoff} (+${blkcnt}) is outside the file`);
    }
    try {
      rows.push({ pkgidx, blob: blobOf(new Bytes(db.subarray(start, start + len), `${what}: package ${pkgidx} blob`), pkgidx, blkcnt, what) });
    } catch (e) {
      if (!onBadBlob || !(e instanceof GuestkitError)) throw e;
      onBadBlob(e);
    }
  }
  return rows.sort((x, y) => x.pkgidx - y.pkgidx).map((r) => r.blob);
}

/** The header blob inside one blob (head, blob, zero padding, tail) of `blkcnt` blocks. */
function blobOf(blob: Bytes, pkgidx: number, blkcnt: number, what: string): Uint8Array {
  const bloblen = blob.u32le(12);
  if (blob.u32le(0) !== BLOBHEAD_MAGIC || blob.u32le(4) !== pkgidx) throw new GuestkitError('CORRUPT', `${what}: package ${pkgidx}: bad blob head`);
  if (blkcnt !== Math.ceil((BLOBHEAD_SIZE + bloblen + BLOBTAIL_SIZE) / BLK_SIZE)) throw new GuestkitError('CORRUPT', `${what}: package ${pkgidx}: blob of ${bloblen} bytes in ${blkcnt} blocks`);
  // The tail ends the last block (after the zero padding); its adler32 covers head, blob and padding.
  const tail = blob.length - BLOBTAIL_SIZE;
  if (blob.u32le(tail + 4) !== bloblen || blob.u32le(tail + 8) !== BLOBTAIL_MAGIC) throw new GuestkitError('CORRUPT', `${what}: package ${pkgidx}: bad blob tail`);
  if (blob.u32le(tail) !== adler32(blob.raw(0, tail))) throw new GuestkitError('CORRUPT', `${what}: package ${pkgidx}: adler32 mismatch`);
  return blob.raw(BLOBHEAD_SIZE, bloblen);
}

/** Adler-32 (RFC 1950 §8.2), as rpmpkg.c's update_adler32 from ADLER32_INIT = 1. */
function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; ) {
    const end = Math.min(data.length, i + 3800);
    for (; i < end; i++) {
      a += data[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

// rpm's Berkeley DB `Packages` file (RHEL/CentOS ≤ 8, SLES ≤ 15 SP2, Fedora ≤ 32): a Berkeley
// DB hash database whose keys are header instance numbers (u32, the writer's byte order) and
// whose data are the package header blobs. Read by our own page reader, never by libdb:
//   meta page (page 0)   DBMETA + HMETA (db-5.3 dbinc/db_page.h "Hash metadata page layout"):
//                        magic 0x061561, pagesize, last_pgno, max_bucket, spares[32]
//   bucket pages         P_HASH (13) / P_HASH_UNSORTED (2): PAGE header (26 bytes), then
//                        `entries` u16 item offsets inp[]; items come in key/data pairs, each
//                        H_KEYDATA (1: type byte + bytes to the previous item's offset) or
//                        H_OFFPAGE (3: HOFFPAGE {type, unused[3], pgno, tlen})
//   overflow pages       P_OVERFLOW (7): `hf_offset` bytes of the big item after the header,
//                        chained by next_pgno
// Bucket b is on page b + spares[⌈log2(b + 1)⌉] (BUCKET_TO_PAGE), its overflow bucket pages
// follow next_pgno. Every chain is bounded by the page count and loops are refused.

import { Bytes, GuestkitError } from '@guestkit/core';

export const BDB_HASH_MAGIC = 0x061561;
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_OFFPAGE = 3;
/** SIZEOF_PAGE: lsn(8) pgno prev_pgno next_pgno entries(2) hf_offset(2) level(1) type(1). */
const SIZEOF_PAGE = 26;
/** Hash meta page: spares[] at 96, 32 of them (NCACHED). */
const HMETA_SPARES = 96;
const NCACHED = 32;

/** Files larger than this are not read (a big RHEL 8 Packages is ~200 MiB). */
export const MAX_BDB_FILE = 1024 * 1024 * 1024;
/** One item (a header blob) larger than this is refused (rpm's headerImport caps headers at 256 MiB). */
export const MAX_BDB_ITEM = 256 * 1024 * 1024;

export interface BdbEntry {
  key: Uint8Array;
  data: Uint8Array;
}

/** The geometry of a hash database, from its meta page. */
export interface BdbHashMeta {
  littleEndian: boolean;
  version: number;
  pagesize: number;
  lastPgno: number;
  maxBucket: number;
  nelem: number;
  spares: number[];
}

class Reader {
  constructor(readonly b: Bytes, readonly le: boolean) {}
  u16(off: number): number {
    return this.le ? this.b.u16le(off) : this.b.u16be(off);
  }
  u32(off: number): number {
    return this.le ? this.b.u32le(off) : this.b.u32be(off);
  }
}

/** The hash meta page (page 0). */
export function readBdbHashMeta(db: Uint8Array, what = 'Packages'): BdbHashMeta {
  const b = new Bytes(db, `${what}: Berkeley DB meta page`);
  if (db.length < 512) throw new GuestkitError('CORRUPT', `${what}: not a Berkeley DB file (${db.length} bytes)`);
  let le: boolean;
  if (b.u32le(12) === BDB_HASH_MAGIC) le = true;
  else if (b.u32be(12) === BDB_HASH_MAGIC) le = false;
  else if (b.u32le(12) === 0x053162 || b.u32be(12) === 0x053162) throw new GuestkitError('UNSUPPORTED', `${what}: a Berkeley DB btree, not a hash database`);
  else throw new GuestkitError('CORRUPT', `${what}: not a Berkeley DB hash database (bad magic)`);
  const r = new Reader(b, le);
  const pagesize = r.u32(20);
  if (pagesize < 512 || pagesize > 65536 || (pagesize & (pagesize - 1)) !== 0) {
    throw new GuestkitError('CORRUPT', `${what}: Berkeley DB meta page: bad page size ${pagesize}`);
  }
  if (b.u8(25) !== P_HASHMETA) throw new GuestkitError('CORRUPT', `${what}: Berkeley DB meta page: page type ${b.u8(25)} is not a hash meta page`);
  if (b.u8(24) !== 0) throw new GuestkitError('UNSUPPORTED', `${what}: encrypted Berkeley DB`);
  if (b.u8(26) & 1) throw new GuestkitError('UNSUPPORTED', `${what}: Berkeley DB with page checksums`);
  const spares: number[] = [];
  for (let i = 0; i < NCACHED; i++) spares.push(r.u32(HMETA_SPARES + 4 * i));
  const lastPgno = r.u32(32);
  const maxBucket = r.u32(72);
  const pages = Math.floor(db.length / pagesize);
  if (lastPgno >= pages) throw new GuestkitError('CORRUPT', `${what}: Berkeley DB meta page: last page ${lastPgno} is past the end of the file (${pages} pages)`);
  if (maxBucket > lastPgno) throw new GuestkitError('CORRUPT', `${what}: Berkeley DB meta page: ${maxBucket + 1} buckets in ${lastPgno + 1} pages`);
  return { littleEndian: le, version: r.u32(16), pagesize, lastPgno, maxBucket, nelem: r.u32(88), spares };
}

/** __db_log2: the smallest i with 2^i ≥ n. */
function log2ceil(n: number): number {
  let i = 0;
  while (i < 32 && 2 ** i < n) i++;
  return i;
}

/** Every key/data pair of a Berkeley DB hash database, bucket by bucket. */
export function readBdbHash(db: Uint8Array, what = 'Packages'): BdbEntry[] {
  const meta = readBdbHashMeta(db, what);
  const ps = meta.pagesize;
  const page = (pgno: number, why: string): Reader => {
    if (pgno === 0 || pgno > meta.lastPgno) throw new GuestkitError('CORRUPT', `${what}: ${why}: page ${pgno} is out of range (last page ${meta.lastPgno})`);
    return new Reader(new Bytes(db.subarray(pgno * ps, (pgno + 1) * ps), `${what}: page ${pgno}`), meta.littleEndian);
  };

  /** A big item: `tlen` bytes over a chain of overflow pages from `pgno`. */
  const overflow = (pgno: number, tlen: number): Uint8Array => {
    if (tlen > MAX_BDB_ITEM) throw new GuestkitError('LIMIT', `${what}: an item of ${tlen} bytes exceeds ${MAX_BDB_ITEM}`);
    const out = new Uint8Array(tlen);
    let got = 0;
    let steps = 0;
    while (got < tlen) {
      if (pgno === 0) throw new GuestkitError('CORRUPT', `${what}: overflow chain ends after ${got} of ${tlen} bytes`);
      if (++steps > meta.lastPgno) throw new GuestkitError('LOOP', `${what}: overflow chain loops`);
      const p = page(pgno, 'overflow chain');
      if (p.b.u8(25) !== P_OVERFLOW) throw new GuestkitError('CORRUPT', `${what}: page ${pgno}: type ${p.b.u8(25)} in an overflow chain`);
      const len = p.u16(22);
      if (len > tlen - got) throw new GuestkitError('CORRUPT', `${what}: page ${pgno}: overflow page holds ${len} bytes, ${tlen - got} expected`);
      out.set(p.b.raw(SIZEOF_PAGE, len), got);
      got += len;
      pgno = p.u32(16);
    }
    return out;
  };

  const out: BdbEntry[] = [];
  const seen = new Set<number>();
  for (let bucket = 0; bucket <= meta.maxBucket; bucket++) {
    let pgno = bucket + meta.spares[log2ceil(bucket + 1)];
    while (pgno !== 0) {
      if (seen.has(pgno)) throw new GuestkitError('LOOP', `${what}: bucket ${bucket}: page ${pgno} is reached twice`);
      seen.add(pgno);
      const p = page(pgno, `bucket ${bucket}`);
      const type = p.b.u8(25);
      if (type !== P_HASH && type !== P_HASH_UNSORTED) throw new GuestkitError('CORRUPT', `${what}: bucket ${bucket}: page ${pgno} has type ${type}, not a hash page`);
      const entries = p.u16(20);
      if (SIZEOF_PAGE + 2 * entries > ps) throw new GuestkitError('CORRUPT', `${what}: page ${pgno}: ${entries} entries do not fit`);
      const offs: number[] = [];
      for (let i = 0; i < entries; i++) offs.push(p.u16(SIZEOF_PAGE + 2 * i));
      /** Item i: [start, end) within the page (LEN_HITEM). */
      const item = (i: number): Uint8Array | null => {
        const start = offs[i];
        const end = i === 0 ? ps : offs[i - 1];
        if (start < SIZEOF_PAGE + 2 * entries || end > ps || start >= end) throw new GuestkitError('CORRUPT', `${what}: page ${pgno}: item ${i} at ${start}…${end} is outside the page`);
        const t = p.b.u8(start);
        if (t === H_KEYDATA) return p.b.raw(start + 1, end - start - 1);
        if (t === H_OFFPAGE) {
          if (end - start < 12) throw new GuestkitError('CORRUPT', `${what}: page ${pgno}: short off-page item ${i}`);
          return overflow(p.u32(start + 4), p.u32(start + 8));
        }
        return null; // H_DUPLICATE / H_OFFDUP: not used by rpm's Packages (unique keys).
      };
      for (let i = 0; i + 1 < entries; i += 2) {
        const key = item(i);
        const data = item(i + 1);
        if (key && data) out.push({ key, data });
      }
      pgno = p.u32(16);
    }
  }
  return out;
}

/**
 * The header blobs of rpm's Packages database, in instance order. Key 0 (rpm's instance
 * counter) is not a package.
 */
export function bdbHeaderBlobs(db: Uint8Array, what = 'Packages'): Uint8Array[] {
  const meta = readBdbHashMeta(db, what);
  const rows: { n: number; data: Uint8Array }[] = [];
  for (const e of readBdbHash(db, what)) {
    if (e.key.length !== 4) continue;
    const k = new Bytes(e.key, `${what}: key`);
    const n = meta.littleEndian ? k.u32le(0) : k.u32be(0);
    if (n === 0) continue;
    rows.push({ n, data: e.data });
  }
  return rows.sort((a, b) => a.n - b.n).map((r) => r.data);
}

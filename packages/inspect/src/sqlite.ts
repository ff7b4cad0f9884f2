// A read-only reader of SQLite 3 database files, enough to list the rows of one rowid table
// (the SQLite Database File Format, https://www.sqlite.org/fileformat2.html): the database
// header (§1.3), table b-tree pages (§1.6: interior 0x05, leaf 0x0d), cell payloads with their
// overflow page chains (§1.6 "cell payload overflow"), record format (§2.1) and the schema table
// sqlite_schema on page 1 (§2.6). Index b-trees, WAL files and free pages are never read: the
// rows are those of the main database file as last checkpointed. Every page is visited at most
// once per walk (a loop in a hostile file is an error), depth is bounded, and every field is
// read through Bytes.

import { Bytes, GuestkitError } from '@guestkit/core';

/** "SQLite format 3\0" (§1.3.1). */
const MAGIC = 'SQLite format 3\0';
const HEADER_SIZE = 100;
const PAGE_TABLE_INTERIOR = 0x05;
const PAGE_TABLE_LEAF = 0x0d;
/** A table b-tree deeper than this is a loop or a hostile file (SQLite itself stops at 20). */
export const MAX_SQLITE_DEPTH = 40;

/** One column value of a record (§2.1 serial types). */
export type SqliteValue = null | number | bigint | string | Uint8Array;

export interface SqliteRow {
  rowid: number;
  values: SqliteValue[];
}

/** §1.3: page size 512…65536 (a stored 1 means 65536), reserved bytes per page, text encoding. */
export class SqliteDb {
  readonly pageSize: number;
  readonly usable: number;
  readonly encoding: number;
  private readonly b: Bytes;

  constructor(readonly file: Uint8Array, readonly what = 'SQLite database') {
    this.b = new Bytes(file, `${what}: database header`);
    if (file.length < HEADER_SIZE || Buffer.from(file.subarray(0, 16)).toString('latin1') !== MAGIC) {
      throw new GuestkitError('CORRUPT', `${what}: not an SQLite 3 database (bad magic)`);
    }
    const ps = this.b.u16be(16);
    this.pageSize = ps === 1 ? 65536 : ps;
    if (this.pageSize < 512 || (this.pageSize & (this.pageSize - 1)) !== 0) {
      throw new GuestkitError('CORRUPT', `${what}: database header: page size ${ps}`);
    }
    this.usable = this.pageSize - this.b.u8(20);
    if (this.usable < 480) throw new GuestkitError('CORRUPT', `${what}: database header: ${this.b.u8(20)} reserved bytes per page`);
    this.encoding = this.b.u32be(56) || 1;
    if (this.encoding < 1 || this.encoding > 3) throw new GuestkitError('CORRUPT', `${what}: database header: text encoding ${this.encoding}`);
  }

  get pageCount(): number {
    return Math.floor(this.file.length / this.pageSize);
  }

  private page(n: number, why: string): Bytes {
    if (n < 1 || n > this.pageCount) throw new GuestkitError('CORRUPT', `${this.what}: ${why}: page ${n} is outside the file (${this.pageCount} pages)`);
    return new Bytes(this.file.subarray((n - 1) * this.pageSize, n * this.pageSize), `${this.what}: page ${n}`);
  }

  /** The rows of the table b-tree rooted at `root`, in rowid order. */
  tableRows(root: number, maxRows: number): SqliteRow[] {
    const rows: SqliteRow[] = [];
    const seen = new Set<number>();
    const walk = (n: number, depth: number): void => {
      if (depth > MAX_SQLITE_DEPTH) throw new GuestkitError('CORRUPT', `${this.what}: table b-tree deeper than ${MAX_SQLITE_DEPTH}`);
      if (seen.has(n)) throw new GuestkitError('CORRUPT', `${this.what}: table b-tree page ${n} is reached twice (loop)`);
      seen.add(n);
      const p = this.page(n, 'table b-tree');
      const h = n === 1 ? HEADER_SIZE : 0; // §1.6: page 1's b-tree header follows the database header
      const type = p.u8(h);
      const cells = p.u16be(h + 3);
      if (type === PAGE_TABLE_INTERIOR) {
        for (let i = 0; i < cells; i++) walk(p.u32be(p.u16be(h + 12 + 2 * i)), depth + 1);
        walk(p.u32be(h + 8), depth + 1); // right-most pointer
      } else if (type === PAGE_TABLE_LEAF) {
        for (let i = 0; i < cells; i++) {
          if (rows.length >= maxRows) throw new GuestkitError('LIMIT', `${this.what}: more than ${maxRows} rows`);
          rows.push(this.leafCell(p, n, p.u16be(h + 8 + 2 * i)));
        }
      } else {
        throw new GuestkitError('CORRUPT', `${this.what}: page ${n}: b-tree page type ${type} where a table page was expected`);
      }
    };
    walk(root, 0);
    return rows;
  }

  /** §1.6 table leaf cell: payload size, rowid, local payload, first overflow page. */
  private leafCell(p: Bytes, n: number, off: number): SqliteRow {
    const [P, o1] = varint(p, off);
    const [rowid, o] = varint(p, o1);
    const U = this.usable;
    const X = U - 35;
    if (P > this.pageCount * U) throw new GuestkitError('CORRUPT', `${this.what}: page ${n}: row ${rowid} payload of ${P} bytes is larger than the file`);
    let local = P;
    if (P > X) {
      const M = Math.floor(((U - 12) * 32) / 255) - 23;
      const K = M + ((P - M) % (U - 4));
      local = K <= X ? K : M;
    }
    const payload = new Uint8Array(P);
    payload.set(p.raw(o, local), 0);
    if (local < P) {
      // Overflow chain: each page is a 4-byte next-page number and U − 4 bytes of payload.
      let next = p.u32be(o + local);
      let have = local;
      let hops = 0;
      while (have < P) {
        if (next === 0 || ++hops > this.pageCount) throw new GuestkitError('CORRUPT', `${this.what}: page ${n}: overflow chain of row ${rowid} ends early or loops`);
        const op = this.page(next, `overflow of row ${rowid}`);
        const take = Math.min(U - 4, P - have);
        payload.set(op.raw(4, take), have);
        have += take;
        next = op.u32be(0);
      }
    }
    return { rowid, values: this.record(new Bytes(payload, `${this.what}: row ${rowid}`)) };
  }

  /** §2.1 record: header size, serial types, then the values. */
  private record(r: Bytes): SqliteValue[] {
    const [hsize, start] = varint(r, 0);
    const types: number[] = [];
    let o = start;
    while (o < hsize) {
      const [t, o2] = varint(r, o);
      types.push(Number(t));
      o = o2;
    }
    let d = hsize;
    const out: SqliteValue[] = [];
    for (const t of types) {
      if (t === 0) out.push(null);
      else if (t >= 1 && t <= 6) {
        // Big-endian two's complement integers of 1, 2, 3, 4, 6 or 8 bytes.
        const len = [0, 1, 2, 3, 4, 6, 8][t];
        r.raw(d, len);
        let v = 0n;
        for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(r.buf[d + i]);
        if (v >= 1n << BigInt(8 * len - 1)) v -= 1n << BigInt(8 * len);
        out.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        d += len;
      } else if (t === 7) {
        r.raw(d, 8);
        out.push(r.dv.getFloat64(d, false));
        d += 8;
      } else if (t === 8 || t === 9) out.push(t - 8);
      else if (t >= 12) {
        const len = Math.floor((t - 12) / 2);
        const raw = r.raw(d, len);
        d += len;
        if (t % 2 === 0) out.push(raw);
        else out.push(this.encoding === 1 ? Buffer.from(raw).toString('utf8') : this.encoding === 2 ? Buffer.from(raw).toString('utf16le') : Buffer.from(raw).swap16().toString('utf16le'));
      } else throw new GuestkitError('CORRUPT', `${r.what}: reserved serial type ${t}`);
    }
    return out;
  }

  /** §2.6 sqlite_schema: the root page of table `name` (case-insensitive, as SQL names are), or null. */
  tableRoot(name: string): number | null {
    for (const row of this.tableRows(1, 1_000_000)) {
      const [type, n, , rootpage] = row.values;
      if (type === 'table' && typeof n === 'string' && n.toLowerCase() === name.toLowerCase() && typeof rootpage === 'number') return rootpage;
    }
    return null;
  }
}

/**
 * §1.5 varint: 1–9 bytes, big-endian, 7 bits per byte with the high bit as "more", the 9th byte
 * whole. Sizes, rowids and header lengths here are far below 2^53; a larger one is refused.
 */
function varint(b: Bytes, off: number): [number, number] {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    const c = b.u8(off + i);
    v = i === 8 ? v * 256 + c : v * 128 + (c & 0x7f);
    if (!Number.isSafeInteger(v)) throw new GuestkitError('CORRUPT', `${b.what}: varint at offset ${off} is too large`);
    if (i === 8 || (c & 0x80) === 0) return [v, off + i + 1];
  }
  throw new Error('unreachable');
}

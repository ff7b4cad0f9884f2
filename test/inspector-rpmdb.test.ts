// rpm's Berkeley DB `Packages` databases read by our own page reader (packages/inspect/src/rpm-bdb.ts),
// on real databases (images/recipes/phony-rpmdb.mjs: packages made by rpmbuild, installed by
// `rpm --justdb`, their headers loaded into hash databases by libdb's db5.3_load) and held
// against rpm's own reader (`rpm --define '_db_backend bdb_ro' -qa`, rpm-qa.txt).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { DiskSet, GuestkitError } from '@guestkit/core';
import {
  inspectGuest, inspectorXml, bdbHeaderBlobs, readBdbHashMeta, readBdbHash, parseRpmHeader, RPMTAG, sqliteHeaderBlobs,
  applicationOfHeader, SqliteDb,
} from '@guestkit/inspect';
import { ensureImage } from './helpers/images.js';

/** rpm-qa.txt lines: NAME EPOCHNUM VERSION RELEASE ARCH SUMMARY URL, tab-separated; sorted. */
const oracle = (dir: string) => readFileSync(`${dir}/rpm-qa.txt`, 'utf8').trim().split('\n').sort();

function ours(blobs: Uint8Array[]): string[] {
  return blobs.map((b, i) => {
    const a = applicationOfHeader(parseRpmHeader(b, `package ${i + 1}`))!;
    return [a.name, a.epoch, a.version, a.release, a.arch, a.summary, a.url].join('\t');
  }).sort();
}

describe('rpm Berkeley DB Packages reader', () => {
  let dir: string;
  beforeAll(() => {
    dir = ensureImage('phony-rpmdb');
  });

  it('4 KiB pages: the packages rpm lists, header blobs identical to the sqlite rpmdb', async () => {
    const db = readFileSync(`${dir}/bdb4k/Packages`);
    const meta = readBdbHashMeta(db);
    expect(meta).toMatchObject({ pagesize: 4096, littleEndian: true, version: 9 });
    const blobs = bdbHeaderBlobs(db);
    expect(ours(blobs)).toEqual(oracle(`${dir}/bdb4k`));
    expect(blobs.map((b) => Buffer.from(b))).toEqual((await sqliteHeaderBlobs(readFileSync(`${dir}/sqlite/rpmdb.sqlite`))).map((b) => Buffer.from(b)));
    // gk-test3's ~30 KiB header is a big item over overflow pages; its description survives whole.
    const big = blobs.map((b) => parseRpmHeader(b)).find((h) => h.string(RPMTAG.NAME) === 'gk-test3')!;
    expect(big.string(RPMTAG.DESCRIPTION)!.split('\n')).toHaveLength(300);
    // Key 0 is rpm's instance counter, not a package.
    expect(readBdbHash(db).length).toBe(4);
  });

  it('512-byte pages, 150 instances: buckets over several split points, every header a big item', () => {
    const db = readFileSync(`${dir}/bdb512/Packages`);
    const meta = readBdbHashMeta(db);
    expect(meta.pagesize).toBe(512);
    expect(meta.maxBucket).toBeGreaterThan(4); // buckets over several split points (spares[0..3])
    const blobs = bdbHeaderBlobs(db);
    expect(blobs).toHaveLength(150);
    expect(ours(blobs)).toEqual(oracle(`${dir}/bdb512`));
  });

  it('bad input: one typed error, never a hang', () => {
    const db = readFileSync(`${dir}/bdb4k/Packages`);
    const err = (b: Uint8Array) => {
      try {
        bdbHeaderBlobs(b);
      } catch (e) {
        expect(e).toBeInstanceOf(GuestkitError);
        return (e as GuestkitError).code;
      }
      return 'none';
    };
    expect(err(db.subarray(0, 100))).toBe('CORRUPT');
    expect(err(db.subarray(0, 8192))).toBe('CORRUPT'); // last_pgno past the end
    const badMagic = Buffer.from(db);
    badMagic.writeUInt32LE(0x12345678, 12);
    expect(err(badMagic)).toBe('CORRUPT');
    // Every page's next_pgno pointing to itself: bucket and overflow chains loop.
    const loop = Buffer.from(db);
    for (let p = 1; p * 4096 < loop.length; p++) loop.writeUInt32LE(p, p * 4096 + 16);
    expect(['LOOP', 'CORRUPT']).toContain(err(loop));
    // Item offsets outside the page.
    const offs = Buffer.from(db);
    for (let p = 1; p * 4096 < offs.length; p++) if (offs[p * 4096 + 25] === 13) offs.writeUInt16LE(0xffff, p * 4096 + 26);
    expect(err(offs)).toBe('CORRUPT');
  });

  it('inspector lists the applications of a phony RHEL 8 root with /var/lib/rpm/Packages', async () => {
    const warnings: string[] = [];
    const disks = DiskSet.open([{ path: `${dir}/rhel.img`, format: 'raw' }]);
    try {
      const oses = await inspectGuest(disks, { warn: (m) => warnings.push(m) });
      expect(warnings).toEqual([]);
      expect(oses).toHaveLength(1);
      expect(oses[0]).toMatchObject({ distro: 'rhel', majorVersion: 8, minorVersion: 6, packageFormat: 'rpm', packageManagement: 'dnf' });
      const apps = oses[0].applications!;
      expect(apps.map((a) => [a.name, a.epoch, a.version, a.release, a.arch, a.summary, a.url].join('\t')).sort()).toEqual(oracle(`${dir}/bdb4k`));
      expect(inspectorXml(oses)).toContain('<name>gk-test3</name>');
    } finally {
      disks.close();
    }
  });
});

// Our SQLite table reader (packages/inspect/src/sqlite.ts, which reads rpmdb.sqlite) against the
// sqlite3 CLI on databases it writes: small pages and reserved bytes (so every large row has an
// overflow chain and the table b-tree has interior levels), every serial type.
describe('SQLite table reader vs sqlite3', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gk-sqlite-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const make = (name: string, pragmas: string, rows: number) => {
    const db = join(dir, name);
    // Deterministic contents: blobs of 0…4999 bytes, texts, ints of every width, floats, NULLs.
    const sql = `${pragmas}
      CREATE TABLE Other(x); INSERT INTO Other VALUES (1);
      CREATE TABLE "Packages" (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL, t TEXT, i INTEGER, f REAL, n);
      WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < ${rows})
      INSERT INTO Packages SELECT k * 3, CAST(zeroblob((k * 7919) % 5000) || x'00ff' || k AS BLOB), 'row ' || k || ' é',
        CASE k % 7 WHEN 0 THEN 0 WHEN 1 THEN 1 WHEN 2 THEN -100 WHEN 3 THEN 40000 WHEN 4 THEN -8000000 WHEN 5 THEN 1099511627776 ELSE -4611686018427387904 END,
        k / 8.0, NULL FROM c;
      DELETE FROM Packages WHERE hnum % 15 = 0;`;
    execFileSync('sqlite3', [db], { input: sql });
    return db;
  };
  const oracle = (db: string) => execFileSync('sqlite3', ['-separator', '\t', db, "SELECT hnum, hex(blob), t, i, quote(f), quote(n) FROM Packages ORDER BY hnum"], { encoding: 'utf8', maxBuffer: 1 << 28 })
    .trim().split('\n');

  for (const [name, pragmas, rows] of [['p512.sqlite', 'PRAGMA page_size=512;', 3000], ['p4096.sqlite', 'PRAGMA page_size=4096;', 500], ['p1024-wal.sqlite', 'PRAGMA page_size=1024; PRAGMA journal_mode=WAL;', 800]] as const) {
    it(`${name}: every row and column as sqlite3 gives them`, () => {
      const db = new SqliteDb(readFileSync(make(name, pragmas, rows)), name);
      const root = db.tableRoot('packages')!;
      const rowsOut = db.tableRows(root, 1_000_000);
      const ours = rowsOut.map((r) => {
        const [, blob, t, i, f, n] = r.values;
        const q = (x: unknown) => (x === null ? 'NULL' : Number.isInteger(x) ? `${x}.0` : String(x));
        return [r.rowid, Buffer.from(blob as Uint8Array).toString('hex').toUpperCase(), t, String(i), q(f), n === null ? 'NULL' : String(n)].join('\t');
      });
      const theirs = oracle(join(dir, name));
      // The first differing row (not a diff of megabytes of hex).
      const at = ours.findIndex((r, i) => r !== theirs[i]);
      expect(at === -1 ? null : [ours[at]?.slice(0, 200), theirs[at]?.slice(0, 200)]).toBeNull();
      expect(ours.length).toBe(theirs.length);
      expect(rowsOut.length).toBeGreaterThan(rows / 2);
    });
  }

  it('bad input: typed CORRUPT errors, never a hang', async () => {
    const file = readFileSync(make('bad.sqlite', 'PRAGMA page_size=512;', 400));
    const code = async (b: Uint8Array) => sqliteHeaderBlobs(b).then(() => 'none', (e) => (e instanceof GuestkitError ? e.code : String(e)));
    expect(await code(file.subarray(0, 99))).toBe('CORRUPT');
    const ps = Buffer.from(file);
    ps.writeUInt16BE(700, 16); // page size not a power of two
    expect(await code(ps)).toBe('CORRUPT');
    expect(await code(file.subarray(0, 512 * 3))).toBe('CORRUPT'); // pages cut off
    // Every interior page's right-most pointer to page 2: a loop (or a page of the wrong type).
    const loop = Buffer.from(file);
    for (let p = 1; p * 512 < loop.length; p++) if (loop[p * 512] === 0x05) loop.writeUInt32BE(p + 1, p * 512 + 8);
    expect(await code(loop)).toBe('CORRUPT');
    // Cell pointers outside their page.
    const cells = Buffer.from(file);
    for (let p = 1; p * 512 < cells.length; p++) if (cells[p * 512] === 0x0d) cells.writeUInt16BE(0xfff0, p * 512 + 8);
    expect(await code(cells)).toBe('CORRUPT');
  });
});

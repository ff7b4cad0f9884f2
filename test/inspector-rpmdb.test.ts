// rpm's Berkeley DB `Packages` databases read by our own page reader (packages/inspect/src/rpm-bdb.ts),
// on real databases (images/recipes/phony-rpmdb.mjs: packages made by rpmbuild, installed by
// `rpm --justdb`, their headers loaded into hash databases by libdb's db5.3_load) and held
// against rpm's own reader (`rpm --define '_db_backend bdb_ro' -qa`, rpm-qa.txt).
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { DiskSet, GuestkitError } from '@guestkit/core';
import {
  inspectGuest, inspectorXml, bdbHeaderBlobs, readBdbHashMeta, readBdbHash, parseRpmHeader, RPMTAG, sqliteHeaderBlobs,
  applicationOfHeader, ndbHeaderBlobs,
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

  // No real ndb database can be made here (Debian's rpm has no ndb backend): bad input only.
  it('ndb Packages.db: bad input gives one typed CORRUPT error', () => {
    const code = (b: Uint8Array) => {
      try {
        ndbHeaderBlobs(b);
        return 'none';
      } catch (e) {
        expect(e).toBeInstanceOf(GuestkitError);
        return (e as GuestkitError).code;
      }
    };
    expect(code(new Uint8Array(4096))).toBe('CORRUPT'); // no "RpmP"
    const page = () => {
      const b = Buffer.alloc(8192);
      b.write('RpmP', 0, 'latin1');
      b.writeUInt32LE(1, 12); // one slot page
      for (let o = 32; o < 4096; o += 16) b.write('Slot', o, 'latin1');
      return b;
    };
    const huge = page();
    huge.writeUInt32LE(1000, 12); // slot area past the end of the file
    expect(code(huge)).toBe('CORRUPT');
    const outside = page();
    outside.writeUInt32LE(1, 36); // slot 0: package 1 at block 100000
    outside.writeUInt32LE(100000, 40);
    outside.writeUInt32LE(4, 44);
    expect(code(outside)).toBe('CORRUPT');
    const noBlob = page();
    noBlob.writeUInt32LE(1, 36); // package 1 at block 256 (offset 4096): zeros, no "BlbS"
    noBlob.writeUInt32LE(256, 40);
    noBlob.writeUInt32LE(4, 44);
    expect(code(noBlob)).toBe('CORRUPT');
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

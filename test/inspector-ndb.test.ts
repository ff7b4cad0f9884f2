// rpm's ndb `Packages.db` (openSUSE, SLES) read by packages/inspect/src/rpm-ndb.ts, on databases
// written by rpm 4.18's own ndb backend (images/recipes/inspect-ndb-rpm.mjs rebuilds Debian's rpm
// with --enable-ndb; inspect-ndb.mjs installs rpmbuild packages with it) and held against that
// rpm's `-qa` (rpm-qa.txt files): a fresh database, the same after an erase and a later install
// (a freed slot, blobs moved into the hole), 300 packages over two slot pages with every seventh
// erased, and an openSUSE Tumbleweed root on a disk, inspected whole.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestkitError } from '@guestkit/core';
import { ndbHeaderBlobs, parseRpmHeader, applicationOfHeader, RPMTAG, type Application } from '@guestkit/inspect';
import { ensureImage, ROOT } from './helpers/images.js';
import { inspectImage } from './helpers/inspector.js';

/** rpm-qa.txt lines: NAME EPOCHNUM VERSION RELEASE ARCH SUMMARY URL, tab-separated; sorted. */
const oracle = (file: string) => readFileSync(file, 'utf8').trim().split('\n').sort();
const line = (a: Application) => [a.name, a.epoch, a.version, a.release, a.arch, a.summary, a.url].join('\t');
const ours = (blobs: Uint8Array[]) => blobs.map((b, i) => line(applicationOfHeader(parseRpmHeader(b, `package ${i + 1}`))!)).sort();
const names = (blobs: Uint8Array[]) => blobs.map((b) => parseRpmHeader(b).string(RPMTAG.NAME));

/** ndb's slot area (rpmpkg.c): [pkgidx, blkoff, blkcnt] of every slot, in slot order. */
function slots(db: Buffer): number[][] {
  const out: number[][] = [];
  for (let o = 32; o < db.readUInt32LE(12) * 4096; o += 16) out.push([db.readUInt32LE(o + 4), db.readUInt32LE(o + 8), db.readUInt32LE(o + 12)]);
  return out;
}

function code(b: Uint8Array): string {
  try {
    ndbHeaderBlobs(b);
    return 'none';
  } catch (e) {
    expect(e).toBeInstanceOf(GuestkitError);
    return (e as GuestkitError).code;
  }
}

describe('rpm ndb Packages.db: hand-made bad input', () => {
  it('one typed CORRUPT error', () => {
    expect(code(new Uint8Array(4096))).toBe('CORRUPT'); // no "RpmP"
    const page = () => {
      const b = Buffer.alloc(8192);
      b.write('RpmP', 0, 'latin1');
      b.writeUInt32LE(1, 12); // one slot page
      for (let o = 32; o < 4096; o += 16) b.write('Slot', o, 'latin1');
      return b;
    };
    expect(ndbHeaderBlobs(page())).toEqual([]); // all slots free
    const huge = page();
    huge.writeUInt32LE(1000, 12); // slot area past the end of the file
    expect(code(huge)).toBe('CORRUPT');
    const outside = page();
    outside.writeUInt32LE(1, 36); // first slot: package 1 at block 100000
    outside.writeUInt32LE(100000, 40);
    outside.writeUInt32LE(4, 44);
    expect(code(outside)).toBe('CORRUPT');
    const noBlob = page();
    noBlob.writeUInt32LE(1, 36); // package 1 at block 256 (offset 4096): zeros, no "BlbS"
    noBlob.writeUInt32LE(256, 40);
    noBlob.writeUInt32LE(4, 44);
    expect(code(noBlob)).toBe('CORRUPT');
    expect(ndbHeaderBlobs(noBlob, 'Packages.db', () => {})).toEqual([]); // with onBadBlob: left out
  });
});

describe('rpm ndb Packages.db written by rpm 4.18 (--enable-ndb)', () => {
  let dir: string;
  beforeAll(() => {
    dir = ensureImage('inspect-ndb');
  });

  it('the rebuilt rpm has the ndb backend', () => {
    expect(readFileSync(join(ROOT, 'images/out/inspect-ndb-rpm/showrc.txt'), 'utf8')).toMatch(/available backends\s*:.*\bndb\b/);
  });

  it('fresh database: exactly the packages rpm -qa lists', () => {
    const db = readFileSync(join(dir, 'fresh/Packages.db'));
    const blobs = ndbHeaderBlobs(db);
    expect(ours(blobs)).toEqual(oracle(join(dir, 'fresh/rpm-qa.txt')));
    expect(blobs).toHaveLength(7);
    // Package index order is install order; rpm numbered them from 1.
    expect(slots(db).filter((s) => s[1]).map((s) => s[0]).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const epoch = blobs.map((b) => parseRpmHeader(b)).find((h) => h.string(RPMTAG.NAME) === 'gk-epoch')!;
    expect(epoch.string(RPMTAG.DESCRIPTION)!.split('\n')).toHaveLength(40);
  });

  it('after rpm -e and a later rpm -i: the freed slot and moved blobs read as rpm reads them', () => {
    const fresh = readFileSync(join(dir, 'fresh/Packages.db'));
    const db = readFileSync(join(dir, 'Packages.db'));
    const blobs = ndbHeaderBlobs(db);
    expect(ours(blobs)).toEqual(oracle(join(dir, 'rpm-qa.txt')));
    expect(names(blobs)).not.toContain('gk-erased');
    expect(names(blobs)).toContain('gk-late');
    expect(blobs).toHaveLength(7);
    // The erase changed where blobs live (rpmpkgDelInternal moves the last blobs into the hole).
    const before = new Map(slots(fresh).filter((s) => s[1]).map((s) => [s[0], s[1]]));
    const after = slots(db).filter((s) => s[1]);
    expect(after.some(([idx, off]) => before.has(idx) && before.get(idx) !== off)).toBe(true);
    expect(Math.max(...after.map((s) => s[0]))).toBe(8); // gk-late got a new package index
  });

  it('300 packages over two slot pages, every seventh erased', () => {
    const db = readFileSync(join(dir, 'many/Packages.db'));
    expect(db.readUInt32LE(12)).toBeGreaterThanOrEqual(2);
    const blobs = ndbHeaderBlobs(db);
    const theirs = oracle(join(dir, 'many/rpm-qa.txt'));
    expect(ours(blobs)).toEqual(theirs);
    expect(blobs.length).toBe(300 - Math.ceil((300 - 3) / 7));
    expect(slots(db).filter((s) => s[1] === 0).length).toBeGreaterThan(0);
  });

  it('bad input from the real database: typed CORRUPT errors', () => {
    const db = readFileSync(join(dir, 'fresh/Packages.db'));
    const used = slots(db).findIndex((s) => s[1] !== 0);
    const so = 32 + used * 16;
    const [, blkoff, blkcnt] = slots(db)[used];
    expect(code(db.subarray(0, db.length - 16))).toBe('CORRUPT'); // last blob cut off
    const flip = Buffer.from(db);
    flip[blkoff * 16 + 40] ^= 0x20; // a byte of the header blob: adler32 no longer matches
    expect(code(flip)).toBe('CORRUPT');
    const noIdx = Buffer.from(db);
    noIdx.writeUInt32LE(0, so + 4); // a blob with package index 0
    expect(code(noIdx)).toBe('CORRUPT');
    const other = Buffer.from(db);
    other.writeUInt32LE(db.readUInt32LE(so + 4) + 100, so + 4); // the slot names another package than its blob
    expect(code(other)).toBe('CORRUPT');
    const count = Buffer.from(db);
    count.writeUInt32LE(blkcnt + 1, so + 12);
    expect(code(count)).toBe('CORRUPT');
    const magic = Buffer.from(db);
    magic.write('Slit', so, 'latin1');
    expect(code(magic)).toBe('CORRUPT');
    // A slot with blkoff 0 is free whatever else it holds (rpmpkgReadSlots): one package fewer.
    const freed = Buffer.from(db);
    freed.writeUInt32LE(0, so + 8);
    expect(ndbHeaderBlobs(freed)).toHaveLength(6);
    // With onBadBlob, a damaged blob drops only its package (rpm -qa skips it, lists the rest).
    const bad: string[] = [];
    expect(ndbHeaderBlobs(flip, 'Packages.db', (e) => bad.push(e.message))).toHaveLength(6);
    expect(bad).toEqual([`Packages.db: package ${db.readUInt32LE(so + 4)}: adler32 mismatch`]);
    expect(code(magic)).toBe('CORRUPT'); // the slot area still fails the whole database
  });
});

describe('openSUSE Tumbleweed root with an ndb rpm database', () => {
  let dir: string;
  beforeAll(() => {
    dir = ensureImage('inspect-ndb');
  });

  it('inspector: the applications rpm -qa lists, no warnings', async () => {
    const { oses, warnings } = await inspectImage(join(dir, 'opensuse.img'));
    expect(warnings).toEqual([]);
    expect(oses).toHaveLength(1);
    expect(oses[0]).toMatchObject({ type: 'linux', distro: 'opensuse', packageFormat: 'rpm', packageManagement: 'zypper', arch: 'x86_64', hostname: 'opensuse-ndb.invalid' });
    expect(oses[0].applications!.map(line).sort()).toEqual(oracle(join(dir, 'rpm-qa.txt')));
  });

  // virt-inspector (libguestfs 1.48) reads the rpm database with the appliance's librpm, Debian's
  // rpm 4.18 without ndb: its <applications/> is empty. Everything else is compared whole.
  it("XML equals virt-inspector's, except the applications it cannot read", async () => {
    const { xml } = await inspectImage(join(dir, 'opensuse.img'), { icon: true });
    const golden = readFileSync(join(ROOT, 'test/goldens/inspector/opensuse.xml'), 'utf8');
    expect(golden).toContain('<applications/>');
    expect(xml.match(/<application>/g)).toHaveLength(7);
    expect(xml.replace(/<applications>.*<\/applications>/s, '<applications/>')).toBe(golden);
  });

  it('a damaged blob in the guest: the other packages and one warning', async () => {
    const img = readFileSync(join(dir, 'opensuse.img'));
    const db = readFileSync(join(dir, 'Packages.db'));
    const so = 32 + slots(db).findIndex((s) => s[1] !== 0) * 16;
    const head = db.subarray(db.readUInt32LE(so + 8) * 16, db.readUInt32LE(so + 8) * 16 + 256); // the blob's start, where mke2fs -d put it
    const at = img.indexOf(head);
    expect(at).toBeGreaterThan(0);
    expect(img.indexOf(head, at + 1)).toBe(-1);
    img[at + 40] ^= 0x20;
    const tmp = mkdtempSync(join(tmpdir(), 'gk-ndb-'));
    try {
      writeFileSync(join(tmp, 'opensuse.img'), img);
      const { oses, warnings } = await inspectImage(join(tmp, 'opensuse.img'));
      expect(oses[0].applications).toHaveLength(6);
      expect(warnings).toEqual([`/var/lib/rpm/Packages.db: package ${db.readUInt32LE(so + 4)}: adler32 mismatch`]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

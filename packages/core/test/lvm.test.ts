// LVM2 reader on images built inside libguestfs's appliance (recipe lvm-images), compared with
// what LVM itself reported there (pvs-full, vgs-full, lvs-full, lvs, `lvm lvs -a`, and
// `checksum-device sha256` of every readable LV). Bad input: copies with single fields broken
// by hand.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, copyFileSync, mkdtempSync, rmSync, openSync, writeSync, closeSync, readdirSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { RawFile, SliceDevice, GuestkitError, LIMITS, setWarningSink, type BlockDevice } from '@guestkit/core';
import { scanLvm, compactLvmId, calcCrc, parseConfig, type PhysicalVolumeCandidate, type LvmScan } from '../src/volume/lvm/index.js';
import { readPvLabel, LVM_INITIAL_CRC } from '../src/volume/lvm/label.js';
import { readMdaHeader, readMetadataText, MDA_HEADER_SIZE } from '../src/volume/lvm/metadata-area.js';
import { interpretVg } from '../src/volume/lvm/vg-metadata.js';
import { openFilesystem, READABLE_FS_TYPES } from '../src/fs/index.js';
import { ensureImage } from '../../../test/helpers/images.js';

interface Oracle {
  pvsFull: Record<string, any>[];
  vgsFull: Record<string, any>[];
  lvsFull: Record<string, any>[];
  lvs: string[];
  lvmLvs: { vg: string; lv: string; uuid: string; size: number; segtype: string; attr: string; devices: string }[];
  lvmPvs: { name: string; uuid: string; vg: string; mdaCount: number; mdaSize: number; peStart: number; peCount: number }[];
  checksums: Record<string, string>;
}

let dir: string;
let oracle: Oracle;
let scratch: string;
const opened: BlockDevice[] = [];
const warnings: string[] = [];

function raw(path: string): RawFile {
  const d = new RawFile(path);
  opened.push(d);
  return d;
}

/** The first partition of a GPT disk image, as sfdisk sees it. */
function part1(path: string, name: string, shrinkBy = 0): PhysicalVolumeCandidate {
  const t = JSON.parse(execFileSync('sfdisk', ['--json', path], { encoding: 'utf8' })).partitiontable;
  const p = t.partitions[0];
  const disk = raw(path);
  return { name, dev: new SliceDevice(disk, p.start * 512, p.size * 512 - shrinkBy, name) };
}

function candidates(which = 'abc'): PhysicalVolumeCandidate[] {
  const out: PhysicalVolumeCandidate[] = [];
  if (which.includes('a')) out.push(part1(join(dir, 'lvm-a.raw'), '/dev/sda1'));
  if (which.includes('b')) out.push(part1(join(dir, 'lvm-b.raw'), '/dev/sdb1'));
  if (which.includes('c')) out.push({ name: '/dev/sdc', dev: raw(join(dir, 'lvm-c.raw')) });
  return out;
}

function sha256(dev: BlockDevice): string {
  const h = createHash('sha256');
  const buf = new Uint8Array(1 << 20);
  for (let pos = 0; pos < dev.size; ) {
    const n = dev.pread(buf, pos);
    h.update(buf.subarray(0, n));
    pos += n;
  }
  return h.digest('hex');
}

function lvOf(scan: LvmScan, name: string) {
  const lv = scan.lvs.find((l) => l.name === name);
  if (!lv) throw new Error(`${name} not found`);
  return lv;
}

function expectError(fn: () => unknown, code: string, re: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GuestkitError);
    expect((e as GuestkitError).code).toBe(code);
    expect((e as GuestkitError).message).toMatch(re);
    return;
  }
  throw new Error('expected an error');
}

function patch(path: string, pos: number, bytes: Uint8Array | number[]): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Uint8Array.from(bytes), 0, bytes.length, pos);
  } finally {
    closeSync(fd);
  }
}

function u32le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function u64le(v: number): number[] {
  return [...u32le(v % 2 ** 32), ...u32le(Math.floor(v / 2 ** 32))];
}

/** Copy of an image in the scratch folder. */
function copyOf(file: string, tag: string): string {
  const p = join(scratch, `${tag}-${file}`);
  copyFileSync(join(dir, file), p);
  return p;
}

/** Byte offset of a partition start in a GPT image. */
function part1Start(path: string): number {
  return JSON.parse(execFileSync('sfdisk', ['--json', path], { encoding: 'utf8' })).partitiontable.partitions[0].start * 512;
}

/** Rewrite raw_locn[0] of the first metadata area of the PV at `pvStart` and fix the header CRC. */
function setRawLocn(path: string, pvStart: number, rl: { offset: number; size: number; checksum: number }): void {
  const dev = new SliceDevice(raw(path), pvStart, raw(path).size - pvStart, 'pv');
  const label = readPvLabel(dev, 'pv')!;
  const mdaPos = pvStart + label.metadataAreas[0].offset;
  patch(path, mdaPos + 40, [...u64le(rl.offset), ...u64le(rl.size), ...u32le(rl.checksum)]);
  const hdr = readFileSync(path).subarray(mdaPos, mdaPos + MDA_HEADER_SIZE);
  patch(path, mdaPos, u32le(calcCrc(LVM_INITIAL_CRC, hdr.subarray(4))));
}

beforeAll(() => {
  dir = ensureImage('lvm-images');
  oracle = JSON.parse(readFileSync(join(dir, 'lvm.json'), 'utf8'));
  scratch = mkdtempSync(join(tmpdir(), 'gk-lvm-'));
  setWarningSink((m) => warnings.push(m));
});

afterAll(() => {
  for (const d of opened) d.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('PV labels and VGs across three images (two partitioned, one whole-disk PV)', () => {
  let scan: LvmScan;
  beforeAll(() => {
    scan = scanLvm(candidates());
  });

  it('finds the three PVs with the UUIDs LVM reports, and no problems', () => {
    expect(scan.problems).toEqual([]);
    const want = new Map(oracle.lvmPvs.map((p) => [p.name, p.uuid]));
    expect(scan.pvs).toEqual(want);
    for (const p of oracle.pvsFull) expect(compactLvmId(scan.pvs.get(p.pv_name)!)).toBe(p.pv_uuid);
  });

  it('assembles vg0 and vg1 with the names, UUIDs, extent size and counts, seqno of vgs-full', () => {
    expect(scan.vgs.map((v) => v.name)).toEqual(oracle.vgsFull.map((v) => v.vg_name).sort());
    for (const o of oracle.vgsFull) {
      const vg = scan.vgs.find((v) => v.name === o.vg_name)!;
      expect(compactLvmId(vg.uuid)).toBe(o.vg_uuid);
      expect(vg.extentSize).toBe(o.vg_extent_size);
      expect(vg.extentCount).toBe(o.vg_extent_count);
      expect(vg.freeExtents).toBe(o.vg_free_count);
      expect(vg.seqno).toBe(o.vg_seqno);
      expect(vg.pvs.length).toBe(o.pv_count);
      expect(vg.missingPvs).toEqual([]);
    }
  });

  it('lists the LVs libguestfs lists (public ones: no hidden sub-LVs, no pool)', () => {
    expect(scan.lvs.map((l) => l.name).sort()).toEqual([...oracle.lvs].sort());
    expect(scan.lvs.map((l) => l.name)).not.toContain('/dev/vg0/pool');
    expect(scan.lvs.some((l) => /_rimage_|_mimage_|_rmeta_|_tdata|_tmeta|pmspare/.test(l.name))).toBe(false);
  });

  it('LV UUIDs and sizes match lvs-full', () => {
    for (const o of oracle.lvsFull) {
      const lv = scan.lvs.find((l) => l.lv === o.lv_name);
      if (!lv) continue; // lvs-full also shows the pool
      expect(compactLvmId(lv.uuid!), o.lv_name).toBe(o.lv_uuid);
      expect(lv.size, o.lv_name).toBe(o.lv_size);
      expect(lv.dev.size, o.lv_name).toBe(o.lv_size);
    }
    expect(oracle.lvsFull.length).toBeGreaterThanOrEqual(scan.lvs.length);
  });

  it('segment types as `lvm lvs -a` shows them: striped (2 stripes), linear over both PVs, raid1, mirror', () => {
    const seg = (lv: string) => oracle.lvmLvs.find((l) => l.lv === lv)!;
    expect(seg('striped').devices).toMatch(/^\/dev\/sda1\(\d+\),\/dev\/sdb1\(\d+\)$/);
    expect(oracle.lvmLvs.filter((l) => l.lv === 'linear').map((l) => l.devices.replace(/\(\d+\)/, '')).sort()).toEqual(['/dev/sda1', '/dev/sdb1']);
    expect(lvOf(scan, '/dev/vg0/striped').segmentTypes).toEqual(['striped']);
    expect(lvOf(scan, '/dev/vg0/linear').segmentTypes).toEqual(oracle.lvmLvs.filter((l) => l.lv === 'linear').map((l) => l.segtype));
    expect(lvOf(scan, '/dev/vg0/linear').segmentTypes).toEqual(['linear', 'linear']);
    expect(lvOf(scan, '/dev/vg0/mirror').segmentTypes).toEqual([seg('mirror').segtype]);
    expect(lvOf(scan, '/dev/vg0/oldmirror').segmentTypes).toEqual([seg('oldmirror').segtype]);
  });

  it('every readable LV has the sha256 checksum-device computed in the appliance', () => {
    const names = Object.keys(oracle.checksums);
    expect(names.length).toBe(6);
    for (const name of names) expect(sha256(lvOf(scan, name).dev), name).toBe(oracle.checksums[name]);
  });

  it('thin volumes and snapshots are listed, and reading them is UNSUPPORTED naming the segment type', () => {
    expectError(() => lvOf(scan, '/dev/vg0/thin').dev.pread(new Uint8Array(512), 0), 'UNSUPPORTED', /\/dev\/vg0\/thin: segment type thin is not supported/);
    expectError(() => lvOf(scan, '/dev/vg0/snap').dev.pread(new Uint8Array(512), 0), 'UNSUPPORTED', /\/dev\/vg0\/snap: segment type snapshot \(a snapshot of vg0\/small\)/);
    expect(lvOf(scan, '/dev/vg0/thin').error?.code).toBe('UNSUPPORTED');
  });

  it('vg1\'s metadata went round its small circular buffer: the newest copy is the one raw_locn names', () => {
    const sdc = raw(join(dir, 'lvm-c.raw'));
    const label = readPvLabel(sdc, '/dev/sdc')!;
    const mda = readMdaHeader(sdc, label.metadataAreas[0], 'mda');
    expect(mda.size).toBeLessThan(64 * 1024);
    const vg1 = scan.vgs.find((v) => v.name === 'vg1')!;
    expect(vg1.seqno).toBe(oracle.vgsFull.find((v) => v.vg_name === 'vg1')!.vg_seqno);
    expect(vg1.seqno).toBeGreaterThan(40);
    // The buffer holds older copies too, some after the current one: it has gone round.
    const area = Buffer.alloc(mda.size);
    sdc.pread(area, mda.start);
    const seqnos: [number, number][] = [];
    for (let off = area.indexOf('vg1 {', MDA_HEADER_SIZE); off >= 0; off = area.indexOf('vg1 {', off + 1)) {
      seqnos.push([off, Number(/seqno = (\d+)/.exec(area.toString('latin1', off, off + 200))![1])]);
    }
    expect(seqnos.some(([off, n]) => off > mda.rawLocns[0].offset && n < vg1.seqno)).toBe(true);
  });

  it('a metadata copy that wraps from the end of the buffer to its start is read in two pieces', () => {
    // LVM 2.03 (the appliance's) restarts at the buffer's start instead of writing a copy
    // across the end; LVM 2.02 wrapped. So the wrapped layout is made here from LVM's own text:
    // its first part at the end of vg1's metadata area, the rest just after the header.
    const c = copyOf('lvm-c.raw', 'wrap');
    const dev = raw(c);
    const label = readPvLabel(dev, '/dev/sdc')!;
    const mda = readMdaHeader(dev, label.metadataAreas[0], 'mda');
    const text = Buffer.from(readMetadataText(dev, mda, 'mda')!, 'utf8');
    const offset = mda.size - 4 * 512;
    const head = mda.size - offset;
    expect(text.length).toBeGreaterThan(head);
    patch(c, mda.start + offset, text.subarray(0, head));
    patch(c, mda.start + MDA_HEADER_SIZE, text.subarray(head));
    setRawLocn(c, 0, { offset, size: text.length, checksum: calcCrc(LVM_INITIAL_CRC, text) });
    const scan = scanLvm([{ name: '/dev/sdc', dev: raw(c) }], { strict: true });
    expect(scan.vgs[0].seqno).toBe(oracle.vgsFull.find((v) => v.vg_name === 'vg1')!.vg_seqno);
    expect(sha256(lvOf(scan, '/dev/vg1/data').dev)).toBe(oracle.checksums['/dev/vg1/data']);
    // A wrapped copy too big to fit: its end would overwrite its own start.
    setRawLocn(c, 0, { offset, size: mda.size, checksum: 0 });
    expectError(() => scanLvm([{ name: '/dev/sdc', dev: raw(c) }], { strict: true }), 'CORRUPT', /raw_locn\[0\] offset .* overlap themselves/);
  });

  it('sdb1 has two metadata areas (start and end of the PV), as pvs says', () => {
    const b = candidates('b')[0];
    expect(readPvLabel(b.dev, b.name)!.metadataAreas.length).toBe(oracle.lvmPvs.find((p) => p.name === '/dev/sdb1')!.mdaCount);
    expect(oracle.lvmPvs.find((p) => p.name === '/dev/sdb1')!.mdaCount).toBe(2);
  });

  it.skipIf(!READABLE_FS_TYPES.includes('ext4'))('the ext4 in each LV holds the fixture tree tar-in put there (names, contents, link targets, mtimes)', () => {
    const tree = join(dir, 'tree');
    const host = (rel = ''): string[] =>
      readdirSync(join(tree, rel)).flatMap((n) => {
        const p = rel ? `${rel}/${n}` : n;
        return lstatSync(join(tree, p)).isDirectory() ? [p, ...host(p)] : [p];
      });
    const want = host().sort();
    for (const name of ['/dev/vg0/striped', '/dev/vg0/small', '/dev/vg0/linear', '/dev/vg0/mirror', '/dev/vg1/data']) {
      const fs = openFilesystem(lvOf(scan, name).dev, 'ext4');
      const seen: string[] = [];
      const walk = (ino: number, rel: string) => {
        for (const e of fs.readdir(ino)) {
          if (!rel && e.name === 'lost+found') continue;
          const p = rel ? `${rel}/${e.name}` : e.name;
          seen.push(p);
          const st = fs.stat(e.ino);
          const h = lstatSync(join(tree, p));
          expect(st.mtime.sec, `${name}:${p}`).toBe(Math.floor(h.mtimeMs / 1000));
          if (e.type === 'dir') walk(e.ino, p);
          else if (e.type === 'symlink') expect(fs.readlink(e.ino), `${name}:${p}`).toBe(readlinkSync(join(tree, p)));
          else {
            const buf = new Uint8Array(st.size);
            expect(fs.read(e.ino, buf, 0)).toBe(st.size);
            expect(Buffer.from(buf).equals(readFileSync(join(tree, p))), `${name}:${p}`).toBe(true);
          }
        }
      };
      walk(fs.rootIno, '');
      expect(seen.sort(), name).toEqual(want);
    }
  });
});

describe('partial volume groups', () => {
  it('with only the first disk: LVs on it work, LVs needing the second PV fail naming its UUID', () => {
    const scan = scanLvm(candidates('a'));
    const vg0 = scan.vgs.find((v) => v.name === 'vg0')!;
    const pvB = oracle.lvmPvs.find((p) => p.name === '/dev/sdb1')!.uuid;
    expect(vg0.missingPvs).toEqual([pvB]);
    expect(sha256(lvOf(scan, '/dev/vg0/small').dev)).toBe(oracle.checksums['/dev/vg0/small']);
    for (const name of ['/dev/vg0/striped', '/dev/vg0/linear']) {
      expectError(() => lvOf(scan, name).dev.pread(new Uint8Array(512), 0), 'NOT_FOUND', new RegExp(`${name}: needs physical volume ${pvB}.*partial`));
    }
    // Mirror legs: leg 0 is on sda1 and is read.
    expect(sha256(lvOf(scan, '/dev/vg0/mirror').dev)).toBe(oracle.checksums['/dev/vg0/mirror']);
    expect(sha256(lvOf(scan, '/dev/vg0/oldmirror').dev)).toBe(oracle.checksums['/dev/vg0/oldmirror']);
  });

  it('with only the second disk: raid1 and mirror are read from their second leg', () => {
    const scan = scanLvm(candidates('b'));
    const vg0 = scan.vgs.find((v) => v.name === 'vg0')!;
    expect(vg0.missingPvs).toEqual([oracle.lvmPvs.find((p) => p.name === '/dev/sda1')!.uuid]);
    expect(sha256(lvOf(scan, '/dev/vg0/mirror').dev)).toBe(oracle.checksums['/dev/vg0/mirror']);
    expect(sha256(lvOf(scan, '/dev/vg0/oldmirror').dev)).toBe(oracle.checksums['/dev/vg0/oldmirror']);
    expectError(() => lvOf(scan, '/dev/vg0/small').dev.pread(new Uint8Array(512), 0), 'NOT_FOUND', /small: needs physical volume/);
  });

  it('devices without a LABELONE are ignored cheaply (a FAT image, a zero device)', () => {
    const fat = raw(ensureImage('fat-images', 'fat16.img'));
    let reads = 0;
    const counting: BlockDevice = { size: fat.size, sectorSize: 512, description: 'counting', pread: (b, p) => { reads++; return fat.pread(b, p); }, map: () => fat.map(), close: () => {} };
    const scan = scanLvm([{ name: '/dev/sdx', dev: counting }]);
    expect(scan).toMatchObject({ vgs: [], lvs: [], problems: [] });
    expect(reads).toBe(1);
  });
});

describe('the latest seqno wins', () => {
  it('when one PV\'s metadata is older (raw_locn pointing at an earlier copy in its buffer), the newer copy is used', () => {
    const a = copyOf('lvm-a.raw', 'older');
    const start = part1Start(a);
    const dev = new SliceDevice(raw(a), start, raw(a).size - start, 'sda1');
    const label = readPvLabel(dev, 'sda1')!;
    const mda = readMdaHeader(dev, label.metadataAreas[0], 'mda');
    // Find the previous metadata text in the circular buffer: it starts with "vg0 {" and has
    // the seqno before the current one.
    const area = Buffer.alloc(mda.size);
    dev.pread(area, mda.start);
    const current = mda.rawLocns[0];
    let prev: { offset: number; size: number } | undefined;
    for (let off = MDA_HEADER_SIZE; off < current.offset; off = area.indexOf('vg0 {', off + 1) === -1 ? current.offset : area.indexOf('vg0 {', off + 1)) {
      if (area.subarray(off, off + 5).toString() !== 'vg0 {') continue;
      const end = area.indexOf(0, off);
      prev = { offset: off, size: end - off + 1 };
    }
    expect(prev).toBeDefined();
    const text = area.subarray(prev!.offset, prev!.offset + prev!.size);
    const olderSeqno = Number(/seqno = (\d+)/.exec(text.toString())![1]);
    const newest = oracle.vgsFull.find((v) => v.vg_name === 'vg0')!.vg_seqno;
    expect(olderSeqno).toBeLessThan(newest);
    setRawLocn(a, start, { ...prev!, checksum: calcCrc(LVM_INITIAL_CRC, text) });

    const only = scanLvm([{ name: '/dev/sda1', dev: new SliceDevice(raw(a), start, dev.size, '/dev/sda1') }]);
    expect(only.vgs[0].seqno).toBe(olderSeqno);
    const scan = scanLvm([{ name: '/dev/sda1', dev: new SliceDevice(raw(a), start, dev.size, '/dev/sda1') }, ...candidates('bc')]);
    const vg0 = scan.vgs.find((v) => v.name === 'vg0')!;
    expect(vg0.seqno).toBe(newest);
    expect(vg0.metadataFrom).toBe('/dev/sdb1');
    expect(sha256(lvOf(scan, '/dev/vg0/linear').dev)).toBe(oracle.checksums['/dev/vg0/linear']);
  });
});

describe('bad input: clear errors naming the PV and structure', () => {
  function sda1Of(path: string): PhysicalVolumeCandidate {
    const start = part1Start(path);
    const disk = raw(path);
    return { name: '/dev/sda1', dev: new SliceDevice(disk, start, disk.size - start, '/dev/sda1') };
  }

  it('a label with a bad CRC: the PV is skipped with a CORRUPT problem (strict: thrown)', () => {
    const a = copyOf('lvm-a.raw', 'labelcrc');
    const start = part1Start(a);
    const label = readPvLabel(sda1Of(a).dev, 'x')!;
    patch(a, start + label.sector * 512 + 40, [0x58]); // a byte of the PV UUID
    warnings.length = 0;
    const scan = scanLvm([sda1Of(a)]);
    expect(scan.pvs.size).toBe(0);
    expect(scan.problems.map((e) => e.message)).toEqual([expect.stringMatching(/LVM label in sector 1 of \/dev\/sda1: crc_xl .* does not match/)]);
    expect(warnings).toEqual([scan.problems[0].message]);
    expectError(() => scanLvm([sda1Of(a)], { strict: true }), 'CORRUPT', /crc_xl/);
  });

  it('an mda_header with a bad checksum', () => {
    const a = copyOf('lvm-a.raw', 'mdacrc');
    const c = sda1Of(a);
    const label = readPvLabel(c.dev, 'x')!;
    patch(a, part1Start(a) + label.metadataAreas[0].offset + 30, [0x99]);
    expectError(() => scanLvm([sda1Of(a)], { strict: true }), 'CORRUPT', /LVM metadata area 1 of PV \/dev\/sda1: mda_header: checksum_xl/);
  });

  it('metadata text truncated (size cut, checksum recomputed) or with a bad checksum', () => {
    const a = copyOf('lvm-a.raw', 'trunc');
    const start = part1Start(a);
    const c = sda1Of(a);
    const label = readPvLabel(c.dev, 'x')!;
    const mda = readMdaHeader(c.dev, label.metadataAreas[0], 'mda');
    const rl = mda.rawLocns[0];
    const text = new Uint8Array(rl.size);
    c.dev.pread(text, mda.start + rl.offset);
    const cut = Math.floor(rl.size / 2);
    setRawLocn(a, start, { offset: rl.offset, size: cut, checksum: calcCrc(LVM_INITIAL_CRC, text.subarray(0, cut)) });
    expectError(() => scanLvm([sda1Of(a)], { strict: true }), 'CORRUPT', /LVM metadata area 1 of PV \/dev\/sda1: metadata text: line \d+: .*\(truncated\?\)/);
    setRawLocn(a, start, { offset: rl.offset, size: rl.size, checksum: rl.checksum ^ 1 });
    expectError(() => scanLvm([sda1Of(a)], { strict: true }), 'CORRUPT', /metadata area 1 of PV \/dev\/sda1: raw_locn\[0\] checksum .* does not match/);
    setRawLocn(a, start, { offset: rl.offset, size: LIMITS.maxMetadata + 1, checksum: 0 });
    expectError(() => scanLvm([sda1Of(a)], { strict: true }), 'LIMIT', /exceeds the limit/);
    // Not strict: the VG still comes from the other PV's copy.
    const scan = scanLvm([sda1Of(a), ...candidates('b')]);
    expect(scan.problems.length).toBe(1);
    expect(sha256(lvOf(scan, '/dev/vg0/striped').dev)).toBe(oracle.checksums['/dev/vg0/striped']);
  });

  it('an LV segment past the end of its PV: that LV fails with CORRUPT, the others work', () => {
    // sdb1 seen 20 MiB shorter than it is: linear's extents on it end past the device.
    const scan = scanLvm([...candidates('a'), part1(join(dir, 'lvm-b.raw'), '/dev/sdb1', 50 << 20), ...candidates('c')]);
    expectError(() => lvOf(scan, '/dev/vg0/linear').dev.pread(new Uint8Array(512), 0), 'CORRUPT', /\/dev\/vg0\/linear segment2: stripe 0 .* past the end of the PV \/dev\/sdb1/);
    expect(sha256(lvOf(scan, '/dev/vg0/small').dev)).toBe(oracle.checksums['/dev/vg0/small']);
  });

  it('the text parser: garbage, unterminated strings, deep nesting, huge numbers', () => {
    expectError(() => parseConfig('vg0 {\n id = "abc', 't'), 'CORRUPT', /t: line 2: unterminated string/);
    expectError(() => parseConfig('vg0 { = 3 }', 't'), 'CORRUPT', /unexpected character "="/);
    expectError(() => parseConfig('a {'.repeat(100), 't'), 'CORRUPT', /nested deeper than 32/);
    expectError(() => parseConfig('x = 123456789012345678901234567890', 't'), 'CORRUPT', /too large/);
    expectError(() => parseConfig('x = [[1]]', 't'), 'CORRUPT', /nested lists/);
    const ok = parseConfig('# comment\nvg { a = "q\\"uote" b = [ "x", 1 , -2 ] c = 1.5 }\n', 't');
    expect(ok.section('vg')!.value('a')).toBe('q"uote');
    expect(ok.section('vg')!.value('b')).toEqual(['x', 1, -2]);
    expect(ok.section('vg')!.value('c')).toBe(1.5);
  });
});

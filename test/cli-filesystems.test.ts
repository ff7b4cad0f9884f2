// `guestkit filesystems` as a command: bad disks and bad options each give one line
// `guestkit: <message>` on stderr and exit 1 (2 for usage), never a stack trace or a hang;
// --json gives the rows as objects. (Output parity with virt-filesystems:
// test/parity/filesystems.test.ts.)

import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { GUESTKIT, ensureImage } from './helpers/images.js';

function gk(args: string[]) {
  const r = spawnSync(process.execPath, [GUESTKIT, ...args], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { rc: r.status, out: r.stdout, err: r.stderr };
}

let tables: string;
let bad: string;
beforeAll(() => {
  tables = ensureImage('part-tables');
  bad = ensureImage('part-bad');
});

/** Exactly one stderr line `guestkit: <message>` matching `re`, nothing on stdout. */
function expectOneLine(r: ReturnType<typeof gk>, rc: number, re: RegExp): void {
  expect(r.rc).toBe(rc);
  expect(r.out).toBe('');
  const lines = r.err.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^guestkit: /);
  expect(lines[0]).toMatch(re);
  expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
}

describe('guestkit filesystems: bad disks', () => {
  const cases: [string, RegExp][] = [
    ['gpt-bad-both.raw', /^guestkit: GPT: both headers are unusable: primary at LBA 1: header CRC32 mismatch/],
    ['gpt-past-end.raw', /^guestkit: GPT partition 2: LBAs 6144-17384 end past the end of the disk \(16384 sectors\)$/],
    ['mbr-past-end.raw', /^guestkit: MBR partition 2: sectors 4096-36863 end past the end of the disk/],
    ['mbr-logical-past-end.raw', /^guestkit: MBR logical partition 6: /],
    ['mbr-ebr-loop.raw', /^guestkit: MBR extended partition at sector 6144: the EBR chain loops/],
    ['pmbr-garbage.raw', /^guestkit: GPT: .* has a protective MBR but no GPT header/],
  ];
  for (const [img, re] of cases) {
    it(`${img}: one line, exit 1`, () => {
      expectOneLine(gk(['filesystems', '--all', '--long', '-a', join(bad, img)]), 1, re);
    });
  }

  it('a missing image and a directory: one line naming the path, exit 1', () => {
    expectOneLine(gk(['filesystems', '-a', '/nonexistent/x.img']), 1, /^guestkit: \/nonexistent\/x\.img: No such file or directory$/);
    expectOneLine(gk(['filesystems', '-a', tables]), 1, /Is a directory/);
  });

  it('a bad primary GPT: a warning line, then the listing from the backup, exit 0', () => {
    const r = gk(['filesystems', '--partitions', '-a', join(bad, 'gpt-bad-primary.raw')]);
    expect(r.rc).toBe(0);
    expect(r.err).toMatch(/^guestkit: warning: .*the primary GPT at LBA 1 is unusable: header CRC32 mismatch.*using the backup GPT header at LBA 16383\n$/);
    expect(r.out).toBe('/dev/sda1\n/dev/sda2\n');
  });

  it('pseudo-random bytes: the whole disk is an "unknown" filesystem', () => {
    const r = gk(['filesystems', '--extra', '-a', join(bad, 'garbage.raw')]);
    expect([r.rc, r.out, r.err]).toEqual([0, '/dev/sda\n', '']);
  });
});

describe('guestkit filesystems: usage errors exit 2', () => {
  it('no -a', () => expectOneLine(gk(['filesystems']), 2, /you must specify at least one -a or -d option/));
  it('-h with --csv', () => {
    expectOneLine(gk(['filesystems', '-h', '--csv', '-a', join(tables, 'part-mbr.raw')]), 2, /you cannot use -h and --csv options together/);
  });
  it('an unknown option', () => {
    const r = gk(['filesystems', '--bogus', '-a', join(tables, 'part-mbr.raw')]);
    expect(r.rc).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(/^guestkit: Unknown argument: bogus$/);
    expect(r.out).toBe('');
  });
  it('an unknown subcommand', () => {
    const r = gk(['filesystemz', '-a', 'x']);
    expect(r.rc).toBe(2);
    expect(r.err).toMatch(/^guestkit: /);
  });
  it('--blocksize other than 512 or 4096', () => {
    expectOneLine(gk(['filesystems', '--blocksize=1000', '-a', join(tables, 'part-mbr.raw')]), 2, /--blocksize=1000: the sector size must be 512 or 4096/);
  });
});

describe('guestkit filesystems --json', () => {
  it('every row as an object with every field', () => {
    const r = gk(['filesystems', '--all', '--json', '-a', join(tables, 'part-mbr.raw')]);
    expect(r.rc).toBe(0);
    const rows = JSON.parse(r.out) as Record<string, unknown>[];
    expect(rows[0]).toEqual({
      name: '/dev/sda1', type: 'filesystem', vfs: 'ext4', label: 'mbr-root', mbr: null,
      size: 41921536, parents: [], uuid: '0b7d2f5e-6a41-4c33-9e21-3f6a8d1c0001',
    });
    expect(rows.find((x) => x.name === '/dev/sda3' && x.type === 'partition')).toEqual({
      name: '/dev/sda3', type: 'partition', vfs: null, label: null, mbr: '05', size: 1024, parents: ['/dev/sda'], uuid: null,
    });
    expect(rows.map((x) => x.type)).toEqual([
      ...Array(6).fill('filesystem'), ...Array(7).fill('partition'), 'device',
    ]);
  });

  it('two disks: sdb, and the whole-disk filesystem listed first', () => {
    const r = gk(['filesystems', '--json', '-a', join(tables, 'part-gpt4k.raw'), '-a', ensureImage('part-probes', 'whole-fat.raw')]);
    const rows = JSON.parse(r.out) as { name: string; vfs: string }[];
    expect(rows.map((x) => `${x.name}:${x.vfs}`)).toEqual(['/dev/sdb:vfat', '/dev/sda1:vfat', '/dev/sda2:ext4', '/dev/sda4:ntfs']);
  });
});

describe('guestkit filesystems: LVM rows', () => {
  it('LVs, VGs and PVs agree with what LVM reported inside the appliance (lvm-images lvm.json)', () => {
    const dir = ensureImage('lvm-images');
    const oracle = JSON.parse(readFileSync(join(dir, 'lvm.json'), 'utf8'));
    const r = gk(['filesystems', '--lvs', '--vgs', '--pvs', '--json',
      '-a', join(dir, 'lvm-a.raw'), '-a', join(dir, 'lvm-b.raw'), '-a', join(dir, 'lvm-c.raw')]);
    expect(r.rc).toBe(0);
    const rows = JSON.parse(r.out) as { name: string; type: string; size: number; uuid: string; parents: string[] }[];
    const lvs = rows.filter((x) => x.type === 'lv');
    // guestfs lvs: sorted /dev/VG/LV names, pools left out; lv_size and lv_uuid (lvs prints it with dashes).
    expect(lvs.map((x) => x.name)).toEqual(oracle.lvs);
    for (const lv of lvs) {
      const o = oracle.lvsFull.find((f: { lv_name: string }) => `/dev/${lv.parents[0].slice(5)}/${f.lv_name}` === lv.name);
      expect([lv.name, lv.size, lv.uuid.replace(/-/g, '')]).toEqual([lv.name, o.lv_size, o.lv_uuid]);
    }
    const vgs = rows.filter((x) => x.type === 'vg').map((x) => [x.name, x.size, x.uuid]);
    expect(vgs.sort()).toEqual(oracle.vgsFull.map((v: { vg_name: string; vg_size: number; vg_uuid: string }) => [`/dev/${v.vg_name}`, v.vg_size, v.vg_uuid]).sort());
    const pvs = rows.filter((x) => x.type === 'pv').map((x) => [x.name, x.size, x.uuid]);
    expect(pvs.sort()).toEqual(oracle.pvsFull.map((p: { pv_name: string; pv_size: number; pv_uuid: string }) => [p.pv_name, p.pv_size, p.pv_uuid]).sort());
  });
});

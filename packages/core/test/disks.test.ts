// DiskSet: devices named as libguestfs names them (/dev/sda, /dev/sdb... per -a image,
// /dev/sdaN per partition, vd/hd/xvd spellings canonicalised to sd), and list_devices,
// list_partitions and list_filesystems as libguestfs's daemon computes them (devsparts.ml,
// listfs.ml), on the part-tables / part-probes / part-bad disks.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { DiskSet, driveLetters, GuestkitError, setWarningSink } from '@guestkit/core';
import { ensureImage } from '../../../test/helpers/images.js';

let tables: string;
let probes: string;
let bad: string;
const sets: DiskSet[] = [];
function open(...paths: string[]): DiskSet {
  const s = DiskSet.open(paths.map((path) => ({ path })));
  sets.push(s);
  return s;
}
beforeAll(() => {
  tables = ensureImage('part-tables');
  probes = ensureImage('part-probes');
  bad = ensureImage('part-bad');
  setWarningSink(() => undefined);
});
afterAll(() => sets.forEach((s) => s.close()));

describe('device names', () => {
  it('bijective base-26 drive letters, as Linux sd and libguestfs name disks', () => {
    expect([0, 1, 25, 26, 27, 51, 52, 701, 702].map(driveLetters)).toEqual(['a', 'b', 'z', 'aa', 'ab', 'az', 'ba', 'zz', 'aaa']);
  });

  it('one name per -a image in order, partitions numbered as Linux numbers them', () => {
    const s = open(join(tables, 'part-mbr.raw'), join(tables, 'part-gpt.raw'), join(probes, 'whole-fat.raw'));
    expect(s.disks.map((d) => d.name)).toEqual(['/dev/sda', '/dev/sdb', '/dev/sdc']);
    expect(s.partitions().map((p) => p.name)).toEqual([
      '/dev/sda1', '/dev/sda2', '/dev/sda3', '/dev/sda5', '/dev/sda6', '/dev/sda7', '/dev/sda8',
      '/dev/sdb1', '/dev/sdb2', '/dev/sdb3', '/dev/sdb4', '/dev/sdb5', '/dev/sdb6', '/dev/sdb7', '/dev/sdb8', '/dev/sdb10',
    ]);
    expect(s.devices().map((d) => d.name).slice(0, 4)).toEqual(['/dev/sda', '/dev/sdb', '/dev/sdc', '/dev/sda1']);
    const p6 = s.resolve('/dev/sda6');
    expect([p6.kind, p6.parent, p6.partuuid, p6.mbrId]).toEqual(['partition', '/dev/sda', '5eed0001-06', 0x07]);
    expect(s.resolve('/dev/sdb4').partlabel).toBe('données');
    expect(s.resolve('/dev/sdb4').mbrId).toBeUndefined();
  });

  it('27 disks: the 27th is /dev/sdaa', () => {
    const img = join(bad, 'garbage.raw');
    const s = open(...Array.from({ length: 28 }, () => img));
    expect(s.disks[26].name).toBe('/dev/sdaa');
    expect(s.resolve('/dev/vdab')).toBe(s.disks[27]);
  });

  it('resolves /dev/vdX, /dev/hdX, /dev/xvdX to /dev/sdX; unknown names are null / NOT_FOUND', () => {
    const s = open(join(tables, 'part-mbr.raw'), join(tables, 'part-gpt.raw'));
    expect(s.resolveDeviceName('/dev/vda1')).toBe('/dev/sda1');
    expect(s.resolveDeviceName('/dev/hdb10')).toBe('/dev/sdb10');
    expect(s.resolveDeviceName('/dev/xvdb')).toBe('/dev/sdb');
    expect(s.resolveDeviceName('/dev/sda')).toBe('/dev/sda');
    for (const n of ['/dev/sda4', '/dev/sdb9', '/dev/sdc', '/dev/sda0', '/dev/sda01', '/dev/md0', 'sda1', '/dev/mapper/vg-lv', '/dev/vg/lv']) {
      expect(s.resolveDeviceName(n), n).toBeNull();
    }
    try {
      s.resolve('/dev/sda4');
      expect.unreachable();
    } catch (e) {
      expect((e as GuestkitError).code).toBe('NOT_FOUND');
      expect((e as GuestkitError).message).toMatch(/^\/dev\/sda4: no such device \(devices here: \/dev\/sda, \/dev\/sda1, /);
    }
  });
});

describe('lists as libguestfs makes them', () => {
  it('list_filesystems: unpartitioned disks first, then partitions (no extended, no Microsoft reserved), "unknown" for nothing', () => {
    const s = open(join(tables, 'part-mbr.raw'), join(tables, 'part-gpt.raw'), join(probes, 'whole-fat.raw'));
    expect(s.filesystems().map((f) => `${f.device.name}:${f.type}`)).toEqual([
      '/dev/sdc:vfat',
      '/dev/sda1:ext4', '/dev/sda2:vfat', '/dev/sda5:swap', '/dev/sda6:ntfs', '/dev/sda7:ext2', '/dev/sda8:unknown',
      '/dev/sdb1:vfat', '/dev/sdb3:ext4', '/dev/sdb4:xfs', '/dev/sdb5:swap', '/dev/sdb6:ntfs', '/dev/sdb7:exfat', '/dev/sdb8:ext3',
      '/dev/sdb10:unknown',
    ]);
  });

  it('PVs and LUKS containers are not filesystems', () => {
    const s = open(join(probes, 'part-probes.raw'));
    const types = s.filesystems().map((f) => f.type);
    expect(types).not.toContain('crypto_LUKS');
    expect(types).not.toContain('LVM2_member');
    expect(types).toEqual(['iso9660', 'iso9660', 'squashfs', 'btrfs', 'vfat', 'ext4', 'jbd', 'exfat', 'swap']);
    expect(s.resolve('/dev/sda2').fsType).toBe('crypto_LUKS');
    expect(s.resolve('/dev/sda2').label).toBe('cryptdata');
  });

  it('an extended partition is the 1 KiB stub Linux exposes, reading its EBR', () => {
    const s = open(join(tables, 'part-mbr.raw'));
    const ext = s.resolve('/dev/sda3');
    expect(ext.size).toBe(1024);
    expect(ext.partition!.size).toBe(243712 * 512);
    const b = new Uint8Array(1024);
    expect(ext.dev.pread(b, 0)).toBe(1024);
    expect([b[510], b[511]]).toEqual([0x55, 0xaa]);
  });

  it('whole-disk ext4 is a filesystem of its own; its device reads as the image', () => {
    const s = open(join(probes, 'whole-ext4.raw'));
    expect(s.partitions()).toEqual([]);
    expect(s.filesystems().map((f) => [f.device.name, f.type, f.device.label])).toEqual([['/dev/sda', 'ext4', 'whole']]);
  });

  it('--blocksize=4096 makes 4096 the sector size tried first; the 4 KiB GPT reads the same either way', () => {
    const img = join(tables, 'part-gpt4k.raw');
    const a = DiskSet.open([{ path: img, blocksize: 4096 }]);
    const b = open(img);
    sets.push(a);
    expect(a.disks[0].dev.sectorSize).toBe(4096);
    expect(a.partitions().map((p) => [p.name, p.size])).toEqual(b.partitions().map((p) => [p.name, p.size]));
    expect(() => DiskSet.open([{ path: img, blocksize: 1000 }])).toThrow(/512 or 4096/);
  });

  it('the filesystem of a device opens through any spelling, once', () => {
    const s = open(join(tables, 'part-gpt.raw'));
    const fs = s.openFilesystem('/dev/vda1');
    expect(fs.type).toBe('vfat');
    expect(s.openFilesystem('/dev/sda1')).toBe(fs);
    expect(() => s.openFilesystem('/dev/sda10')).toThrow(/no filesystem found/);
  });
});

describe('bad disks', () => {
  it('a corrupt table does not stop the disk itself from being read', () => {
    const s = open(join(bad, 'mbr-ebr-loop.raw'));
    expect(s.resolve('/dev/sda').size).toBe(16 * 1024 * 1024);
    expect(() => s.partitions()).toThrow(/EBR chain loops/);
    expect(() => s.resolve('/dev/sda5')).toThrow(GuestkitError);
  });

  it('a missing image: NOT_FOUND naming it; nothing left open', () => {
    let err: unknown;
    try {
      DiskSet.open([{ path: join(tables, 'part-mbr.raw') }, { path: '/nonexistent/disk.img' }]);
    } catch (e) {
      err = e;
    }
    expect((err as GuestkitError).code).toBe('NOT_FOUND');
    expect((err as GuestkitError).message).toBe('/nonexistent/disk.img: No such file or directory');
  });

  it('no image at all is a usage error', () => {
    expect(() => DiskSet.open([])).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('close() is idempotent', () => {
    const s = DiskSet.open([{ path: join(tables, 'part-mbr.raw') }]);
    s.close();
    s.close();
  });
});

// MBR partition tables (primaries, an extended partition with its EBR chain of logical
// partitions) on disks partitioned by sfdisk (recipes part-tables, part-bad), compared with
// what sfdisk --json reads from the same disks; bad tables each with their own error code.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { openImage, readPartitionTable, setWarningSink, SliceDevice, GuestkitError, type BlockDevice } from '@guestkit/core';
import { ensureImage } from '../../../test/helpers/images.js';
import { readTable, expectSameAsSfdisk } from './part-oracle.js';

const opened: BlockDevice[] = [];
function open(path: string): BlockDevice {
  const d = openImage(path);
  opened.push(d);
  return d;
}
afterAll(() => opened.forEach((d) => d.close()));

describe('MBR partition tables as sfdisk reads them', () => {
  let dir: string;
  beforeAll(() => {
    dir = ensureImage('part-tables');
  });

  it('primaries numbered by slot (slot 4 empty), logicals 5-8 along the EBR chain', () => {
    const path = join(dir, 'part-mbr.raw');
    const t = readPartitionTable(open(path))!;
    expectSameAsSfdisk(t, readTable(path));
    expect(t.partitions.map((p) => `${p.index}:${p.kind}`)).toEqual([
      '1:primary', '2:primary', '3:extended', '5:logical', '6:logical', '7:logical', '8:logical',
    ]);
    // PARTUUID as blkid forms it for MBR: disk signature and partition number.
    expect(t.partitions.find((p) => p.index === 6)!.uuid).toBe('5eed0001-06');
    expect(t.partitions[0].typeName).toBe('Linux');
    expect(t.partitions[2].typeName).toBe('Extended');
  });

  it('reads the same table through the qcow2 copy', () => {
    const t = readPartitionTable(open(join(dir, 'part-mbr.qcow2')))!;
    expectSameAsSfdisk(t, readTable(join(dir, 'part-mbr.raw')));
  });

  it('a disk whose first sector is a FAT boot sector has no partition table', () => {
    const probes = ensureImage('part-probes');
    const disk = open(join(probes, 'part-probes.raw'));
    const t = readPartitionTable(disk)!;
    const fat12 = t.partitions.find((p) => p.name === 'p8')!;
    // The FAT12 filesystem alone, seen as a whole disk: 0x55AA but no MBR.
    expect(readPartitionTable(new SliceDevice(disk, fat12.start, fat12.size, 'fat12'))).toBeNull();
  });
});

describe('bad MBR tables', () => {
  let dir: string;
  beforeAll(() => {
    dir = ensureImage('part-bad');
  });

  function errorOf(name: string): GuestkitError {
    try {
      readPartitionTable(open(join(dir, name)));
    } catch (e) {
      expect(e).toBeInstanceOf(GuestkitError);
      return e as GuestkitError;
    }
    throw new Error(`${name}: no error`);
  }

  it('an EBR chain that links back to its first EBR is a LOOP', () => {
    const e = errorOf('mbr-ebr-loop.raw');
    expect(e.code).toBe('LOOP');
    expect(e.message).toMatch(/EBR chain loops.*sector 6144/);
  });

  it('a primary partition that ends past the disk is CORRUPT, naming it', () => {
    const e = errorOf('mbr-past-end.raw');
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/^MBR partition 2: sectors 4096-36863 end past the end of the disk \(32768 sectors\)$/);
  });

  it('a logical partition that ends past the disk is CORRUPT, naming it', () => {
    const e = errorOf('mbr-logical-past-end.raw');
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/^MBR logical partition 6: /);
  });

  it('pseudo-random bytes without a signature: no partition table', () => {
    expect(readPartitionTable(open(join(dir, 'garbage.raw')))).toBeNull();
  });

  it('a chain longer than LIMITS.maxLogicalPartitions stops with LIMIT, not a hang', async () => {
    // Built in memory from the looping disk: each EBR links to the next sector, forever.
    const size = 64 * 1024 * 1024;
    const bytes = new Uint8Array(size);
    const put = (sector: number, slot: number, type: number, start: number, count: number) => {
      const o = sector * 512 + 0x1be + slot * 16;
      bytes[o + 4] = type;
      new DataView(bytes.buffer).setUint32(o + 8, start, true);
      new DataView(bytes.buffer).setUint32(o + 12, count, true);
      bytes[sector * 512 + 510] = 0x55;
      bytes[sector * 512 + 511] = 0xaa;
    };
    put(0, 0, 0x05, 1, size / 512 - 1);
    for (let s = 1; s < 1000; s++) put(s, 1, 0x05, s, 1); // link to the next sector, no data
    const dev: BlockDevice = {
      size,
      sectorSize: 512,
      description: 'memory disk',
      pread: (b, pos) => (b.set(bytes.subarray(pos, pos + b.length)), Math.min(b.length, size - pos)),
      map: () => [],
      close: () => undefined,
    };
    let err: unknown;
    try {
      readPartitionTable(dev);
    } catch (e) {
      err = e;
    }
    expect((err as GuestkitError).code).toBe('LIMIT');
  });
});

// Warnings go to stderr by default; tests that expect none keep them.
const warnings: string[] = [];
beforeAll(() => setWarningSink((m) => warnings.push(m)));
afterAll(() => expect(warnings).toEqual([]));

// GPT on disks partitioned by sfdisk and fdisk (recipes part-tables, part-probes, sample,
// part-bad), compared with what sfdisk --json (fdisk -b 4096 for 4 KiB sectors) reads from the
// same disks; the backup header used when the primary is bad, with a warning; errors for the rest.

import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { join } from 'node:path';
import { openImage, readPartitionTable, setWarningSink, GuestkitError, LIMITS, type BlockDevice } from '@guestkit/core';
import { ensureImage } from '../../../test/helpers/images.js';
import { readTable, expectSameAsSfdisk } from './part-oracle.js';
import { crc32 } from '../src/volume/crc32.js';

const opened: BlockDevice[] = [];
function open(path: string): BlockDevice {
  const d = openImage(path);
  opened.push(d);
  return d;
}
let warnings: string[] = [];
beforeAll(() => setWarningSink((m) => warnings.push(m)));
beforeEach(() => {
  warnings = [];
});
afterAll(() => opened.forEach((d) => d.close()));

describe('GPT as sfdisk reads it', () => {
  let dir: string;
  beforeAll(() => {
    dir = ensureImage('part-tables');
  });

  it('entries numbered by slot + 1: deleted entry 9 leaves partition 10; UTF-16 names; type names', () => {
    const path = join(dir, 'part-gpt.raw');
    const t = readPartitionTable(open(path))!;
    expectSameAsSfdisk(t, readTable(path));
    expect(t.partitions.map((p) => p.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 10]);
    expect(t.partitions[3].name).toBe('données');
    expect(t.partitions.map((p) => p.typeName)).toEqual([
      'EFI System', 'Microsoft reserved', 'Linux filesystem', 'Linux filesystem', 'Linux swap',
      'Microsoft basic data', 'Microsoft basic data', 'Linux filesystem', 'Linux filesystem',
    ]);
    expect(warnings).toEqual([]);
  });

  it('4096-byte sectors: the header found at LBA 1 = byte 4096, LBAs in 4 KiB units (fdisk -b 4096)', () => {
    const path = join(dir, 'part-gpt4k.raw');
    const dev = open(path);
    expect(dev.sectorSize).toBe(512); // a raw file says nothing: the table tells
    const t = readPartitionTable(dev)!;
    expect(t.sectorSize).toBe(4096);
    expectSameAsSfdisk(t, readTable(path, 4096));
    expect(t.partitions[0].start).toBe(256 * 4096);
  });

  it('the qcow2 copy reads the same', () => {
    expectSameAsSfdisk(readPartitionTable(open(join(dir, 'part-gpt.qcow2')))!, readTable(join(dir, 'part-gpt.raw')));
  });

  it('the sample guest and the probe disk (12 partitions)', () => {
    for (const path of [ensureImage('sample', 'sample.raw'), ensureImage('part-probes', 'part-probes.raw')]) {
      expectSameAsSfdisk(readPartitionTable(open(path))!, readTable(path));
    }
  });
});

describe('bad GPTs', () => {
  let dir: string;
  beforeAll(() => {
    dir = ensureImage('part-bad');
  });

  it('bad primary header CRC: the backup header is used, and a warning says so', () => {
    const path = join(dir, 'gpt-bad-primary.raw');
    const t = readPartitionTable(open(path))!;
    expectSameAsSfdisk(t, readTable(path));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/primary GPT at LBA 1 is unusable: header CRC32 mismatch .*; using the backup GPT header at LBA 16383$/);
  });

  it('bad primary entry array CRC: the backup is used, with a warning', () => {
    const path = join(dir, 'gpt-bad-entries.raw');
    expectSameAsSfdisk(readPartitionTable(open(path))!, readTable(path));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/partition entry array CRC32 mismatch/);
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

  it('both headers bad: CORRUPT naming both problems', () => {
    const e = errorOf('gpt-bad-both.raw');
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/^GPT: both headers are unusable: primary at LBA 1: header CRC32 mismatch .*; backup at LBA 16383: header CRC32 mismatch/);
  });

  it('a partition that ends past the disk: CORRUPT naming it', () => {
    const e = errorOf('gpt-past-end.raw');
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toBe('GPT partition 2: LBAs 6144-17384 end past the end of the disk (16384 sectors)');
  });

  it('a protective MBR over garbage: CORRUPT, no GPT header', () => {
    const e = errorOf('pmbr-garbage.raw');
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/protective MBR but no GPT header at LBA 1 or at its last LBA/);
  });

  it(`a valid header asking for more than ${LIMITS.maxGptEntries} entries: LIMIT, nothing allocated`, () => {
    // A copy whose primary header asks for a million entries, its header CRC redone by hand.
    const src = open(join(dir, 'gpt-bad-primary.raw'));
    const size = src.size;
    const bytes = new Uint8Array(size);
    src.pread(bytes, 0);
    const dv = new DataView(bytes.buffer);
    const h = 512;
    dv.setUint32(h + 80, 1_000_000, true);
    dv.setUint32(h + 16, 0, true);
    dv.setUint32(h + 16, crc32(bytes.subarray(h, h + 92)), true);
    const dev: BlockDevice = {
      size, sectorSize: 512, description: 'memory disk',
      pread: (b, pos) => (b.set(bytes.subarray(pos, pos + b.length)), Math.min(b.length, size - pos)),
      map: () => [], close: () => undefined,
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

// Content probes against blkid: every partition of the test disks (filesystems made by mke2fs,
// mkfs.fat, mkfs.xfs, mkntfs, mkswap, mkfs.exfat, mkfs.btrfs, mksquashfs, genisoimage,
// cryptsetup luksFormat, pvcreate) is copied out with dd and `blkid -p -o export` run on the
// copy; probe() of the same partition read through guestkit must report the same TYPE, UUID,
// LABEL, VERSION and USAGE. Bad input: damaged superblocks are "nothing recognised", never a
// throw or a hang.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openImage, probe, readPartitionTable, SliceDevice, type BlockDevice, type ProbeResult } from '@guestkit/core';
import { ensureImage } from '../../../test/helpers/images.js';

let scratch: string;
const opened: BlockDevice[] = [];
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'guestkit-probe-'));
});
afterAll(() => {
  opened.forEach((d) => d.close());
  rmSync(scratch, { recursive: true, force: true });
});

/** `blkid -p -o export` of a file: KEY=VALUE lines, values with blkid's backslash escapes. */
function blkid(path: string): Record<string, string> {
  const r = spawnSync('blkid', ['-p', '-o', 'export', path], { encoding: 'utf8' });
  if (r.status === 2) return {}; // nothing found
  if (r.status !== 0) throw new Error(`blkid ${path}: ${r.stderr}`);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].replace(/\\(.)/g, '$1');
  }
  return out;
}

/** The blkid fields probe() reports, as probe() names them. */
function fromBlkid(b: Record<string, string>): Partial<ProbeResult> | null {
  if (!b.TYPE) return null;
  const r: Partial<ProbeResult> = { type: b.TYPE, usage: b.USAGE as ProbeResult['usage'] };
  if (b.UUID !== undefined) r.uuid = b.UUID;
  if (b.LABEL !== undefined) r.label = b.LABEL;
  if (b.VERSION !== undefined) r.version = b.VERSION;
  return r;
}

function ours(r: ProbeResult | null): Partial<ProbeResult> | null {
  if (!r) return null;
  const { fsSize: _ignored, ...rest } = r;
  return rest;
}

/** Compare every partition of `image` (raw) with blkid on its dd'd copy; returns the types seen. */
function compareDisk(image: string): string[] {
  const dev = openImage(image);
  opened.push(dev);
  const table = readPartitionTable(dev)!;
  const types: string[] = [];
  for (const p of table.partitions) {
    const copy = join(scratch, `part${p.index}.img`);
    execFileSync('dd', [`if=${image}`, `of=${copy}`, 'bs=1M', `skip=${p.start}`, `count=${p.size}`,
      'iflag=skip_bytes,count_bytes', 'conv=sparse', 'status=none']);
    const want = fromBlkid(blkid(copy));
    rmSync(copy);
    const got = ours(probe(new SliceDevice(dev, p.start, p.size, `partition ${p.index}`)));
    expect({ partition: p.index, ...got }).toEqual({ partition: p.index, ...want });
    types.push(got?.type ?? '-');
  }
  return types;
}

describe('probe() agrees with blkid -p on each partition', () => {
  it('MBR disk: ext4, FAT16, swap, NTFS (label with a blank), ext2, empty', () => {
    expect(compareDisk(ensureImage('part-tables', 'part-mbr.raw'))).toEqual(['ext4', 'vfat', '-', 'swap', 'ntfs', 'ext2', '-']);
  });

  it('GPT disk: FAT32, reserved, ext4 (4 KiB blocks), XFS, swap, NTFS, exFAT, ext3, empty', () => {
    expect(compareDisk(ensureImage('part-tables', 'part-gpt.raw'))).toEqual(['vfat', '-', 'ext4', 'xfs', 'swap', 'ntfs', 'exfat', 'ext3', '-']);
  });

  it('4 KiB-sector GPT disk: FAT16 with 4 KiB sectors, ext4, swap, NTFS with 4 KiB sectors', () => {
    expect(compareDisk(ensureImage('part-tables', 'part-gpt4k.raw'))).toEqual(['vfat', 'ext4', 'swap', 'ntfs']);
  });

  it('LUKS1, LUKS2, LVM2 PV, ISO 9660 with and without Joliet, squashfs, btrfs, FAT12, ext4 without journal, jbd, exFAT, swap', () => {
    const dir = ensureImage('part-probes');
    const ids = JSON.parse(readFileSync(join(dir, 'ids.json'), 'utf8'));
    const types = compareDisk(join(dir, 'part-probes.raw'));
    const expected = ['crypto_LUKS', 'crypto_LUKS', 'LVM2_member', 'iso9660', 'iso9660', 'squashfs', 'btrfs', 'vfat', 'ext4', 'jbd', 'exfat', 'swap'];
    if (ids.pv === null) {
      // No loop device on this machine: pvcreate could not run (see the recipe); the partition is empty.
      expected[2] = '-';
      console.warn('probe test: no LVM2 PV in part-probes (pvcreate needs a loop device); LVM2_member not checked against blkid');
    }
    expect(types).toEqual(expected);
  });

  it('the sample guest', () => {
    expect(compareDisk(ensureImage('sample', 'sample.raw'))).toEqual(['vfat', 'ext4']);
  });
});

describe('fsSize: the size Linux statfs reports once mounted', () => {
  it('FAT12/16/32: bsize × blocks of statvfs recorded by libguestfs (recipes fat-images, fat-linux)', () => {
    const oracle = JSON.parse(readFileSync(ensureImage('fat-linux', 'oracle.json'), 'utf8'));
    const images: Record<string, string> = {
      fat12: ensureImage('fat-images', 'fat12.img'),
      fat16: ensureImage('fat-images', 'fat16.img'),
      fat32: ensureImage('fat-images', 'fat32.img'),
      linux: ensureImage('fat-linux', 'linux.img'),
    };
    for (const [name, path] of Object.entries(images)) {
      const dev = openImage(path, { format: 'raw' });
      opened.push(dev);
      const st = oracle[name].statvfs;
      expect([name, probe(dev)?.fsSize]).toEqual([name, st.bsize * st.blocks]);
    }
  });

  it('ext2/3/4: blocks minus the overhead mke2fs recorded (dumpe2fs "Overhead clusters"), which Linux recomputes alike', () => {
    const disks = [ensureImage('part-tables', 'part-mbr.raw'), ensureImage('part-tables', 'part-gpt.raw'), ensureImage('part-tables', 'part-gpt4k.raw'),
      ensureImage('part-probes', 'part-probes.raw'), ensureImage('sample', 'sample.raw')];
    let checked = 0;
    for (const image of disks) {
      const dev = openImage(image);
      opened.push(dev);
      for (const p of readPartitionTable(dev)!.partitions) {
        const r = probe(new SliceDevice(dev, p.start, p.size, `partition ${p.index}`));
        if (!r || !/^ext[234]$/.test(r.type)) continue;
        const copy = join(scratch, 'ext.img');
        execFileSync('dd', [`if=${image}`, `of=${copy}`, 'bs=1M', `skip=${p.start}`, `count=${p.size}`, 'iflag=skip_bytes,count_bytes', 'conv=sparse', 'status=none']);
        const h = execFileSync('dumpe2fs', ['-h', copy], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        rmSync(copy);
        const field = (n: string) => Number(new RegExp(`^${n}:\\s+(\\d+)`, 'm').exec(h)![1]);
        expect(r.fsSize).toBe((field('Block count') - field('Overhead clusters')) * field('Block size'));
        checked++;
      }
    }
    expect(checked).toBe(7);
  });
});

describe('probe() on bad input', () => {
  /** An in-memory device. */
  function mem(bytes: Uint8Array, what = 'memory'): BlockDevice {
    return {
      size: bytes.length, sectorSize: 512, description: what,
      pread: (b, pos) => {
        const n = Math.max(0, Math.min(b.length, bytes.length - pos));
        b.set(bytes.subarray(pos, pos + n));
        return n;
      },
      map: () => [], close: () => undefined,
    };
  }

  /** Copy of a partition's first MiB with `patch` applied. */
  function damaged(image: string, index: number, patch: (b: Uint8Array, dv: DataView) => void, len = 1 << 20): BlockDevice {
    const dev = openImage(image);
    opened.push(dev);
    const p = readPartitionTable(dev)!.partitions.find((x) => x.index === index)!;
    const b = new Uint8Array(Math.min(len, p.size));
    dev.pread(b, p.start);
    patch(b, new DataView(b.buffer));
    return mem(b);
  }

  it('empty and tiny devices: nothing recognised', () => {
    expect(probe(mem(new Uint8Array(0)))).toBeNull();
    expect(probe(mem(new Uint8Array(100)))).toBeNull();
  });

  it('a superblock cut short by the end of the device is not recognised', () => {
    const gpt = ensureImage('part-tables', 'part-gpt.raw');
    // ext4's superblock at 1 KiB cut at 1.5 KiB; XFS at 64 bytes.
    expect(probe(damaged(gpt, 3, () => undefined, 1536))).toBeNull();
    expect(probe(damaged(gpt, 4, () => undefined, 64))).toBeNull();
  });

  it('absurd superblock fields make "no filesystem", not a throw: XFS block size, FAT cluster size, NTFS MFT', () => {
    const gpt = ensureImage('part-tables', 'part-gpt.raw');
    expect(probe(damaged(gpt, 4, (_, dv) => dv.setUint32(4, 3, false)))).toBeNull(); // sb_blocksize
    expect(probe(damaged(gpt, 1, (b) => (b[0x0d] = 3)))).toBeNull(); // sectors per cluster not a power of 2
    expect(probe(damaged(gpt, 6, (_, dv) => dv.setBigUint64(0x30, 0xffffffffffffn, true)))).toBeNull(); // $MFT cluster
  });

  it('a FAT32 root directory whose cluster chain loops: the label search stops, bounded', () => {
    const gpt = ensureImage('part-tables', 'part-gpt.raw');
    const dev = damaged(gpt, 1, (b, dv) => {
      const reserved = dv.getUint16(0x0e, true);
      const spc = b[0x0d];
      const fatLen = dv.getUint32(0x24, true);
      const root = dv.getUint32(0x2c, true);
      const rootOff = (reserved + b[0x10] * fatLen + (root - 2) * spc) * 512;
      for (let e = 0; e < spc * 512; e += 32) b[rootOff + e] = 0xe5; // every entry deleted: search on
      dv.setUint32(reserved * 512 + root * 4, root, true); // ... into the same cluster, forever
    }, 4 << 20);
    const r = probe(dev);
    expect(r?.type).toBe('vfat');
    expect(r?.label).toBeUndefined();
  });

  it('pseudo-random bytes: nothing recognised', () => {
    const dir = ensureImage('part-bad');
    const dev = openImage(join(dir, 'garbage.raw'));
    opened.push(dev);
    expect(probe(dev)).toBeNull();
  });
});

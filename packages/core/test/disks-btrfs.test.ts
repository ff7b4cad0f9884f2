// The disk set and multi-device / multi-subvolume btrfs: members found by fsid across the -a
// images (whichever member is opened, the reader gets the others), and list_filesystems'
// btrfsvol:DEVICE/PATH entries. Images: btrfs-guestfs (filled by Linux in the appliance).

import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiskSet } from '../src/disks.js';
import type { Filesystem } from '../src/fs/vfs.js';
import type { BtrfsFilesystem } from '../src/fs/btrfs/index.js';
import { resolve, sha256Of, warnings } from './btrfs-helpers.js';
import { ensureImage } from '../../../test/helpers/images.js';

let dir = '';
const open: DiskSet[] = [];

beforeAll(() => {
  dir = ensureImage('btrfs-guestfs');
});
afterEach(() => {
  for (const d of open.splice(0)) d.close();
  warnings.length = 0;
});

function disks(...files: string[]): DiskSet {
  const d = DiskSet.open(files.map((f) => ({ path: join(dir, f), format: 'raw' })));
  open.push(d);
  return d;
}

/** sha256 of the file at `path` through the reader the disk set opened. */
function sha256(fs: Filesystem, path: string): string {
  const b = fs as BtrfsFilesystem;
  const ino = resolve(b, path);
  return sha256Of(b, ino, b.stat(ino).size);
}

/** sha256 of each file as the kernel read it (btrfs-guestfs's oracle). */
function kernelSums(name: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(join(dir, `${name}.oracle.sha256`), 'utf8').trim().split('\n')) {
    m.set(line.slice(66).replace(/^\.\//, ''), line.slice(0, 64));
  }
  return m;
}

describe('multi-device btrfs in a disk set', () => {
  it('finds the members by fsid and gives them to the reader, whichever member is opened', () => {
    const set = disks('raid0-a.img', 'dup.img', 'raid0-b.img', 'raid0-c.img');
    const [a, dup, b, c] = set.disks;
    expect(set.btrfsMembers(b).map((d) => d.name)).toEqual([a.name, b.name, c.name]);
    expect(set.btrfsMembers(dup).map((d) => d.name)).toEqual([dup.name]);
    const sums = kernelSums('raid0');
    const big = 'sizes/size-1048577';
    for (const dev of ['/dev/sda', '/dev/sdc', '/dev/sdd']) {
      const fs = set.openFilesystem(dev);
      expect(fs.warnings ?? []).toEqual([]);
      expect(sha256(fs, big), dev).toBe(sums.get(big));
    }
    expect(warnings).toEqual([]);
  });

  it('reads RAID0 data with one member absent only where the stripes allow, naming the missing device', () => {
    const set = disks('raid0-a.img', 'raid0-b.img');
    const fs = set.openFilesystem('/dev/sda');
    expect(warnings.join('\n')).toMatch(/2 of 3 devices given \(devid 3 missing\)/);
    expect(() => sha256(fs, 'sizes/size-1048577')).toThrow(/only on btrfs device 3, which was not given/);
  });

  it('lists each member device in filesystems(), as list_filesystems does', () => {
    const set = disks('raid1-a.img', 'raid1-b.img');
    expect(set.filesystems().map((f) => [f.mountable, f.type])).toEqual([['/dev/sda', 'btrfs'], ['/dev/sdb', 'btrfs']]);
  });
});

describe('btrfs subvolumes in filesystems({ btrfsSubvolumes: true })', () => {
  it('lists btrfsvol:DEVICE/PATH for every subvolume but the default one, in id order, as `btrfs subvolume list` names them', () => {
    const set = disks('compress.img');
    // compress.img: zstd (256, the default), zstd/inner (257), lzo (258), zlib (259), snap-zstd (260).
    expect(set.filesystems().map((f) => f.mountable)).toEqual(['/dev/sda']);
    const all = set.filesystems({ btrfsSubvolumes: true });
    expect(all.map((f) => f.mountable)).toEqual([
      '/dev/sda', 'btrfsvol:/dev/sda/inner', 'btrfsvol:/dev/sda/lzo', 'btrfsvol:/dev/sda/zlib', 'btrfsvol:/dev/sda/snap-zstd',
    ]);
    // zstd/inner is named from the default subvolume zstd, as `btrfs subvolume list` on a mount
    // of the default names it; like libguestfs, that name does not mount.
    expect(() => set.openFilesystem('/dev/sda', { options: 'subvol=inner' })).toThrow(/does not exist|not found/i);
    for (const f of all.slice(2)) {
      const fs = set.openFilesystem(f.device.name, { options: `subvol=${f.subvolume}` });
      expect(fs.lookup(fs.rootIno, 'etc'), f.mountable).not.toBeNull();
    }
  });
});

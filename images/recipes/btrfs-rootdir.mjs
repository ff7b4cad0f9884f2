// btrfs images made by `mkfs.btrfs --rootdir` from the Linux fixture tree (with the
// 20,000-entry bigdir/) plus the btrfs additions of fixtures/btrfs-tree.mjs:
//   btrfs.img         mkfs.btrfs defaults (btrfs-progs 6.2: single data, DUP metadata and
//                     system, no-holes, free space tree), 16 KiB nodes
//   btrfs-n4k.img     4 KiB nodes: taller trees (the fs tree reaches level 2)
//   btrfs-mixed.img   mixed data+metadata block groups (-M)
//   btrfs-xxhash.img, btrfs-sha256.img, btrfs-blake2.img   the other checksum types
// Next to them: tree/ (the fixture tree), manifest.json (linuxTreeManifest of the tree) and
// images.json (the UUID, label and mkfs options of each image).
//
// What btrfs-progs 6.2 --rootdir does not copy (checked by the tests against the kernel's view
// in btrfs-guestfs): nanoseconds of times, device numbers (rdev is 0), the root directory's
// times (mkfs time); inode numbers are the host's (st_ino), so they differ between hosts.
// UUIDs are fixed (-U); the device and chunk-tree UUIDs are random (no mkfs option).

import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { run } from '../lib.mjs';
import { writeLinuxTree, linuxTreeManifest, applyLinuxTreeTimes } from '../fixtures/linux-tree.mjs';
import { writeBtrfsExtras } from '../fixtures/btrfs-tree.mjs';

export const BTRFS_ROOTDIR_IMAGES = [
  { image: 'btrfs.img', uuid: '7b1f5c2e-0001-4d3a-9c1e-b7f5a0000001', label: 'btrfs-root', args: [] },
  { image: 'btrfs-n4k.img', uuid: '7b1f5c2e-0002-4d3a-9c1e-b7f5a0000002', label: 'btrfs-n4k', args: ['-n', '4096'] },
  { image: 'btrfs-mixed.img', uuid: '7b1f5c2e-0003-4d3a-9c1e-b7f5a0000003', label: 'btrfs-mixed', args: ['-M', '-n', '4096'] },
  { image: 'btrfs-xxhash.img', uuid: '7b1f5c2e-0004-4d3a-9c1e-b7f5a0000004', label: 'btrfs-xxhash', args: ['--csum', 'xxhash'] },
  { image: 'btrfs-sha256.img', uuid: '7b1f5c2e-0005-4d3a-9c1e-b7f5a0000005', label: 'btrfs-sha256', args: ['--csum', 'sha256'] },
  { image: 'btrfs-blake2.img', uuid: '7b1f5c2e-0006-4d3a-9c1e-b7f5a0000006', label: 'btrfs-blake2', args: ['--csum', 'blake2'] },
];

export const BTRFS_IMAGE_MIB = 512;

export default {
  name: 'btrfs-rootdir',
  inputs: ['fixtures/linux-tree.mjs', 'fixtures/btrfs-tree.mjs'],
  tools: ['mkfs.btrfs', 'setfattr', 'setfacl'],
  async build({ out }) {
    const tree = join(out, 'tree');
    writeLinuxTree(tree, { bigDir: true, etc: { 'fstab-btrfs': 'LABEL=btrfs-root / btrfs defaults 0 0\n' } });
    writeBtrfsExtras(tree);
    applyLinuxTreeTimes(tree);
    const manifest = linuxTreeManifest(tree);
    writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest));
    // The manifest read every directory (and moved its atime): restore the fixed times.
    applyLinuxTreeTimes(tree);
    for (const im of BTRFS_ROOTDIR_IMAGES) {
      const img = join(out, im.image);
      run('truncate', ['-s', `${BTRFS_IMAGE_MIB}M`, img]);
      run('mkfs.btrfs', ['-q', '-f', '-U', im.uuid, '-L', im.label, ...im.args, '--rootdir', tree, img]);
      applyLinuxTreeTimes(tree);
    }
    writeFileSync(join(out, 'images.json'), JSON.stringify(BTRFS_ROOTDIR_IMAGES, null, 2) + '\n');
  },
};

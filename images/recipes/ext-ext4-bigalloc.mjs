// ext4 with bigalloc (16 KiB clusters of 4 KiB blocks), meta_bg group descriptors (no
// resize inode) and sparse_super2 (two superblock backups), from the Linux fixture tree;
// directories indexed with half-MD4, unsigned-char variant.

import { buildExtImage } from './ext-ext4.mjs';

export default {
  name: 'ext-ext4-bigalloc',
  inputs: ['fixtures/linux-tree.mjs', 'recipes/ext-ext4.mjs'],
  tools: ['mke2fs', 'e2fsck', 'debugfs', 'tune2fs', 'setfattr', 'setfacl'],
  async build({ out }) {
    buildExtImage(out, {
      image: 'ext4-bigalloc.img',
      type: 'ext4',
      sizeMiB: 160,
      blockSize: 4096,
      clusterSize: 16384,
      inodeSize: 256,
      inodes: 4096,
      features: 'bigalloc,meta_bg,^resize_inode,sparse_super2',
      extended: ['num_backup_sb=2'],
      uuid: 'e4e4e4e4-0b16-4000-8000-000000000006',
      hashSeed: 'e4e4e4e4-0b16-4000-8000-0000000000a6',
      label: 'ext4-bigalloc',
      tree: {},
      hashAlg: 'half_md4',
      unsignedHash: true,
    });
  },
};

// ext2 with 4 KiB blocks, 128-byte inodes (no extra fields: no nanoseconds, no crtime, all
// xattrs in blocks), without the filetype feature (entry types come from the inodes) and
// without dir_index (linear directories), from the Linux fixture tree.

import { buildExtImage } from './ext-ext4.mjs';

export default {
  name: 'ext-ext2',
  inputs: ['fixtures/linux-tree.mjs', 'recipes/ext-ext4.mjs'],
  tools: ['mke2fs', 'e2fsck', 'debugfs', 'tune2fs', 'setfattr', 'setfacl'],
  async build({ out }) {
    buildExtImage(out, {
      image: 'ext2.img',
      type: 'ext2',
      sizeMiB: 32,
      blockSize: 4096,
      inodeSize: 128,
      inodes: 2048,
      features: '^filetype,^dir_index',
      uuid: 'e2e2e2e2-0004-4000-8000-000000000004',
      hashSeed: 'e2e2e2e2-0004-4000-8000-0000000000a4',
      label: 'ext2-4k',
      tree: {},
    });
  },
};

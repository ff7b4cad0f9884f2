// ext3 with 1 KiB blocks (indirect block maps, journal), 256-byte inodes, from the Linux
// fixture tree with a 6,000-entry directory indexed with the legacy hash (signed) and the
// 2 GiB sparse file, whose far end needs triple-indirect blocks (past 64 MiB + 268 KiB).

import { buildExtImage } from './ext-ext4.mjs';

export default {
  name: 'ext-ext3',
  inputs: ['fixtures/linux-tree.mjs', 'recipes/ext-ext4.mjs'],
  tools: ['mke2fs', 'e2fsck', 'debugfs', 'tune2fs', 'setfattr', 'setfacl'],
  async build({ out }) {
    buildExtImage(out, {
      image: 'ext3.img',
      type: 'ext3',
      sizeMiB: 48,
      blockSize: 1024,
      inodeSize: 256,
      inodes: 8192,
      uuid: 'e3e3e3e3-0001-4000-8000-000000000003',
      hashSeed: 'e3e3e3e3-0001-4000-8000-0000000000a3',
      label: 'ext3-1k',
      tree: { bigDir: 6000, sparse: true },
      hashAlg: 'legacy',
    });
  },
};

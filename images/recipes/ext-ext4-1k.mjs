// ext4 with 1 KiB blocks, 32-bit group descriptors (^64bit) and no metadata_csum (so the
// older uninit_bg group checksums), from the Linux fixture tree with a 6,000-entry
// directory: indexed with the TEA hash and the unsigned-char variant, two levels deep
// (1 KiB blocks hold few index entries). Extent trees here reach depth 2.

import { buildExtImage } from './ext-ext4.mjs';

export default {
  name: 'ext-ext4-1k',
  inputs: ['fixtures/linux-tree.mjs', 'recipes/ext-ext4.mjs'],
  tools: ['mke2fs', 'e2fsck', 'debugfs', 'tune2fs', 'setfattr', 'setfacl'],
  async build({ out }) {
    buildExtImage(out, {
      image: 'ext4-1k.img',
      type: 'ext4',
      sizeMiB: 48,
      blockSize: 1024,
      inodeSize: 256,
      inodes: 8192,
      features: '^64bit,^metadata_csum,uninit_bg',
      uuid: 'e4e4e4e4-0001-4000-8000-000000000002',
      hashSeed: 'e4e4e4e4-0001-4000-8000-0000000000a2',
      label: 'ext4-1k',
      tree: { bigDir: 6000 },
      hashAlg: 'tea',
      unsignedHash: true,
    });
  },
};

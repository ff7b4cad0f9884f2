// ext4 with inline_data and 1024-byte inodes (small files, directories and symlinks live
// in the inode and its system.data attribute), from the Linux fixture tree; directories
// indexed with the legacy hash, unsigned-char variant. With ea_inode: lost+found gets a
// 4096-byte user.huge attribute (more than an xattr block holds with its header), stored in
// an inode of its own (the host tree cannot carry such a value, so debugfs ea_set adds it;
// ea_set -f reads at most one block, hence the size; the value is ea-inode-value.bin).

import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { buildExtImage } from './ext-ext4.mjs';
import { prngBytes } from '../fixtures/linux-tree.mjs';

export default {
  name: 'ext-ext4-inline',
  inputs: ['fixtures/linux-tree.mjs', 'recipes/ext-ext4.mjs'],
  tools: ['mke2fs', 'e2fsck', 'debugfs', 'tune2fs', 'setfattr', 'setfacl'],
  async build({ out }) {
    const value = join(out, 'ea-inode-value.bin');
    writeFileSync(value, prngBytes('ea-inode-value', 4096));
    buildExtImage(out, {
      image: 'ext4-inline.img',
      type: 'ext4',
      sizeMiB: 32,
      blockSize: 4096,
      inodeSize: 1024,
      inodes: 2048,
      features: 'inline_data,ea_inode',
      uuid: 'e4e4e4e4-00d1-4000-8000-000000000005',
      hashSeed: 'e4e4e4e4-00d1-4000-8000-0000000000a5',
      label: 'ext4-inline',
      tree: {},
      hashAlg: 'legacy',
      unsignedHash: true,
      pre: () => [`ea_set -f ${value} /lost+found user.huge`],
      // debugfs's ea_set leaves lost+found's i_blocks without the EA inode's blocks.
      fsckAfter: true,
    });
  },
};

// Native read-only btrfs: openBtrfs() gives the Filesystem interface of fs/vfs.ts. One
// on-disk structure per module (btrfs docs, "On-disk Format"): superblock, dev-item, chunk,
// key, tree (headers, nodes, leaves), root-tree (ROOT_ITEM, ROOT_REF/BACKREF), inode
// (INODE_ITEM, INODE_REF), dir (DIR_ITEM/DIR_INDEX), xattr (XATTR_ITEM), extent-data
// (EXTENT_DATA), block-group (BLOCK_GROUP_ITEM); csum, lzo and compression for the encodings;
// devices (logical reads over the chunk map), statfs, and filesystem (the reader).

import type { BlockDevice } from '../../block/device.js';
import type { Filesystem } from '../vfs.js';
import { BtrfsFilesystem, type BtrfsOpenOptions } from './filesystem.js';

export { BtrfsFilesystem, type BtrfsOpenOptions, type BtrfsSubvolume, BTRFS_SLOT_SPAN, BTRFS_OVERFLOW_BASE } from './filesystem.js';
export { parseSuperblock, readSuperblock, hasBtrfsMagic, superblockOffset, type Superblock } from './superblock.js';
export { lzo1xDecompress, btrfsLzoDecompress } from './lzo.js';
export { btrfsNameHash } from './dir.js';
export type { FileExtent } from './extent-data.js';
export { xxh64 } from './csum.js';

/** Open the btrfs filesystem on `dev` (read-only); opts.options takes subvol=PATH / subvolid=N. */
export function openBtrfs(dev: BlockDevice, opts: BtrfsOpenOptions = {}): Filesystem & BtrfsFilesystem {
  return new BtrfsFilesystem(dev, opts);
}

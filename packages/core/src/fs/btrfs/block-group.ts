// struct btrfs_block_group_item (btrfs docs, "On-disk Format" § BLOCK_GROUP_ITEM;
// btrfs_tree.h): key (logical start, BLOCK_GROUP_ITEM, length) in the extent tree, or in the
// block group tree with the block_group_tree compat_ro feature; used, chunk_objectid, flags.
// One per chunk, with the same start and length.

import type { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';

export const BTRFS_BLOCK_GROUP_ITEM_SIZE = 24;

export interface BlockGroupItem {
  start: number;
  length: number;
  /** Bytes of the group in use (logical, one copy). */
  used: number;
  flags: number;
}

export function parseBlockGroupItem(b: Bytes, start: number, length: number): BlockGroupItem {
  if (b.length < BTRFS_BLOCK_GROUP_ITEM_SIZE) {
    throw new GuestkitError('CORRUPT', `${b.what}: BLOCK_GROUP_ITEM of ${b.length} bytes (${BTRFS_BLOCK_GROUP_ITEM_SIZE} expected)`);
  }
  const used = b.u64le(0);
  if (used > length) throw new GuestkitError('CORRUPT', `${b.what}: block group uses ${used} of its ${length} bytes`);
  return { start, length, used, flags: Number(b.u64leBig(16) & 0xffffffffn) };
}

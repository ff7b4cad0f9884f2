// struct btrfs_dev_item (btrfs docs, "On-disk Format" § DEV_ITEM; btrfs_tree.h): one device
// of the filesystem, 98 bytes. A copy of the own device's item sits in every superblock; the
// chunk tree holds one per device at key (DEV_ITEMS_OBJECTID, DEV_ITEM, devid).

import type { Bytes } from '../../bytes.js';
import { formatUuid } from '../../bytes.js';

export const BTRFS_DEV_ITEM_SIZE = 98;

export interface DevItem {
  devid: number;
  /** Size of the device as the filesystem uses it. */
  totalBytes: number;
  /** Bytes allocated to chunks (dev extents) on the device. */
  bytesUsed: number;
  sectorSize: number;
  uuid: string;
  fsid: string;
}

export function parseDevItem(b: Bytes, off: number): DevItem {
  b.raw(off, BTRFS_DEV_ITEM_SIZE);
  return {
    devid: b.u64le(off),
    totalBytes: b.u64le(off + 8),
    bytesUsed: b.u64le(off + 16),
    sectorSize: b.u32le(off + 32),
    uuid: formatUuid(b.raw(off + 66, 16)),
    fsid: formatUuid(b.raw(off + 82, 16)),
  };
}

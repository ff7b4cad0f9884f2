// statfs as Linux's btrfs_statfs() computes it (fs/btrfs/super.c), from what is on disk: space
// infos summed from the block group items (disk_total = length × copies, disk_used = used ×
// copies, per DATA / METADATA / SYSTEM kind), f_blocks = total_bytes / data copies, f_bfree =
// f_blocks − used / data copies − the global block reserve, f_bavail = free space in data
// block groups + what btrfs_calc_avail_data_space() finds unallocated on the devices, both
// divided by the data copies. The global reserve is sized as Linux 6.1 (with the 2023
// fixes backported to Debian's 6.1, and 6.4+) sizes it in btrfs_update_global_block_rsv():
// max(bytes used by the extent, csum and free-space trees, insert size of (1 + those trees +
// 6 unlink units) items + delayed refs of the 6 unlink units (twice with the free space
// tree)), at most 512 MiB, where the insert size of n items is nodesize × 8 levels × 2 × n.
// The kernel's runtime state (read-only block groups, a full metadata space) is not on disk
// and is not modelled.

import type { StatFs } from '../vfs.js';
import type { BlockGroupItem } from './block-group.js';
import { BG, BG_PROFILE_MASK, profileFactor } from './chunk.js';
import type { DevItem } from './dev-item.js';
import type { Superblock } from './superblock.js';

const SZ_1M = 1024 * 1024;
const SZ_512M = 512 * SZ_1M;
const BTRFS_STRIPE_LEN = 64 * 1024;
const BTRFS_MAX_LEVEL = 8;

/** btrfs_raid_array order (BTRFS_RAID_*): the kernel's factor is the last populated one. */
const RAID_ORDER = [BG.RAID10, BG.RAID1, BG.DUP, BG.RAID0, 0, BG.RAID5, BG.RAID6, BG.RAID1C3, BG.RAID1C4];
/** devs_min, dev_stripes, ncopies per profile (btrfs_raid_array, 6.x). */
const RAID_ATTR: Record<number, { devsMin: number; devStripes: number; ncopies: number }> = {
  [BG.RAID10]: { devsMin: 2, devStripes: 1, ncopies: 2 },
  [BG.RAID1]: { devsMin: 2, devStripes: 1, ncopies: 2 },
  [BG.RAID1C3]: { devsMin: 3, devStripes: 1, ncopies: 3 },
  [BG.RAID1C4]: { devsMin: 4, devStripes: 1, ncopies: 4 },
  [BG.DUP]: { devsMin: 1, devStripes: 2, ncopies: 2 },
  [BG.RAID0]: { devsMin: 1, devStripes: 1, ncopies: 1 },
  0: { devsMin: 1, devStripes: 1, ncopies: 1 },
  [BG.RAID5]: { devsMin: 2, devStripes: 1, ncopies: 1 },
  [BG.RAID6]: { devsMin: 3, devStripes: 1, ncopies: 1 },
};

export interface StatfsInput {
  sb: Superblock;
  blockGroups: readonly BlockGroupItem[];
  /** DEV_ITEMs of the devices that are present. */
  devices: readonly DevItem[];
  /** bytes_used of the extent, csum and free-space tree roots that exist. */
  globalRootsUsed: number[];
  /** The free space tree (compat_ro free_space_tree) is enabled. */
  freeSpaceTree: boolean;
}

export function btrfsStatfs(inp: StatfsInput): StatFs {
  const { sb } = inp;
  const bits = Math.log2(sb.sectorSize);
  const shift = (n: number) => Math.floor(n / 2 ** bits);
  let totalUsed = 0;
  let totalFreeData = 0;
  let dataFactor = 1;
  let dataProfile = 0;
  let mixed = false;
  const dataProfiles = new Set<number>();
  for (const bg of inp.blockGroups) {
    const f = profileFactor(bg.flags);
    totalUsed += bg.used * f;
    if (bg.flags & BG.DATA) {
      totalFreeData += (bg.length - bg.used) * f;
      dataProfiles.add(bg.flags & BG_PROFILE_MASK);
      if (bg.flags & BG.METADATA) mixed = true;
    }
  }
  for (const p of RAID_ORDER) {
    if (dataProfiles.has(p)) {
      dataFactor = profileFactor(p);
      dataProfile = p;
    }
  }
  void mixed;
  const blocks = shift(Math.floor(sb.totalBytes / dataFactor));
  let bfree = blocks - shift(Math.floor(totalUsed / dataFactor));
  const rsv = globalReserve(sb, inp.globalRootsUsed, inp.freeSpaceTree);
  bfree = bfree >= shift(rsv) ? bfree - shift(rsv) : 0;
  const availData = calcAvailDataSpace(inp.devices, dataProfile);
  const bavail = shift(Math.floor(totalFreeData / dataFactor) + Math.floor(availData / dataFactor));
  return {
    bsize: sb.sectorSize,
    frsize: sb.sectorSize,
    blocks,
    bfree,
    bavail,
    files: 0,
    ffree: 0,
    favail: 0,
    namemax: 255,
  };
}

/** BTRFS_UNLINK_METADATA_UNITS: items an unlink reserves. */
const BTRFS_UNLINK_METADATA_UNITS = 6;

/** btrfs_update_global_block_rsv(). */
export function globalReserve(sb: Superblock, rootsUsed: readonly number[], freeSpaceTree: boolean): number {
  const insertSize = (items: number) => sb.nodeSize * BTRFS_MAX_LEVEL * 2 * items;
  const minItems = 1 + rootsUsed.length + BTRFS_UNLINK_METADATA_UNITS;
  const delayedRefs = insertSize(BTRFS_UNLINK_METADATA_UNITS) * (freeSpaceTree ? 2 : 1);
  const used = rootsUsed.reduce((a, b) => a + b, 0);
  return Math.min(Math.max(used, insertSize(minItems) + delayedRefs), SZ_512M);
}

/** btrfs_calc_avail_data_space(): unallocated device space usable for new data chunks. */
export function calcAvailDataSpace(devices: readonly DevItem[], profile: number): number {
  const attr = RAID_ATTR[profile] ?? RAID_ATTR[0];
  let numStripes = 1;
  if (profile === BG.RAID0) numStripes = devices.length;
  else if (profile === BG.RAID1 || profile === BG.RAID1C3 || profile === BG.RAID1C4) numStripes = attr.ncopies;
  else if (profile === BG.RAID10) numStripes = 4;
  const minStripeSize = attr.devStripes * BTRFS_STRIPE_LEN;
  const avail: number[] = [];
  for (const d of devices) {
    let a = d.totalBytes - d.bytesUsed;
    a -= a % BTRFS_STRIPE_LEN;
    if (a <= SZ_1M + minStripeSize) continue;
    avail.push(a - SZ_1M);
  }
  avail.sort((x, y) => y - x);
  let n = avail.length;
  let i = n - 1;
  let total = 0;
  while (n >= attr.devsMin && i >= 0) {
    numStripes = Math.min(numStripes, n);
    if (avail[i] >= minStripeSize) {
      const alloc = avail[i];
      total += alloc * numStripes;
      for (let j = i + 1 - numStripes; j <= i; j++) avail[j] -= alloc;
    }
    i--;
    n--;
  }
  return total;
}

// btrfs superblock (btrfs on-disk format, "Superblock": struct btrfs_super_block at 64 KiB),
// read as libblkid's superblocks/btrfs.c reads it.

import type { ProbeContext } from './context.js';
import { labelFromBytes, uuidOrNone } from './context.js';
import type { ProbeResult } from './types.js';

const BTRFS_SUPER_INFO_OFFSET = 64 * 1024;
const BTRFS_MAGIC = '_BHRfS_M';
/** libblkid ignores btrfs signatures on devices smaller than this. */
const BTRFS_MIN_DEVICE = 1024 * 1024;

export function probeBtrfs(ctx: ProbeContext): ProbeResult | null {
  if (ctx.size < BTRFS_MIN_DEVICE) return null;
  if (!ctx.magicAt(BTRFS_SUPER_INFO_OFFSET + 0x40, BTRFS_MAGIC)) return null;
  const b = ctx.read(BTRFS_SUPER_INFO_OFFSET, 0x12b + 256, 'btrfs superblock');
  if (!b) return null;
  const r: ProbeResult = { type: 'btrfs', usage: 'filesystem' };
  const label = b.raw(0x12b, 256);
  if (label[0] !== 0) {
    const l = labelFromBytes(label);
    if (l !== undefined) r.label = l;
  }
  const uuid = uuidOrNone(b.raw(0x20, 16));
  if (uuid) r.uuid = uuid;
  return r;
}

// SquashFS superblock (squashfs-tools squashfs_fs.h struct squashfs_super_block; Linux
// Documentation/filesystems/squashfs.rst), read as libblkid's superblocks/squashfs.c does;
// size as Linux squashfs_statfs() reports it (bytes used, in whole blocks).

import type { ProbeContext } from './context.js';
import type { ProbeResult } from './types.js';

export function probeSquashfs(ctx: ProbeContext): ProbeResult | null {
  const le = ctx.magicAt(0, 'hsqs');
  const be = !le && ctx.magicAt(0, 'sqsh');
  if (!le && !be) return null;
  const b = ctx.read(0, 96, 'squashfs superblock');
  if (!b) return null;
  const major = le ? b.u16le(28) : b.u16be(28);
  const minor = le ? b.u16le(30) : b.u16be(30);
  if (le && major >= 4) {
    const r: ProbeResult = { type: 'squashfs', usage: 'filesystem', version: `${major}.${minor}` };
    const blockSize = b.u32le(12);
    const blockLog = b.u16le(22);
    const bytesUsed = b.u64le(40);
    if (blockLog >= 12 && blockLog <= 20 && blockSize === 2 ** blockLog && bytesUsed > 0) {
      r.fsSize = (Math.floor((bytesUsed - 1) / blockSize) + 1) * blockSize;
    }
    return r;
  }
  if (major > 3) return null;
  return { type: 'squashfs3', usage: 'filesystem', version: `${major}.${minor}` };
}

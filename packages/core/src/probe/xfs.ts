// XFS superblock (xfs_format.h, struct xfs_dsb; XFS Algorithms & Data Structures §"Superblocks"),
// checked as libblkid's superblocks/xfs.c xfs_verify_sb() does; size as Linux 6.1
// xfs_fs_statfs() reports it (data blocks minus an internal log).

import type { ProbeContext } from './context.js';
import { labelFromBytes, uuidOrNone } from './context.js';
import type { ProbeResult } from './types.js';

const XFS_SB_MAGIC = 'XFSB';
const XFS_MIN_AG_BLOCKS = 64;

export function probeXfs(ctx: ProbeContext): ProbeResult | null {
  if (!ctx.magicAt(0, XFS_SB_MAGIC)) return null;
  const b = ctx.read(0, 128, 'XFS superblock');
  if (!b) return null;
  const sb_blocksize = b.u32be(4);
  const sb_dblocks = b.u64be(8);
  const sb_logstart = b.u64beBig(48);
  const sb_rextsize = b.u32be(80);
  const sb_agblocks = b.u32be(84);
  const sb_agcount = b.u32be(88);
  const sb_logblocks = b.u32be(96);
  const sb_sectsize = b.u16be(102);
  const sb_inodesize = b.u16be(104);
  const sb_blocklog = b.u8(120);
  const sb_sectlog = b.u8(121);
  const sb_inodelog = b.u8(122);
  const sb_inopblog = b.u8(123);
  const sb_imax_pct = b.u8(127);
  // xfs_verify_sb(): the magic alone is not trusted.
  if (
    sb_agcount <= 0 ||
    sb_sectsize < 512 || sb_sectsize > 32768 ||
    sb_sectlog < 9 || sb_sectlog > 15 ||
    sb_sectsize !== 2 ** sb_sectlog ||
    sb_blocksize < 512 || sb_blocksize > 65536 ||
    sb_blocklog < 9 || sb_blocklog > 16 ||
    sb_blocksize !== 2 ** sb_blocklog ||
    sb_inodesize < 256 || sb_inodesize > 2048 ||
    sb_inodelog < 8 || sb_inodelog > 11 ||
    sb_inodesize !== 2 ** sb_inodelog ||
    sb_blocklog - sb_inodelog !== sb_inopblog ||
    sb_rextsize * sb_blocksize > 1024 ** 3 ||
    sb_rextsize * sb_blocksize < 4096 ||
    sb_imax_pct > 100 ||
    sb_dblocks === 0 ||
    sb_dblocks > sb_agcount * sb_agblocks ||
    sb_dblocks < (sb_agcount - 1) * sb_agblocks + XFS_MIN_AG_BLOCKS
  ) {
    return null;
  }
  const r: ProbeResult = { type: 'xfs', usage: 'filesystem' };
  const fname = b.raw(108, 12);
  if (fname[0] !== 0) {
    const label = labelFromBytes(fname);
    if (label !== undefined) r.label = label;
  }
  const uuid = uuidOrNone(b.raw(32, 16));
  if (uuid) r.uuid = uuid;
  const logBlocks = sb_logstart !== 0n ? sb_logblocks : 0;
  if (sb_dblocks > logBlocks) r.fsSize = (sb_dblocks - logBlocks) * sb_blocksize;
  return r;
}

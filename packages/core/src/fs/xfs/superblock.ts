// XFS superblock, struct xfs_dsb (XFS Algorithms & Data Structures, "Superblocks";
// libxfs/xfs_format.h). v4 (sb_versionnum 4 with feature bits) and v5 (CRCs, feature masks).

import { Bytes, formatUuid } from '../../bytes.js';
import { corrupt, GuestkitError } from '../../errors.js';

export const XFS_SB_MAGIC = 0x58465342; // 'XFSB'

// sb_versionnum bits
export const XFS_SB_VERSION_NUMBITS = 0x000f;
export const XFS_SB_VERSION_ATTRBIT = 0x0010;
export const XFS_SB_VERSION_NLINKBIT = 0x0020;
export const XFS_SB_VERSION_ALIGNBIT = 0x0080;
export const XFS_SB_VERSION_LOGV2BIT = 0x0400;
export const XFS_SB_VERSION_EXTFLGBIT = 0x1000;
export const XFS_SB_VERSION_DIRV2BIT = 0x2000;
export const XFS_SB_VERSION_BORGBIT = 0x4000; // ASCII-only case-insensitive names
export const XFS_SB_VERSION_MOREBITSBIT = 0x8000;
// sb_features2 bits
export const XFS_SB_VERSION2_LAZYSBCOUNTBIT = 0x00000002;
export const XFS_SB_VERSION2_ATTR2BIT = 0x00000008;
export const XFS_SB_VERSION2_PARENTBIT = 0x00000010;
export const XFS_SB_VERSION2_PROJID32BIT = 0x00000080;
export const XFS_SB_VERSION2_CRCBIT = 0x00000100;
export const XFS_SB_VERSION2_FTYPE = 0x00000200;
// v5 feature masks
export const XFS_SB_FEAT_RO_COMPAT_FINOBT = 1 << 0;
export const XFS_SB_FEAT_RO_COMPAT_RMAPBT = 1 << 1;
export const XFS_SB_FEAT_RO_COMPAT_REFLINK = 1 << 2;
export const XFS_SB_FEAT_RO_COMPAT_INOBTCNT = 1 << 3;
export const XFS_SB_FEAT_INCOMPAT_FTYPE = 1 << 0;
export const XFS_SB_FEAT_INCOMPAT_SPINODES = 1 << 1;
export const XFS_SB_FEAT_INCOMPAT_META_UUID = 1 << 2;
export const XFS_SB_FEAT_INCOMPAT_BIGTIME = 1 << 3;
export const XFS_SB_FEAT_INCOMPAT_NEEDSREPAIR = 1 << 4;
export const XFS_SB_FEAT_INCOMPAT_NREXT64 = 1 << 5;
export const XFS_SB_FEAT_INCOMPAT_EXCHRANGE = 1 << 6;
export const XFS_SB_FEAT_INCOMPAT_PARENT = 1 << 7;

/** Incompatible features this reader understands (anything else is refused). */
const INCOMPAT_KNOWN =
  XFS_SB_FEAT_INCOMPAT_FTYPE |
  XFS_SB_FEAT_INCOMPAT_SPINODES |
  XFS_SB_FEAT_INCOMPAT_META_UUID |
  XFS_SB_FEAT_INCOMPAT_BIGTIME |
  XFS_SB_FEAT_INCOMPAT_NEEDSREPAIR |
  XFS_SB_FEAT_INCOMPAT_NREXT64 |
  XFS_SB_FEAT_INCOMPAT_EXCHRANGE |
  XFS_SB_FEAT_INCOMPAT_PARENT;

const INCOMPAT_NAMES: Record<number, string> = {
  [1 << 8]: 'metadir',
  [1 << 9]: 'zoned',
};

/** Offset of sb_crc (XFS_SB_CRC_OFF). */
export const XFS_SB_CRC_OFF = 224;
/** Bytes of the superblock structure read from sector 0 (through sb_meta_uuid). */
export const XFS_SB_SIZE = 264;

export interface XfsSuperblock {
  sb_blocksize: number;
  sb_dblocks: number;
  sb_rblocks: number;
  sb_uuid: Uint8Array;
  sb_logstart: number;
  sb_rootino: number;
  sb_agblocks: number;
  sb_agcount: number;
  sb_logblocks: number;
  sb_versionnum: number;
  sb_sectsize: number;
  sb_inodesize: number;
  sb_inopblock: number;
  sb_fname: string;
  sb_blocklog: number;
  sb_sectlog: number;
  sb_inodelog: number;
  sb_inopblog: number;
  sb_agblklog: number;
  sb_inprogress: number;
  sb_imax_pct: number;
  sb_icount: number;
  sb_ifree: number;
  sb_fdblocks: number;
  sb_dirblklog: number;
  sb_logsectsize: number;
  sb_features2: number;
  sb_features_compat: number;
  sb_features_ro_compat: number;
  sb_features_incompat: number;
  sb_features_log_incompat: number;
  sb_crc: number;
  sb_spino_align: number;
  sb_meta_uuid: Uint8Array;

  // Derived.
  version: 4 | 5;
  hasCrc: boolean;
  hasFtype: boolean;
  hasLazySbCount: boolean;
  hasFinobt: boolean;
  hasRmapbt: boolean;
  hasReflink: boolean;
  hasInobtCounts: boolean;
  hasSparseInodes: boolean;
  hasBigtime: boolean;
  hasNrext64: boolean;
  hasParent: boolean;
  hasAsciiCi: boolean;
  /** The UUID stamped into v5 metadata (sb_meta_uuid with META_UUID, else sb_uuid). */
  metaUuid: Uint8Array;
  uuid: string;
  dirBlockSize: number;
}

function log2Exact(v: number): number {
  const l = Math.log2(v);
  return Number.isInteger(l) ? l : -1;
}

/**
 * Parse and validate a superblock read from sector 0. `where` names the device for messages.
 * Geometry is checked against itself (xfs_validate_sb_common); feature bits we cannot read
 * are UNSUPPORTED.
 */
export function parseSuperblock(b: Bytes, where: string): XfsSuperblock {
  const what = `xfs superblock on ${where}`;
  const magic = b.u32be(0);
  if (magic !== XFS_SB_MAGIC) throw corrupt(what, `bad magic 0x${magic.toString(16)} (expected 0x58465342 'XFSB')`);
  const versionnum = b.u16be(100);
  const vnum = versionnum & XFS_SB_VERSION_NUMBITS;
  if (vnum !== 4 && vnum !== 5) {
    throw new GuestkitError('UNSUPPORTED', `${what}: superblock version ${vnum} (only 4 and 5 are supported)`);
  }
  const v5 = vnum === 5;
  const features2 = b.u32be(200);
  const sb: XfsSuperblock = {
    sb_blocksize: b.u32be(4),
    sb_dblocks: b.u64be(8),
    sb_rblocks: b.u64be(16),
    sb_uuid: b.raw(32, 16).slice(),
    sb_logstart: b.u64be(48),
    sb_rootino: b.u64be(56),
    sb_agblocks: b.u32be(84),
    sb_agcount: b.u32be(88),
    sb_logblocks: b.u32be(96),
    sb_versionnum: versionnum,
    sb_sectsize: b.u16be(102),
    sb_inodesize: b.u16be(104),
    sb_inopblock: b.u16be(106),
    sb_fname: b.cstring(108, 12),
    sb_blocklog: b.u8(120),
    sb_sectlog: b.u8(121),
    sb_inodelog: b.u8(122),
    sb_inopblog: b.u8(123),
    sb_agblklog: b.u8(124),
    sb_inprogress: b.u8(126),
    sb_imax_pct: b.u8(127),
    sb_icount: b.u64be(128),
    sb_ifree: b.u64be(136),
    sb_fdblocks: b.u64be(144),
    sb_dirblklog: b.u8(192),
    sb_logsectsize: b.u16be(194),
    sb_features2: features2,
    sb_features_compat: v5 ? b.u32be(208) : 0,
    sb_features_ro_compat: v5 ? b.u32be(212) : 0,
    sb_features_incompat: v5 ? b.u32be(216) : 0,
    sb_features_log_incompat: v5 ? b.u32be(220) : 0,
    sb_crc: v5 ? b.u32le(224) : 0,
    sb_spino_align: v5 ? b.u32be(228) : 0,
    sb_meta_uuid: v5 ? b.raw(248, 16).slice() : new Uint8Array(16),
    version: vnum,
    hasCrc: v5,
    hasFtype: false,
    hasLazySbCount: false,
    hasFinobt: false,
    hasRmapbt: false,
    hasReflink: false,
    hasInobtCounts: false,
    hasSparseInodes: false,
    hasBigtime: false,
    hasNrext64: false,
    hasParent: false,
    hasAsciiCi: (versionnum & XFS_SB_VERSION_BORGBIT) !== 0,
    metaUuid: new Uint8Array(16),
    uuid: '',
    dirBlockSize: 0,
  };
  const morebits = v5 || (versionnum & XFS_SB_VERSION_MOREBITSBIT) !== 0;
  const ro = sb.sb_features_ro_compat;
  const inc = sb.sb_features_incompat;
  sb.hasFtype = (v5 && (inc & XFS_SB_FEAT_INCOMPAT_FTYPE) !== 0) || (morebits && (features2 & XFS_SB_VERSION2_FTYPE) !== 0);
  sb.hasLazySbCount = v5 || (morebits && (features2 & XFS_SB_VERSION2_LAZYSBCOUNTBIT) !== 0);
  sb.hasFinobt = v5 && (ro & XFS_SB_FEAT_RO_COMPAT_FINOBT) !== 0;
  sb.hasRmapbt = v5 && (ro & XFS_SB_FEAT_RO_COMPAT_RMAPBT) !== 0;
  sb.hasReflink = v5 && (ro & XFS_SB_FEAT_RO_COMPAT_REFLINK) !== 0;
  sb.hasInobtCounts = v5 && (ro & XFS_SB_FEAT_RO_COMPAT_INOBTCNT) !== 0;
  sb.hasSparseInodes = v5 && (inc & XFS_SB_FEAT_INCOMPAT_SPINODES) !== 0;
  sb.hasBigtime = v5 && (inc & XFS_SB_FEAT_INCOMPAT_BIGTIME) !== 0;
  sb.hasNrext64 = v5 && (inc & XFS_SB_FEAT_INCOMPAT_NREXT64) !== 0;
  sb.hasParent = v5 && (inc & XFS_SB_FEAT_INCOMPAT_PARENT) !== 0;
  sb.metaUuid = v5 && (inc & XFS_SB_FEAT_INCOMPAT_META_UUID) !== 0 ? sb.sb_meta_uuid : sb.sb_uuid;
  sb.uuid = formatUuid(sb.sb_uuid);

  if (!v5 && !(versionnum & XFS_SB_VERSION_DIRV2BIT)) {
    throw new GuestkitError('UNSUPPORTED', `${what}: version 1 directories (no DIRV2 bit) are not supported`);
  }
  const unknown = inc & ~INCOMPAT_KNOWN;
  if (unknown) {
    const names = Object.entries(INCOMPAT_NAMES).filter(([bit]) => unknown & Number(bit)).map(([, n]) => n);
    throw new GuestkitError('UNSUPPORTED', `${what}: incompatible features 0x${unknown.toString(16)}${names.length ? ` (${names.join(', ')})` : ''} are not supported`);
  }

  // Geometry (xfs_validate_sb_common).
  const bad = (d: string) => corrupt(what, d);
  const blocklog = log2Exact(sb.sb_blocksize);
  if (blocklog < 9 || blocklog > 16 || blocklog !== sb.sb_blocklog) throw bad(`block size ${sb.sb_blocksize} (log ${sb.sb_blocklog}) is invalid`);
  const sectlog = log2Exact(sb.sb_sectsize);
  if (sectlog < 9 || sectlog > 15 || sectlog !== sb.sb_sectlog) throw bad(`sector size ${sb.sb_sectsize} (log ${sb.sb_sectlog}) is invalid`);
  const inodelog = log2Exact(sb.sb_inodesize);
  if (inodelog < 8 || inodelog > 11 || inodelog !== sb.sb_inodelog || sb.sb_inodesize > sb.sb_blocksize) {
    throw bad(`inode size ${sb.sb_inodesize} (log ${sb.sb_inodelog}) is invalid`);
  }
  if (v5 && sb.sb_inodesize < 512) throw bad(`inode size ${sb.sb_inodesize} is below 512 on a v5 filesystem`);
  if (sb.sb_inopblock !== sb.sb_blocksize / sb.sb_inodesize || sb.sb_inopblog !== blocklog - inodelog) {
    throw bad(`inodes per block ${sb.sb_inopblock} (log ${sb.sb_inopblog}) do not match the block and inode sizes`);
  }
  if (sb.sb_agcount < 1 || sb.sb_agblocks < 64) throw bad(`${sb.sb_agcount} allocation groups of ${sb.sb_agblocks} blocks`);
  if (sb.sb_agblklog !== Math.ceil(Math.log2(sb.sb_agblocks)) || sb.sb_agblklog + sb.sb_inopblog > 32) {
    throw bad(`sb_agblklog ${sb.sb_agblklog} does not match sb_agblocks ${sb.sb_agblocks}`);
  }
  const fullAgs = (sb.sb_agcount - 1) * sb.sb_agblocks;
  if (sb.sb_dblocks <= fullAgs || sb.sb_dblocks > fullAgs + sb.sb_agblocks) {
    throw bad(`sb_dblocks ${sb.sb_dblocks} does not fit ${sb.sb_agcount} allocation groups of ${sb.sb_agblocks} blocks`);
  }
  if (sb.sb_dirblklog > 16 - blocklog) throw bad(`directory block log ${sb.sb_dirblklog} is too large`);
  if (sb.sb_imax_pct > 100) throw bad(`sb_imax_pct ${sb.sb_imax_pct} is over 100`);
  if (sb.sb_logstart !== 0) {
    const agno = Math.floor(sb.sb_logstart / 2 ** sb.sb_agblklog);
    const agbno = sb.sb_logstart % 2 ** sb.sb_agblklog;
    if (sb.sb_logblocks === 0 || agno >= sb.sb_agcount || agbno + sb.sb_logblocks > sb.sb_agblocks) {
      throw bad(`internal log at block ${sb.sb_logstart} (${sb.sb_logblocks} blocks) is outside its allocation group`);
    }
  }
  if (sb.sb_inprogress) throw bad('mkfs did not finish (sb_inprogress is set)');
  sb.dirBlockSize = sb.sb_blocksize << sb.sb_dirblklog;
  return sb;
}

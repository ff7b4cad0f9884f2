// XFS on-disk inode, struct xfs_dinode (XFS Algorithms & Data Structures, "On-disk Inode";
// libxfs/xfs_format.h): the inode core (v1/v2: 100 bytes, v3: 176 bytes with CRC, crtime,
// flags2), then the data fork and, from di_forkoff, the attribute fork. Large extent counters
// (nrext64) and big timestamps (bigtime) change how fields are read.

import type { Bytes } from '../../bytes.js';
import { corrupt } from '../../errors.js';
import type { Timespec } from '../vfs.js';

export const XFS_DINODE_MAGIC = 0x494e; // 'IN'
export const XFS_DINODE_CRC_OFF = 100;

export const XFS_DINODE_FMT_DEV = 0;
export const XFS_DINODE_FMT_LOCAL = 1;
export const XFS_DINODE_FMT_EXTENTS = 2;
export const XFS_DINODE_FMT_BTREE = 3;
export const XFS_DINODE_FMT_UUID = 4;

export const XFS_DIFLAG_REALTIME = 1 << 0;
export const XFS_DIFLAG2_BIGTIME = 1 << 3;
export const XFS_DIFLAG2_NREXT64 = 1 << 4;

/** Seconds between the bigtime epoch (1901-12-13T20:45:52Z) and the Unix epoch. */
const XFS_BIGTIME_EPOCH_OFFSET = 2 ** 31;

export interface XfsDinode {
  ino: number;
  di_mode: number;
  di_version: number;
  di_format: number;
  di_uid: number;
  di_gid: number;
  di_nlink: number;
  di_projid: number;
  di_atime: Timespec;
  di_mtime: Timespec;
  di_ctime: Timespec;
  di_crtime?: Timespec;
  di_size: number;
  di_nblocks: number;
  di_extsize: number;
  /** Data fork extent count (di_nextents, or di_big_nextents with NREXT64). */
  nextents: number;
  /** Attribute fork extent count (di_anextents, or di_big_anextents with NREXT64). */
  anextents: number;
  di_forkoff: number;
  di_aformat: number;
  di_flags: number;
  di_gen: number;
  di_flags2: number;
  /** The data fork's literal area. */
  dfork: Bytes;
  /** The attribute fork's literal area, when the inode has one (di_forkoff != 0). */
  afork: Bytes | null;
}

/** Size of the inode core for a version (xfs_dinode_size). */
export function dinodeCoreSize(version: number): number {
  return version === 3 ? 176 : 100;
}

/** Legacy timestamp: signed 32-bit seconds, 32-bit nanoseconds (clamped as Linux would print). */
function legacyTime(b: Bytes, off: number): Timespec {
  return { sec: b.u32be(off) | 0, nsec: Math.min(b.u32be(off + 4), 999999999) };
}

/**
 * Bigtime timestamp: unsigned 64-bit nanoseconds since the bigtime epoch. Divided by 1e9 in
 * exact double arithmetic: the high word is split in 16-bit halves, whose weights 2^48 and
 * 2^32 are written as q·1e9 + r.
 */
function bigTime(b: Bytes, off: number): Timespec {
  const hi = b.u32be(off);
  const lo = b.u32be(off + 4);
  const hh = hi >>> 16, hl = hi & 0xffff;
  // 2^48 = 281474·1e9 + 976710656; 2^32 = 4·1e9 + 294967296.
  const rest = hh * 976710656 + hl * 294967296 + lo;
  const carry = Math.floor(rest / 1e9);
  const sec = hh * 281474 + hl * 4 + carry;
  return { sec: sec - XFS_BIGTIME_EPOCH_OFFSET, nsec: rest - carry * 1e9 };
}

/**
 * Parse inode `ino` from its `inodesize` bytes. `v3` says the filesystem is v5 (inodes must
 * be version 3); `nrext64` that large extent counters may be in use.
 */
export function parseDinode(b: Bytes, ino: number, v3: boolean): XfsDinode {
  const what = `xfs inode ${ino}`;
  const magic = b.u16be(0);
  if (magic !== XFS_DINODE_MAGIC) throw corrupt(what, `bad magic 0x${magic.toString(16)} (expected 0x494e 'IN')`);
  const version = b.u8(4);
  if (v3 ? version !== 3 : version !== 1 && version !== 2) {
    throw corrupt(what, `inode version ${version} on a v${v3 ? 5 : 4} filesystem`);
  }
  const coreSize = dinodeCoreSize(version);
  if (b.length < coreSize) throw corrupt(what, `inode size ${b.length} is smaller than its core`);
  // di_flags2 is 64 bits; every defined flag is in the low word.
  const flags2 = version === 3 ? b.u32be(124) : 0;
  const big = (flags2 & XFS_DIFLAG2_BIGTIME) !== 0;
  const nrext64 = (flags2 & XFS_DIFLAG2_NREXT64) !== 0;
  const t = big ? bigTime : legacyTime;
  if (version === 3) {
    const hi = b.u32be(152), lo = b.u32be(156);
    if (hi * 2 ** 32 + lo !== ino) throw corrupt(what, `di_ino says inode ${b.u64beBig(152)}`);
  }
  const forkoff = b.u8(82);
  const litSize = b.length - coreSize;
  if (forkoff * 8 >= litSize) throw corrupt(what, `attribute fork offset ${forkoff * 8} is past the inode literal area (${litSize} bytes)`);
  const dsize = forkoff ? forkoff * 8 : litSize;
  const d: XfsDinode = {
    ino,
    di_mode: b.u16be(2),
    di_version: version,
    di_format: b.u8(5),
    di_uid: b.u32be(8),
    di_gid: b.u32be(12),
    di_nlink: version === 1 ? b.u16be(6) : b.u32be(16),
    di_projid: version === 1 ? 0 : b.u16be(20) | (b.u16be(22) << 16),
    di_atime: t(b, 32),
    di_mtime: t(b, 40),
    di_ctime: t(b, 48),
    di_crtime: version === 3 ? t(b, 144) : undefined,
    di_size: 0,
    di_nblocks: b.u64be(64),
    di_extsize: b.u32be(72),
    nextents: nrext64 ? b.u64be(24) : b.u32be(76),
    anextents: nrext64 ? b.u32be(76) : b.u16be(80),
    di_forkoff: forkoff,
    di_aformat: b.u8(83),
    di_flags: b.u16be(90),
    di_gen: b.u32be(92),
    di_flags2: flags2,
    dfork: b.slice(coreSize, dsize, `${what} data fork`),
    afork: forkoff ? b.slice(coreSize + forkoff * 8, litSize - forkoff * 8, `${what} attribute fork`) : null,
  };
  const sizeHi = b.u32be(56);
  if (sizeHi >= 0x200000) throw corrupt(what, `di_size ${BigInt.asIntN(64, b.u64beBig(56))} is invalid`);
  d.di_size = sizeHi * 2 ** 32 + b.u32be(60);
  return d;
}

// struct btrfs_inode_item and struct btrfs_inode_ref (btrfs docs, "On-disk Format" §
// INODE_ITEM, INODE_REF; btrfs_tree.h). INODE_ITEM (key (ino, INODE_ITEM, 0), 160 bytes):
// generation, transid, size, nbytes, block_group, nlink, uid, gid, mode, rdev, flags,
// sequence, reserved, then atime, ctime, mtime, otime as struct btrfs_timespec (sec: le64,
// nsec: le32). INODE_REF (key (ino, INODE_REF, parent dir)): index, name_len, name, packed.

import type { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import type { Timespec } from '../vfs.js';

export const BTRFS_INODE_ITEM_SIZE = 160;

// btrfs_inode_item flags (BTRFS_INODE_*).
export const BTRFS_INODE_NODATASUM = 1 << 0;
export const BTRFS_INODE_NODATACOW = 1 << 1;
export const BTRFS_INODE_READONLY = 1 << 2;
export const BTRFS_INODE_NOCOMPRESS = 1 << 3;
export const BTRFS_INODE_PREALLOC = 1 << 4;
export const BTRFS_INODE_COMPRESS = 1 << 11;

export interface InodeItem {
  generation: number;
  size: number;
  /** Bytes of data allocated to the file (st_blocks * 512, roughly). */
  nbytes: number;
  nlink: number;
  uid: number;
  gid: number;
  mode: number;
  /** Kernel dev_t (major << 20 | minor), as btrfs stores it. */
  rdev: number;
  flags: number;
  atime: Timespec;
  ctime: Timespec;
  mtime: Timespec;
  otime: Timespec;
}

/** u64 from two bounds-checked u32 halves (no BigInt on this hot path); CORRUPT above 2^53. */
function u64(b: Bytes, off: number): number {
  const hi = b.u32le(off + 4);
  if (hi >= 0x200000) throw new GuestkitError('CORRUPT', `${b.what}: 64-bit field at offset ${off} is too large`);
  return hi * 2 ** 32 + b.u32le(off);
}

/** struct btrfs_timespec: sec as a signed 64-bit count (two's complement), nsec. */
function timespec(b: Bytes, off: number): Timespec {
  const lo = b.u32le(off);
  const hi = b.i32le(off + 4);
  if (hi >= 0x200000 || hi < -0x200000) throw new GuestkitError('CORRUPT', `${b.what}: time at offset ${off} is out of range`);
  const nsec = b.u32le(off + 8);
  return { sec: hi * 2 ** 32 + lo, nsec: nsec < 1_000_000_000 ? nsec : 0 };
}

export function parseInodeItem(b: Bytes): InodeItem {
  if (b.length < BTRFS_INODE_ITEM_SIZE) {
    throw new GuestkitError('CORRUPT', `${b.what}: INODE_ITEM of ${b.length} bytes (${BTRFS_INODE_ITEM_SIZE} expected)`);
  }
  return {
    generation: u64(b, 0),
    size: u64(b, 16),
    nbytes: u64(b, 24),
    nlink: b.u32le(40),
    uid: b.u32le(44),
    gid: b.u32le(48),
    mode: b.u32le(52),
    rdev: b.u32le(56),
    flags: b.u32le(64),
    atime: timespec(b, 112),
    ctime: timespec(b, 124),
    mtime: timespec(b, 136),
    otime: timespec(b, 148),
  };
}

/** Kernel dev_t (MKDEV: major << 20 | minor) → the Linux userspace encoding (glibc makedev). */
export function kernelDevToLinux(rdev: number): number {
  const major = (rdev >>> 20) & 0xfff;
  const minor = rdev & 0xfffff;
  return (minor & 0xff) + ((major & 0xfff) << 8) + (minor & ~0xff) * 2 ** 12;
}

export interface InodeRef {
  index: number;
  name: Uint8Array;
}

export function parseInodeRefs(b: Bytes): InodeRef[] {
  const out: InodeRef[] = [];
  let p = 0;
  while (p < b.length && out.length < 1024) {
    const index = b.u64le(p);
    const len = b.u16le(p + 8);
    out.push({ index, name: b.raw(p + 10, len) });
    p += 10 + len;
  }
  return out;
}

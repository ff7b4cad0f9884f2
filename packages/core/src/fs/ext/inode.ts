// ext4 inode: "Index Nodes" in the kernel's ext4 disk-layout documentation
// (Documentation/filesystems/ext4/inodes.rst), struct ext4_inode. 128 bytes of classic
// fields, then i_extra_isize bytes of extra fields (nanosecond times, crtime, checksum high
// half), then in-inode extended attributes up to s_inode_size.

import { Bytes, le16, le32 } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import type { Timespec } from '../vfs.js';
import { crc32cRaw, crc32cU32le } from '../../util/crc32c.js';
import { RO_COMPAT_HUGE_FILE, RO_COMPAT_METADATA_CSUM, INCOMPAT_LARGEDIR, INCOMPAT_64BIT, hasIncompat, hasRoCompat, type Superblock } from './superblock.js';
import { S_IFMT, S_IFREG } from '../vfs.js';

export const EXT4_GOOD_OLD_INODE_SIZE = 128;
/** i_block: 15 32-bit words (block map, extent tree root, fast symlink or inline data). */
export const EXT4_N_BLOCKS = 15;
export const I_BLOCK_OFFSET = 0x28;
export const I_BLOCK_SIZE = EXT4_N_BLOCKS * 4;

// i_flags
export const EXT4_COMPR_FL = 0x4;
export const EXT4_ENCRYPT_FL = 0x800;
export const EXT4_INDEX_FL = 0x1000;
export const EXT4_HUGE_FILE_FL = 0x40000;
export const EXT4_EXTENTS_FL = 0x80000;
export const EXT4_VERITY_FL = 0x100000;
export const EXT4_EA_INODE_FL = 0x200000;
export const EXT4_INLINE_DATA_FL = 0x10000000;
export const EXT4_CASEFOLD_FL = 0x40000000;

/** Offsets of the checksum halves (l_i_checksum_lo in osd2, i_checksum_hi in the extra fields). */
const I_CHECKSUM_LO = 0x7c;
const I_CHECKSUM_HI = 0x82;

export interface Inode {
  ino: number;
  i_mode: number;
  i_uid: number;
  i_gid: number;
  i_size: number;
  i_links_count: number;
  /** i_blocks in 512-byte units (huge_file semantics applied). */
  blocks512: number;
  i_flags: number;
  i_generation: number;
  i_file_acl: number;
  i_extra_isize: number;
  i_dtime: number;
  /** The 60 bytes of i_block (a view into the raw inode). */
  i_block: Uint8Array;
  /** The whole on-disk inode (s_inode_size bytes). */
  raw: Uint8Array;
  /** Seed for checksums of this inode's blocks (extent nodes, directory blocks). */
  csumSeed: number;
  checksumOk: boolean;
}


/**
 * A time field plus its _extra word: the low 2 bits extend the signed 32-bit seconds by
 * epoch * 2^32, the high 30 bits are nanoseconds (kernel: ext4_decode_extra_time).
 */
function decodeTime(sec32: number, extra: number | undefined): Timespec {
  const sec = sec32 | 0;
  if (extra === undefined) return { sec, nsec: 0 };
  const epoch = extra & 3;
  const nsec = extra >>> 2;
  return { sec: sec + epoch * 2 ** 32, nsec: nsec > 999_999_999 ? 999_999_999 : nsec };
}

export function parseInode(sb: Superblock, ino: number, raw: Uint8Array): Inode {
  // Every field below is at a fixed offset: the classic 128 bytes are checked once, here;
  // the extra fields are read only below extraEnd (i_extra_isize, itself checked against the
  // inode size). (No Bytes view: this runs for every inode a listing touches.)
  const inodeSize = raw.length;
  if (inodeSize < EXT4_GOOD_OLD_INODE_SIZE) {
    throw new GuestkitError('CORRUPT', `ext inode ${ino}: ${inodeSize} bytes, shorter than the ${EXT4_GOOD_OLD_INODE_SIZE} of struct ext4_inode`);
  }
  const i_mode = le16(raw, 0x0);
  let i_extra_isize = 0;
  if (inodeSize > EXT4_GOOD_OLD_INODE_SIZE) {
    i_extra_isize = le16(raw, 0x80);
    // Kernel (ext4_iget): an extra size past the inode or not a multiple of 4 is corrupt; we
    // ignore the extra fields instead of failing the whole inode.
    if (i_extra_isize + EXT4_GOOD_OLD_INODE_SIZE > inodeSize || i_extra_isize & 3) i_extra_isize = 0;
  }
  /** An extra field at `off` (+len) is there when off + len <= extraEnd (EXT4_FITS_IN_INODE). */
  const extraEnd = EXT4_GOOD_OLD_INODE_SIZE + i_extra_isize;

  const sizeLo = le32(raw, 0x4);
  const sizeHi = le32(raw, 0x6c);
  const isReg = (i_mode & S_IFMT) === S_IFREG;
  const i_size = isReg || hasIncompat(sb, INCOMPAT_LARGEDIR) ? sizeHi * 2 ** 32 + sizeLo : sizeLo;

  const i_flags = le32(raw, 0x20);
  let blocks512: number;
  const blocksLo = le32(raw, 0x1c);
  if (hasRoCompat(sb, RO_COMPAT_HUGE_FILE)) {
    const v = le16(raw, 0x74) * 2 ** 32 + blocksLo;
    blocks512 = i_flags & EXT4_HUGE_FILE_FL ? v * (sb.blockSize / 512) : v;
  } else {
    blocks512 = blocksLo;
  }

  const i_generation = le32(raw, 0x64);
  const ino2: Inode = {
    ino,
    i_mode,
    // The high halves live in osd2 (Linux layout); >>> 0 keeps them unsigned.
    i_uid: (le16(raw, 0x2) | (le16(raw, 0x78) << 16)) >>> 0,
    i_gid: (le16(raw, 0x18) | (le16(raw, 0x7a) << 16)) >>> 0,
    i_size,
    i_links_count: le16(raw, 0x1a),
    blocks512,
    i_flags,
    i_generation,
    // l_i_file_acl_high counts only with the 64bit feature (kernel: ext4_iget).
    i_file_acl: le32(raw, 0x68) + (hasIncompat(sb, INCOMPAT_64BIT) ? le16(raw, 0x76) * 2 ** 32 : 0),
    i_extra_isize,
    i_dtime: le32(raw, 0x14),
    i_block: raw.subarray(I_BLOCK_OFFSET, I_BLOCK_OFFSET + I_BLOCK_SIZE),
    raw,
    csumSeed: 0,
    checksumOk: true,
  };

  if (hasRoCompat(sb, RO_COMPAT_METADATA_CSUM)) {
    ino2.csumSeed = crc32cU32le(crc32cU32le(sb.csumSeed, ino), i_generation);
    // ext4_inode_csum: the whole inode with the checksum field(s) read as zero, in one pass
    // over a copy (one WebAssembly call for a 256-byte inode; crc32c.ts).
    const hasHi = inodeSize > EXT4_GOOD_OLD_INODE_SIZE && I_CHECKSUM_HI + 2 <= extraEnd;
    if (scratch.length < inodeSize) scratch = new Uint8Array(inodeSize);
    const copy = scratch;
    copy.set(raw);
    copy[I_CHECKSUM_LO] = copy[I_CHECKSUM_LO + 1] = 0;
    if (hasHi) copy[I_CHECKSUM_HI] = copy[I_CHECKSUM_HI + 1] = 0;
    const c = crc32cRaw(ino2.csumSeed, copy, 0, inodeSize);
    ino2.checksumOk = hasHi ? c === ((le16(raw, I_CHECKSUM_HI) << 16) | le16(raw, I_CHECKSUM_LO)) >>> 0 : (c & 0xffff) === le16(raw, I_CHECKSUM_LO);
  }
  return ino2;
}

/** Reused for inode checksums (grown to the largest inode size seen). */
let scratch = new Uint8Array(256);

/**
 * The inode's times (i_atime, i_ctime, i_mtime and i_crtime with their _extra words where
 * i_extra_isize holds them), decoded when asked for: a listing reads thousands of inodes
 * and no time.
 */
export function inodeTimes(i: Inode): { atime: Timespec; ctime: Timespec; mtime: Timespec; crtime?: Timespec } {
  const raw = i.raw;
  const extraEnd = EXT4_GOOD_OLD_INODE_SIZE + i.i_extra_isize;
  const extra = (off: number) => (off + 4 <= extraEnd ? le32(raw, off) : undefined);
  const crtimeSec = extra(0x90);
  return {
    atime: decodeTime(le32(raw, 0x8), extra(0x8c)),
    ctime: decodeTime(le32(raw, 0xc), extra(0x84)),
    mtime: decodeTime(le32(raw, 0x10), extra(0x88)),
    crtime: crtimeSec === undefined ? undefined : decodeTime(crtimeSec, extra(0x94)),
  };
}


/** An all-zero inode slot (never used, or wiped). */
export function isZeroInode(raw: Uint8Array): boolean {
  for (let i = 0; i < EXT4_GOOD_OLD_INODE_SIZE; i++) if (raw[i] !== 0) return false;
  return true;
}

/** Device number of a char/block device inode, as glibc's makedev() encodes st_rdev. */
export function inodeRdev(inode: Inode): number {
  const b = new Bytes(inode.i_block, `ext inode ${inode.ino} i_block`);
  const old = b.u32le(0);
  let major: number;
  let minor: number;
  if (old !== 0) {
    // old_decode_dev: 8-bit major and minor.
    major = (old >>> 8) & 0xff;
    minor = old & 0xff;
  } else {
    // new_decode_dev: 12-bit major, 20-bit minor.
    const dev = b.u32le(4);
    major = (dev & 0xfff00) >>> 8;
    minor = (dev & 0xff) | ((dev >>> 12) & 0xfff00);
  }
  return (major & 0xfff) * 256 + (minor & 0xff) + (minor >>> 8) * 2 ** 20 + (major >>> 12) * 2 ** 44;
}

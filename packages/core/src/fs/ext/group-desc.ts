// ext4 block group descriptor: "Block Group Descriptors" in the kernel's ext4 disk-layout
// documentation (Documentation/filesystems/ext4/group_descr.rst), struct ext4_group_desc.
// 32 bytes, or s_desc_size (64 or more) with the 64bit feature.

import { Bytes } from '../../bytes.js';
import { crc32cRaw, crc32cU32le } from '../../util/crc32c.js';
import {
  INCOMPAT_META_BG,
  RO_COMPAT_METADATA_CSUM,
  groupFirstBlock,
  groupHasSuper,
  hasIncompat,
  hasRoCompat,
  type Superblock,
} from './superblock.js';

export const BG_INODE_UNINIT = 0x1;
export const BG_BLOCK_UNINIT = 0x2;
export const BG_INODE_ZEROED = 0x4;

/** Offset of bg_checksum inside the descriptor. */
const BG_CHECKSUM_OFFSET = 0x1e;

export interface GroupDesc {
  group: number;
  bg_block_bitmap: number;
  bg_inode_bitmap: number;
  bg_inode_table: number;
  bg_free_blocks_count: number;
  bg_free_inodes_count: number;
  bg_used_dirs_count: number;
  bg_flags: number;
  bg_itable_unused: number;
  bg_checksum: number;
  /** metadata_csum checksum matches (true when the filesystem has none). */
  checksumOk: boolean;
}

/**
 * Block holding the descriptor table block `nr` (kernel: descriptor_loc). Without meta_bg
 * the table follows the superblock; with it, each meta group keeps its own block in its
 * first group (after the superblock backup, if any).
 */
export function descriptorBlock(sb: Superblock, nr: number): number {
  // The block holding the primary superblock (byte 1024): block 1 with 1 KiB blocks, else 0.
  // Not s_first_data_block, which is 0 on 1 KiB bigalloc filesystems.
  const logicalSbBlock = Math.floor(1024 / sb.blockSize);
  if (!hasIncompat(sb, INCOMPAT_META_BG) || nr < sb.s_first_meta_bg) return logicalSbBlock + nr + 1;
  const bg = sb.descPerBlock * nr;
  let hasSuper = groupHasSuper(sb, bg) ? 1 : 0;
  if (sb.blockSize === 1024 && nr === 0 && sb.s_first_data_block === 0) hasSuper++;
  return hasSuper + groupFirstBlock(sb, bg);
}

/** Parse descriptor `group` from `raw` (exactly descSize bytes). */
export function parseGroupDesc(sb: Superblock, group: number, raw: Uint8Array): GroupDesc {
  const b = new Bytes(raw, `ext group descriptor ${group}`);
  const wide = sb.descSize >= 64;
  const hi32 = (off: number) => (wide ? b.u32le(off) * 2 ** 32 : 0);
  const hi16 = (off: number) => (wide ? b.u16le(off) * 65536 : 0);
  const gd: GroupDesc = {
    group,
    bg_block_bitmap: b.u32le(0x0) + hi32(0x20),
    bg_inode_bitmap: b.u32le(0x4) + hi32(0x24),
    bg_inode_table: b.u32le(0x8) + hi32(0x28),
    bg_free_blocks_count: b.u16le(0xc) + hi16(0x2c),
    bg_free_inodes_count: b.u16le(0xe) + hi16(0x2e),
    bg_used_dirs_count: b.u16le(0x10) + hi16(0x30),
    bg_flags: b.u16le(0x12),
    bg_itable_unused: b.u16le(0x1c) + hi16(0x32),
    bg_checksum: b.u16le(BG_CHECKSUM_OFFSET),
    checksumOk: true,
  };
  if (hasRoCompat(sb, RO_COMPAT_METADATA_CSUM)) {
    // ext4_group_desc_csum: crc32c(seed, le32 group, descriptor with bg_checksum as zero) & 0xFFFF.
    let c = crc32cU32le(sb.csumSeed, group);
    c = crc32cRaw(c, raw, 0, BG_CHECKSUM_OFFSET);
    c = crc32cRaw(c, ZERO2);
    c = crc32cRaw(c, raw, BG_CHECKSUM_OFFSET + 2, sb.descSize);
    gd.checksumOk = (c & 0xffff) === gd.bg_checksum;
  }
  return gd;
}

const ZERO2 = new Uint8Array(2);

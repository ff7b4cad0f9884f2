// struct btrfs_dir_item (btrfs docs, "On-disk Format" § DIR_ITEM, DIR_INDEX, XATTR_ITEM;
// btrfs_tree.h): location key, transid, data_len, name_len, type, then the name and data_len
// bytes of data (xattr values). transid is not used (mkfs.btrfs --rootdir 6.2 leaves it
// uninitialised). DIR_ITEM (key offset = btrfs_name_hash(name), several entries
// packed in one item when names collide) serves lookups; DIR_INDEX (key offset = the entry's
// sequence number, one entry per item) serves listings in creation order. The name hash is the
// kernel's crc32c(~1, name) without final inversion.

import type { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { crc32cRaw } from '../../util/crc32c.js';
import type { FileType } from '../vfs.js';
import { parseKey, type Key } from './key.js';

export const BTRFS_DIR_ITEM_HEADER = 30;
/** Longest name of a directory entry or xattr (BTRFS_NAME_LEN, XATTR_NAME_MAX). */
export const BTRFS_NAME_LEN = 255;
/** Entries packed in one DIR_ITEM / XATTR_ITEM considered (hash collisions are rare). */
export const BTRFS_MAX_PACKED_ENTRIES = 1024;

// btrfs_tree.h BTRFS_FT_*.
export const BTRFS_FT_UNKNOWN = 0;
export const BTRFS_FT_REG_FILE = 1;
export const BTRFS_FT_DIR = 2;
export const BTRFS_FT_CHRDEV = 3;
export const BTRFS_FT_BLKDEV = 4;
export const BTRFS_FT_FIFO = 5;
export const BTRFS_FT_SOCK = 6;
export const BTRFS_FT_SYMLINK = 7;
export const BTRFS_FT_XATTR = 8;
/** Flag bit of an encrypted name (fscrypt); the type is in the low bits. */
export const BTRFS_FT_ENCRYPTED = 0x80;

const FT: FileType[] = ['unknown', 'file', 'dir', 'chardev', 'blockdev', 'fifo', 'socket', 'symlink'];

export function ftToFileType(t: number): FileType {
  return FT[t & ~BTRFS_FT_ENCRYPTED] ?? 'unknown';
}

export interface DirItem {
  /** (objectid, INODE_ITEM, 0) for an inode, (subvolume id, ROOT_ITEM, -1) for a subvolume. */
  location: Key;
  type: number;
  /** Raw name bytes. */
  name: Uint8Array;
  /** xattr value (empty for directory entries). */
  data: Uint8Array;
}

export function btrfsNameHash(name: Uint8Array): number {
  return crc32cRaw(0xfffffffe, name);
}

/** All entries packed in one DIR_ITEM, DIR_INDEX or XATTR_ITEM item. */
export function parseDirItems(b: Bytes): DirItem[] {
  const out: DirItem[] = [];
  let p = 0;
  while (p < b.length) {
    if (out.length >= BTRFS_MAX_PACKED_ENTRIES) {
      throw new GuestkitError('LIMIT', `${b.what}: more than ${BTRFS_MAX_PACKED_ENTRIES} entries in one item`);
    }
    const location = parseKey(b, p);
    const dataLen = b.u16le(p + 25);
    const nameLen = b.u16le(p + 27);
    const type = b.u8(p + 29);
    if (nameLen === 0 || nameLen > BTRFS_NAME_LEN) {
      throw new GuestkitError('CORRUPT', `${b.what}: entry at ${p} has a name of ${nameLen} bytes`);
    }
    const name = b.raw(p + BTRFS_DIR_ITEM_HEADER, nameLen);
    const data = b.raw(p + BTRFS_DIR_ITEM_HEADER + nameLen, dataLen);
    out.push({ location, type, name, data });
    p += BTRFS_DIR_ITEM_HEADER + nameLen + dataLen;
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// struct btrfs_disk_key (btrfs docs, "On-disk Format" § Key; uapi btrfs_tree.h): objectid
// (u64), type (u8), offset (u64), little-endian, 17 bytes. Items in every tree are sorted by
// (objectid, type, offset) as unsigned integers. Also the item types and well-known object
// ids this reader uses, with their btrfs_tree.h names.

import type { Bytes } from '../../bytes.js';

export const KEY_SIZE = 17;

/** A key as numbers. objectid/offset above 2^53 (the kernel's "negative" ids) are inexact here. */
export interface Key {
  objectid: number;
  type: number;
  offset: number;
}

/** A key split into 32-bit halves so that every u64 compares exactly. */
export interface SearchKey {
  oh: number;
  ol: number;
  type: number;
  fh: number;
  fl: number;
}

/** The largest u64 (as a search bound). */
export const U64_MAX = Number.POSITIVE_INFINITY;
const TWO32 = 2 ** 32;

function halves(n: number): [number, number] {
  if (n >= 2 ** 64 - 1) return [0xffffffff, 0xffffffff];
  if (!(n >= 0)) return [0, 0];
  return [Math.floor(n / TWO32) >>> 0, n % TWO32 >>> 0];
}

export function searchKey(objectid: number, type: number, offset: number): SearchKey {
  const [oh, ol] = halves(objectid);
  const [fh, fl] = halves(offset);
  return { oh, ol, type, fh, fl };
}

/** Compare the disk key at byte `off` of `dv` with `k`: <0, 0, >0 as disk key <, =, > k. */
export function compareKeyAt(dv: DataView, off: number, k: SearchKey): number {
  let a = dv.getUint32(off + 4, true);
  if (a !== k.oh) return a < k.oh ? -1 : 1;
  a = dv.getUint32(off, true);
  if (a !== k.ol) return a < k.ol ? -1 : 1;
  a = dv.getUint8(off + 8);
  if (a !== k.type) return a < k.type ? -1 : 1;
  a = dv.getUint32(off + 13, true);
  if (a !== k.fh) return a < k.fh ? -1 : 1;
  a = dv.getUint32(off + 9, true);
  if (a !== k.fl) return a < k.fl ? -1 : 1;
  return 0;
}

/** Compare two disk keys at byte offsets of (possibly different) views. */
export function compareDiskKeys(da: DataView, oa: number, db: DataView, ob: number): number {
  let a = da.getUint32(oa + 4, true);
  let b = db.getUint32(ob + 4, true);
  if (a !== b) return a < b ? -1 : 1;
  a = da.getUint32(oa, true);
  b = db.getUint32(ob, true);
  if (a !== b) return a < b ? -1 : 1;
  a = da.getUint8(oa + 8);
  b = db.getUint8(ob + 8);
  if (a !== b) return a < b ? -1 : 1;
  a = da.getUint32(oa + 13, true);
  b = db.getUint32(ob + 13, true);
  if (a !== b) return a < b ? -1 : 1;
  a = da.getUint32(oa + 9, true);
  b = db.getUint32(ob + 9, true);
  if (a !== b) return a < b ? -1 : 1;
  return 0;
}

export function readSearchKey(dv: DataView, off: number): SearchKey {
  return {
    oh: dv.getUint32(off + 4, true),
    ol: dv.getUint32(off, true),
    type: dv.getUint8(off + 8),
    fh: dv.getUint32(off + 13, true),
    fl: dv.getUint32(off + 9, true),
  };
}

export function readKeyDv(dv: DataView, off: number): Key {
  return {
    objectid: dv.getUint32(off + 4, true) * TWO32 + dv.getUint32(off, true),
    type: dv.getUint8(off + 8),
    offset: dv.getUint32(off + 13, true) * TWO32 + dv.getUint32(off + 9, true),
  };
}

/** A disk key inside a bounds-checked structure. */
export function parseKey(b: Bytes, off: number): Key {
  b.raw(off, KEY_SIZE);
  return readKeyDv(b.dv, off);
}

export function formatKey(k: Key): string {
  return `(${k.objectid} ${typeName(k.type)} ${k.offset})`;
}

// Item types (btrfs_tree.h).
export const BTRFS_INODE_ITEM_KEY = 1;
export const BTRFS_INODE_REF_KEY = 12;
export const BTRFS_INODE_EXTREF_KEY = 13;
export const BTRFS_XATTR_ITEM_KEY = 24;
export const BTRFS_DIR_ITEM_KEY = 84;
export const BTRFS_DIR_INDEX_KEY = 96;
export const BTRFS_EXTENT_DATA_KEY = 108;
export const BTRFS_ROOT_ITEM_KEY = 132;
export const BTRFS_ROOT_BACKREF_KEY = 144;
export const BTRFS_ROOT_REF_KEY = 156;
export const BTRFS_BLOCK_GROUP_ITEM_KEY = 192;
export const BTRFS_DEV_EXTENT_KEY = 204;
export const BTRFS_DEV_ITEM_KEY = 216;
export const BTRFS_CHUNK_ITEM_KEY = 228;

// Object ids (btrfs_tree.h).
export const BTRFS_ROOT_TREE_OBJECTID = 1;
export const BTRFS_EXTENT_TREE_OBJECTID = 2;
export const BTRFS_CHUNK_TREE_OBJECTID = 3;
export const BTRFS_DEV_TREE_OBJECTID = 4;
export const BTRFS_FS_TREE_OBJECTID = 5;
export const BTRFS_ROOT_TREE_DIR_OBJECTID = 6;
export const BTRFS_CSUM_TREE_OBJECTID = 7;
export const BTRFS_FREE_SPACE_TREE_OBJECTID = 10;
export const BTRFS_BLOCK_GROUP_TREE_OBJECTID = 11;
export const BTRFS_DEV_ITEMS_OBJECTID = 1;
/** Inode number of the placeholder directory shown for a subvolume that has no root. */
export const BTRFS_EMPTY_SUBVOL_DIR_OBJECTID = 2;
export const BTRFS_FIRST_FREE_OBJECTID = 256;
export const BTRFS_LAST_FREE_OBJECTID = 2 ** 64 - 256;
export const BTRFS_FIRST_CHUNK_TREE_OBJECTID = 256;

const TYPE_NAMES: Record<number, string> = {
  1: 'INODE_ITEM', 12: 'INODE_REF', 13: 'INODE_EXTREF', 24: 'XATTR_ITEM', 84: 'DIR_ITEM',
  96: 'DIR_INDEX', 108: 'EXTENT_DATA', 132: 'ROOT_ITEM', 144: 'ROOT_BACKREF', 156: 'ROOT_REF',
  192: 'BLOCK_GROUP_ITEM', 204: 'DEV_EXTENT', 216: 'DEV_ITEM', 228: 'CHUNK_ITEM',
};

export function typeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE_${t}`;
}

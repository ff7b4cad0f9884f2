// The root tree (btrfs docs, "On-disk Format" § ROOT_ITEM, ROOT_REF, ROOT_BACKREF, and
// "Trees" § Root tree; btrfs_tree.h struct btrfs_root_item, struct btrfs_root_ref): one
// ROOT_ITEM per tree (key (tree id, ROOT_ITEM, 0 or the snapshot's transid)) giving its root
// block, level and generation; subvolumes and snapshots are trees 5 (the top level) and
// 256 and up. ROOT_REF (key (parent, ROOT_REF, child)) and ROOT_BACKREF (key (child,
// ROOT_BACKREF, parent)) link a subvolume to the directory (dirid) and name under which it
// appears in its parent. The default subvolume is the DIR_ITEM "default" in the root tree's
// directory (superblock root_dir_objectid, 6), whose location names the subvolume.

import type { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { parseDirItems, btrfsNameHash, sameBytes } from './dir.js';
import {
  BTRFS_DIR_ITEM_KEY, BTRFS_FS_TREE_OBJECTID, BTRFS_ROOT_BACKREF_KEY, BTRFS_ROOT_ITEM_KEY, BTRFS_ROOT_REF_KEY,
  U64_MAX, searchKey,
} from './key.js';
import type { Tree } from './tree.js';

/** Fields up to `level` (offset 238); items of older kernels end at 239 bytes. */
export const BTRFS_ROOT_ITEM_MIN_SIZE = 239;
export const BTRFS_ROOT_SUBVOL_RDONLY = 1 << 0;

export interface RootItem {
  id: number;
  generation: number;
  rootDirid: number;
  bytenr: number;
  bytesUsed: number;
  flags: number;
  refs: number;
  level: number;
  uuid?: string;
}

export function parseRootItem(b: Bytes, id: number): RootItem {
  if (b.length < BTRFS_ROOT_ITEM_MIN_SIZE) {
    throw new GuestkitError('CORRUPT', `${b.what}: ROOT_ITEM of ${b.length} bytes (at least ${BTRFS_ROOT_ITEM_MIN_SIZE} expected)`);
  }
  return {
    id,
    generation: b.u64le(160),
    rootDirid: b.u64le(168),
    bytenr: b.u64le(176),
    bytesUsed: b.u64le(192),
    flags: Number(b.u64leBig(208) & 0xffffffffn),
    refs: b.u32le(216),
    level: b.u8(238),
  };
}

export interface RootRef {
  /** The subvolume (child) tree id. */
  child: number;
  /** The parent subvolume's tree id. */
  parent: number;
  /** Directory of the parent that holds the subvolume's entry. */
  dirid: number;
  sequence: number;
  name: Uint8Array;
}

/** struct btrfs_root_ref: dirid, sequence, name_len, name (ROOT_REF and ROOT_BACKREF alike). */
export function parseRootRef(b: Bytes, child: number, parent: number): RootRef {
  const len = b.u16le(16);
  return { child, parent, dirid: b.u64le(0), sequence: b.u64le(8), name: b.raw(18, len) };
}

/** The ROOT_ITEM of tree `id` (any key offset), or null when the tree does not exist. */
export function findRootItem(rootTree: Tree, id: number): RootItem | null {
  for (const it of rootTree.range(searchKey(id, BTRFS_ROOT_ITEM_KEY, 0), searchKey(id, BTRFS_ROOT_ITEM_KEY, U64_MAX))) {
    return parseRootItem(it.data, id);
  }
  return null;
}

/** ROOT_BACKREFs of subvolume `id` (normally one: where it is linked). */
export function rootBackrefs(rootTree: Tree, id: number): RootRef[] {
  const out: RootRef[] = [];
  for (const it of rootTree.range(searchKey(id, BTRFS_ROOT_BACKREF_KEY, 0), searchKey(id, BTRFS_ROOT_BACKREF_KEY, U64_MAX))) {
    out.push(parseRootRef(it.data, id, it.key.offset));
  }
  return out;
}

/** ROOT_REFs of subvolume `id`: the subvolumes linked inside it. */
export function rootRefs(rootTree: Tree, id: number): RootRef[] {
  const out: RootRef[] = [];
  for (const it of rootTree.range(searchKey(id, BTRFS_ROOT_REF_KEY, 0), searchKey(id, BTRFS_ROOT_REF_KEY, U64_MAX))) {
    out.push(parseRootRef(it.data, it.key.offset, id));
  }
  return out;
}

/** Every ROOT_BACKREF in the root tree (all linked subvolumes), in key order. */
export function* allRootBackrefs(rootTree: Tree): Generator<RootRef> {
  for (const it of rootTree.range(searchKey(256, 0, 0), searchKey(2 ** 48, 0, 0))) {
    if (it.key.type === BTRFS_ROOT_BACKREF_KEY) yield parseRootRef(it.data, it.key.objectid, it.key.offset);
  }
}

const DEFAULT = new TextEncoder().encode('default');

/** The default subvolume's tree id: the DIR_ITEM "default" in dir `rootDirObjectid`, else 5. */
export function defaultSubvolume(rootTree: Tree, rootDirObjectid: number): number {
  const it = rootTree.find(searchKey(rootDirObjectid, BTRFS_DIR_ITEM_KEY, btrfsNameHash(DEFAULT)));
  if (!it) return BTRFS_FS_TREE_OBJECTID;
  for (const d of parseDirItems(it.data)) {
    if (sameBytes(d.name, DEFAULT)) return d.location.objectid;
  }
  return BTRFS_FS_TREE_OBJECTID;
}

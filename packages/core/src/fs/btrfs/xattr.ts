// XATTR_ITEM (btrfs docs, "On-disk Format" § XATTR_ITEM; btrfs_tree.h struct btrfs_dir_item):
// key (ino, XATTR_ITEM, btrfs_name_hash(name)); each entry is a dir item whose name is the
// full attribute name ("user.comment", "system.posix_acl_access") and whose data is the value.
// Names that collide share one item.

import { GuestkitError } from '../../errors.js';
import { btrfsNameHash, parseDirItems, sameBytes } from './dir.js';
import { BTRFS_XATTR_ITEM_KEY, U64_MAX, searchKey } from './key.js';
import type { Tree } from './tree.js';

/** Attributes listed for one inode before we call it corrupt. */
export const BTRFS_MAX_XATTRS = 65536;

export interface Xattr {
  name: string;
  value: Uint8Array;
}

export function listXattrs(tree: Tree, ino: number): Xattr[] {
  const out: Xattr[] = [];
  for (const it of tree.range(searchKey(ino, BTRFS_XATTR_ITEM_KEY, 0), searchKey(ino, BTRFS_XATTR_ITEM_KEY, U64_MAX))) {
    for (const d of parseDirItems(it.data)) {
      if (out.length >= BTRFS_MAX_XATTRS) throw new GuestkitError('LIMIT', `${it.data.what}: more than ${BTRFS_MAX_XATTRS} xattrs`);
      out.push({ name: Buffer.from(d.name).toString('utf8'), value: d.data });
    }
  }
  return out;
}

export function getXattr(tree: Tree, ino: number, name: string): Uint8Array | null {
  const nb = Buffer.from(name, 'utf8');
  const it = tree.find(searchKey(ino, BTRFS_XATTR_ITEM_KEY, btrfsNameHash(nb)));
  if (!it) return null;
  for (const d of parseDirItems(it.data)) if (sameBytes(d.name, nb)) return new Uint8Array(d.data);
  return null;
}

// ext4 inline data: "Inline Data" and "Inline Directories" in the kernel's ext4 disk-layout
// documentation (Documentation/filesystems/ext4/inlinedata.rst). The first 60 bytes live in
// i_block, the rest in the in-inode extended attribute "system.data". An inline directory
// starts with the parent's inode number (4 bytes) followed by directory entries; the
// entries continue in system.data.

import { corrupt } from '../../errors.js';
import { I_BLOCK_SIZE, type Inode } from './inode.js';
import { XATTR_INDEX_SYSTEM, inodeXattrs } from './xattr.js';

/** EXT4_INLINE_DOTDOT_SIZE: the parent inode number at the start of an inline directory. */
export const INLINE_DOTDOT_SIZE = 4;

/** The system.data value (the part of the inline data beyond i_block), possibly empty. */
export function inlineDataXattr(inode: Inode): Uint8Array {
  for (const e of inodeXattrs(inode)) {
    if (e.e_name_index === XATTR_INDEX_SYSTEM && e.name === 'data') {
      if (!e.value) throw corrupt(`inode ${inode.ino}`, 'inline data (system.data) is stored outside the inode');
      return e.value;
    }
  }
  return new Uint8Array(0);
}

/** The inline contents of a file or symlink, i_size bytes at most. */
export function inlineFileData(inode: Inode): Uint8Array {
  const extra = inlineDataXattr(inode);
  const avail = I_BLOCK_SIZE + extra.length;
  const size = Math.min(inode.i_size, avail);
  const out = new Uint8Array(size);
  out.set(inode.i_block.subarray(0, Math.min(size, I_BLOCK_SIZE)));
  if (size > I_BLOCK_SIZE) out.set(extra.subarray(0, size - I_BLOCK_SIZE), I_BLOCK_SIZE);
  return out;
}

/** The two areas of an inline directory: entries in i_block after the parent, then system.data. */
export function inlineDirAreas(inode: Inode): { parent: number; areas: Uint8Array[] } {
  const ib = inode.i_block;
  const parent = (ib[0] | (ib[1] << 8) | (ib[2] << 16) | (ib[3] << 24)) >>> 0;
  const areas = [ib.subarray(INLINE_DOTDOT_SIZE, I_BLOCK_SIZE)];
  const extra = inlineDataXattr(inode);
  if (extra.length > 0) areas.push(extra);
  return { parent, areas };
}

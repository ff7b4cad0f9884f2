// Shortform directories, struct xfs_dir2_sf_hdr + xfs_dir2_sf_entry, held in the inode's data
// fork (XFS Algorithms & Data Structures, "Short Form Directories"; libxfs/xfs_da_format.h).
// Inode numbers are 4 bytes, or 8 when i8count != 0; with ftype a type byte follows each name.

import type { Bytes } from '../../bytes.js';
import { corrupt } from '../../errors.js';

export interface XfsRawDirent {
  name: Uint8Array;
  ino: number;
  /** XFS_DIR3_FT_* from the entry, or undefined without ftype. */
  ftype?: number;
}

export interface XfsDir2Sf {
  parent: number;
  entries: XfsRawDirent[];
}

function inum(b: Bytes, off: number, wide: boolean, what: string): number {
  if (!wide) return b.u32be(off);
  const v = b.u64beBig(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(what, `inode number ${v} is too large`);
  return Number(v);
}

/** Parse a shortform directory of `size` bytes (di_size) from the data fork. */
export function parseDir2Sf(fork: Bytes, size: number, hasFtype: boolean, what: string): XfsDir2Sf {
  if (size < 6 || size > fork.length) throw corrupt(what, `shortform directory size ${size} does not fit the ${fork.length}-byte fork`);
  const b = fork.slice(0, size, what);
  const count = b.u8(0);
  const i8count = b.u8(1);
  const wide = i8count !== 0;
  if (wide && i8count > count) throw corrupt(what, `i8count ${i8count} exceeds count ${count}`);
  const inoSize = wide ? 8 : 4;
  const parent = inum(b, 2, wide, what);
  let off = 2 + inoSize;
  const entries: XfsRawDirent[] = [];
  let lastOffset = -1;
  for (let i = 0; i < count; i++) {
    const namelen = b.u8(off);
    if (namelen === 0) throw corrupt(what, `entry ${i} has an empty name`);
    const tag = b.u16be(off + 1);
    if (tag <= lastOffset) throw corrupt(what, `entry ${i} offset ${tag} is not increasing`);
    lastOffset = tag;
    const name = b.raw(off + 3, namelen);
    let p = off + 3 + namelen;
    let ftype: number | undefined;
    if (hasFtype) ftype = b.u8(p++);
    const ino = inum(b, p, wide, what);
    entries.push({ name, ino, ftype });
    off = p + inoSize;
  }
  if (off > size) throw corrupt(what, `entries run past the directory size ${size}`);
  return { parent, entries };
}

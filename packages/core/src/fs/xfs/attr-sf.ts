// Shortform attribute forks, struct xfs_attr_shortform: xfs_attr_sf_hdr {totsize, count} then
// xfs_attr_sf_entry {namelen, valuelen, flags, nameval[]} (XFS Algorithms & Data Structures,
// "Short Form Attributes"; libxfs/xfs_da_format.h).

import type { Bytes } from '../../bytes.js';
import { corrupt } from '../../errors.js';

/** Namespace and state flags shared by shortform and leaf attribute entries. */
export const XFS_ATTR_LOCAL = 1 << 0;
export const XFS_ATTR_ROOT = 1 << 1;
export const XFS_ATTR_SECURE = 1 << 2;
export const XFS_ATTR_PARENT = 1 << 3;
export const XFS_ATTR_INCOMPLETE = 1 << 7;

export interface XfsRawAttr {
  flags: number;
  name: Uint8Array;
  /** Local value; absent for remote values. */
  value?: Uint8Array;
  /** Remote value: first attribute-fork block and length. */
  valueblk?: number;
  valuelen: number;
}

export function parseAttrSf(fork: Bytes, what: string): XfsRawAttr[] {
  const totsize = fork.u16be(0);
  const count = fork.u8(2);
  if (totsize < 4 || totsize > fork.length) throw corrupt(what, `shortform attribute size ${totsize} does not fit the ${fork.length}-byte fork`);
  const b = fork.slice(0, totsize, what);
  const out: XfsRawAttr[] = [];
  let off = 4;
  for (let i = 0; i < count; i++) {
    const namelen = b.u8(off);
    const valuelen = b.u8(off + 1);
    const flags = b.u8(off + 2);
    if (namelen === 0) throw corrupt(what, `attribute ${i} has an empty name`);
    const name = b.raw(off + 3, namelen);
    const value = b.raw(off + 3 + namelen, valuelen);
    out.push({ flags, name, value, valuelen });
    off += 3 + namelen + valuelen;
  }
  return out;
}

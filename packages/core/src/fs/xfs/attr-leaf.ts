// Attribute leaf blocks, struct xfs_attr_leafblock (v4, magic 0xfbee) / xfs_attr3_leafblock
// (v5, 0x3bee): header, hash-sorted xfs_attr_leaf_entry {hashval, nameidx, flags}, and name/
// value records at nameidx: xfs_attr_leaf_name_local {valuelen, namelen, nameval} or
// xfs_attr_leaf_name_remote {valueblk, valuelen, namelen, name} (XFS Algorithms & Data
// Structures, "Leaf Attributes"; libxfs/xfs_da_format.h).

import type { Bytes } from '../../bytes.js';
import { corrupt } from '../../errors.js';
import { XFS_ATTR_LOCAL, type XfsRawAttr } from './attr-sf.js';

export const XFS_ATTR_LEAF_MAGIC = 0xfbee;
export const XFS_ATTR3_LEAF_MAGIC = 0x3bee;
/** Largest attribute value (XFS_XATTR_SIZE_MAX). */
export const XFS_XATTR_SIZE_MAX = 1 << 16;

export interface XfsAttrLeaf {
  forw: number;
  attrs: XfsRawAttr[];
}

export function isAttrLeafMagic(m: number, v5: boolean): boolean {
  return m === (v5 ? XFS_ATTR3_LEAF_MAGIC : XFS_ATTR_LEAF_MAGIC);
}

export function parseAttrLeaf(b: Bytes, v5: boolean, what: string): XfsAttrLeaf {
  const magic = b.u16be(8);
  if (!isAttrLeafMagic(magic, v5)) throw corrupt(what, `bad attribute leaf magic 0x${magic.toString(16)}`);
  const hdr = v5 ? 80 : 32;
  const count = b.u16be(v5 ? 56 : 12);
  if (hdr + count * 8 > b.length) throw corrupt(what, `${count} attribute entries do not fit the block`);
  const attrs: XfsRawAttr[] = [];
  for (let i = 0; i < count; i++) {
    const e = hdr + i * 8;
    const nameidx = b.u16be(e + 4);
    const flags = b.u8(e + 6);
    if (nameidx < hdr + count * 8 || nameidx >= b.length) throw corrupt(what, `entry ${i} name offset ${nameidx} is outside the name area`);
    if (flags & XFS_ATTR_LOCAL) {
      const valuelen = b.u16be(nameidx);
      const namelen = b.u8(nameidx + 2);
      if (namelen === 0) throw corrupt(what, `entry ${i} has an empty name`);
      attrs.push({ flags, name: b.raw(nameidx + 3, namelen), value: b.raw(nameidx + 3 + namelen, valuelen), valuelen });
    } else {
      const valueblk = b.u32be(nameidx);
      const valuelen = b.u32be(nameidx + 4);
      const namelen = b.u8(nameidx + 8);
      if (namelen === 0) throw corrupt(what, `entry ${i} has an empty name`);
      if (valuelen > XFS_XATTR_SIZE_MAX) throw corrupt(what, `entry ${i} remote value length ${valuelen} exceeds ${XFS_XATTR_SIZE_MAX}`);
      attrs.push({ flags, name: b.raw(nameidx + 9, namelen), valueblk, valuelen });
    }
  }
  return { forw: b.u32be(0), attrs };
}

// Reading XFS extended attributes in their three forms (XFS Algorithms & Data Structures,
// "Extended Attributes"): shortform (in the inode's attribute fork), leaf (one attribute leaf
// block at attribute-fork block 0) and node (a da-btree rooted at block 0 over leaf blocks),
// with values stored locally or in remote blocks. Names get the Linux namespace prefix from
// the entry flags (user., trusted., security.); POSIX ACLs, stored as trusted SGI_ACL_FILE /
// SGI_ACL_DEFAULT, are also shown as system.posix_acl_access / _default, as Linux does.

import { Bytes } from '../../bytes.js';
import { corrupt, GuestkitError } from '../../errors.js';
import type { BmapFork } from './bmbt.js';
import type { XfsContext } from './context.js';
import { isAttrLeafMagic, parseAttrLeaf } from './attr-leaf.js';
import { rmtBlockPayload, rmtBlocks, XFS_ATTR3_RMT_CRC_OFF, XFS_ATTR3_RMT_HDR_SIZE } from './attr-remote.js';
import { parseAttrSf, XFS_ATTR_INCOMPLETE, XFS_ATTR_PARENT, XFS_ATTR_ROOT, XFS_ATTR_SECURE, type XfsRawAttr } from './attr-sf.js';
import { XFS_DA3_BLKINFO_CRC_OFF, XFS_DA_NODE_MAXDEPTH, isDaNodeMagic, parseDaNode } from './dir2-node.js';

export const SGI_ACL_FILE = 'SGI_ACL_FILE';
export const SGI_ACL_DEFAULT = 'SGI_ACL_DEFAULT';
const XATTR_POSIX_ACL_ACCESS = 'system.posix_acl_access';
const XATTR_POSIX_ACL_DEFAULT = 'system.posix_acl_default';
/** Most entries of one XFS ACL (XFS_ACL_MAX_ENTRIES for v5 filesystems is much lower). */
const XFS_ACL_MAX_ENTRIES = 8191;

export interface XfsAttrInode {
  ino: number;
  /** Attribute fork literal area, or null when the inode has none. */
  afork: Bytes | null;
  aformat: number;
  /** Block map of the attribute fork (leaf/node), else null. */
  amap: BmapFork | null;
}

export interface XfsAttr extends XfsRawAttr {
  /** Full Linux name with its namespace prefix. */
  fullName: string;
}

function prefixOf(flags: number): string {
  if (flags & XFS_ATTR_ROOT) return 'trusted.';
  if (flags & XFS_ATTR_SECURE) return 'security.';
  return 'user.';
}

export class XfsAttrReader {
  constructor(private readonly ctx: XfsContext) {}

  private block(inode: XfsAttrInode, dablk: number, what: string): Bytes {
    const e = inode.amap!.lookup(dablk);
    if (!e || e.startoff > dablk) throw corrupt(what, `block ${dablk} of the attribute fork is not mapped`);
    const fsb = e.startblock + (dablk - e.startoff);
    const b = this.ctx.readFsBlocks(fsb, 1, what);
    const v5 = this.ctx.sb.hasCrc;
    const magic = b.u16be(8);
    if (!isAttrLeafMagic(magic, v5) && !isDaNodeMagic(magic, v5)) throw corrupt(what, `bad attribute block magic 0x${magic.toString(16)}`);
    if (v5) this.ctx.checkV5(what, b, XFS_DA3_BLKINFO_CRC_OFF, { blknoOff: 16, daddr: this.ctx.fsbToDaddr(fsb), ownerOff: 48, owner: inode.ino, uuidOff: 32 });
    return b;
  }

  /** Every attribute stored on the inode (incomplete and parent-pointer entries left out). */
  *raw(inode: XfsAttrInode): Generator<XfsAttr> {
    if (!inode.afork) return;
    const keep = (a: XfsRawAttr) => !(a.flags & (XFS_ATTR_INCOMPLETE | XFS_ATTR_PARENT));
    const named = (a: XfsRawAttr): XfsAttr => ({ ...a, fullName: prefixOf(a.flags) + Buffer.from(a.name).toString('utf8') });
    if (!inode.amap) {
      for (const a of parseAttrSf(inode.afork, `xfs inode ${inode.ino} shortform attributes`)) if (keep(a)) yield named(a);
      return;
    }
    if (inode.amap.empty) return;
    const v5 = this.ctx.sb.hasCrc;
    // Down the leftmost path to the first leaf, then along the forward sibling links.
    let dablk = 0;
    let level = XFS_DA_NODE_MAXDEPTH + 1;
    for (let depth = 0; ; depth++) {
      const what = `xfs inode ${inode.ino} attribute block ${dablk}`;
      if (depth > XFS_DA_NODE_MAXDEPTH) throw new GuestkitError('LOOP', `${what}: attribute da-btree deeper than ${XFS_DA_NODE_MAXDEPTH}`);
      const b = this.block(inode, dablk, what);
      const magic = b.u16be(8);
      if (isAttrLeafMagic(magic, v5)) break;
      if (!isDaNodeMagic(magic, v5)) throw corrupt(what, `bad attribute block magic 0x${magic.toString(16)}`);
      const node = parseDaNode(b, v5, what);
      if (node.level >= level) throw new GuestkitError('LOOP', `${what}: da node level ${node.level} does not decrease (a btree loop?)`);
      level = node.level;
      dablk = node.entries[0].before;
    }
    const seen = new Set<number>();
    while (true) {
      if (seen.has(dablk)) throw new GuestkitError('LOOP', `xfs inode ${inode.ino}: attribute leaf ${dablk} is visited twice`);
      seen.add(dablk);
      const what = `xfs inode ${inode.ino} attribute leaf ${dablk}`;
      const leaf = parseAttrLeaf(this.block(inode, dablk, what), v5, what);
      for (const a of leaf.attrs) if (keep(a)) yield named(a);
      if (leaf.forw === 0) break;
      dablk = leaf.forw;
    }
  }

  /** Value bytes of an attribute (reading remote blocks when needed). */
  value(inode: XfsAttrInode, a: XfsRawAttr): Uint8Array {
    if (a.value) return a.value;
    const what = `xfs inode ${inode.ino} remote attribute value at block ${a.valueblk}`;
    if (!inode.amap) throw corrupt(what, 'remote value in a shortform attribute fork');
    const sb = this.ctx.sb;
    const bs = sb.sb_blocksize;
    const v5 = sb.hasCrc;
    const space = bs - (v5 ? XFS_ATTR3_RMT_HDR_SIZE : 0);
    const out = new Uint8Array(a.valuelen);
    const nblocks = rmtBlocks(a.valuelen, bs, v5);
    let done = 0;
    for (let i = 0; i < nblocks; i++) {
      const dablk = a.valueblk! + i;
      const e = inode.amap.lookup(dablk);
      if (!e || e.startoff > dablk) throw corrupt(what, `value block ${dablk} is not mapped`);
      const fsb = e.startblock + (dablk - e.startoff);
      const b = this.ctx.readFsBlocks(fsb, 1, what);
      const want = Math.min(space, a.valuelen - done);
      out.set(rmtBlockPayload(b, v5, done, want, inode.ino, what), done);
      if (v5) this.ctx.checkV5(what, b, XFS_ATTR3_RMT_CRC_OFF, { blknoOff: 40, daddr: this.ctx.fsbToDaddr(fsb), uuidOff: 16 });
      done += want;
    }
    return out;
  }

  /** Linux listxattr names, in on-disk order. */
  list(inode: XfsAttrInode): string[] {
    const names: string[] = [];
    for (const a of this.raw(inode)) {
      if (a.flags & XFS_ATTR_ROOT) {
        const n = Buffer.from(a.name).toString('latin1');
        if (n === SGI_ACL_FILE) names.push(XATTR_POSIX_ACL_ACCESS);
        else if (n === SGI_ACL_DEFAULT) names.push(XATTR_POSIX_ACL_DEFAULT);
      }
      names.push(a.fullName);
    }
    return names;
  }

  /** Linux getxattr: the value of `name`, or null. */
  get(inode: XfsAttrInode, name: string): Uint8Array | null {
    let want = name;
    let acl = false;
    if (name === XATTR_POSIX_ACL_ACCESS || name === XATTR_POSIX_ACL_DEFAULT) {
      want = `trusted.${name === XATTR_POSIX_ACL_ACCESS ? SGI_ACL_FILE : SGI_ACL_DEFAULT}`;
      acl = true;
    }
    for (const a of this.raw(inode)) {
      if (a.fullName !== want) continue;
      const v = this.value(inode, a);
      return acl ? xfsAclToPosixXattr(new Bytes(v, `xfs inode ${inode.ino} ${want}`)) : v;
    }
    return null;
  }
}

/**
 * struct xfs_acl {be32 acl_cnt; {be32 ae_tag, be32 ae_id, be16 ae_perm, be16 pad}[]} to the
 * Linux xattr format (posix_acl_xattr_header {le32 version=2}, entries {le16 tag, le16 perm,
 * le32 id}), ids undefined (-1) except for ACL_USER / ACL_GROUP entries.
 */
export function xfsAclToPosixXattr(b: Bytes): Uint8Array {
  const count = b.u32be(0);
  if (count > XFS_ACL_MAX_ENTRIES || 4 + count * 12 > b.length) throw corrupt(b.what, `ACL with ${count} entries does not fit ${b.length} bytes`);
  const out = Buffer.alloc(4 + count * 8);
  out.writeUInt32LE(2, 0);
  for (let i = 0; i < count; i++) {
    const tag = b.u32be(4 + i * 12);
    const id = b.u32be(8 + i * 12);
    const perm = b.u16be(12 + i * 12);
    const o = 4 + i * 8;
    out.writeUInt16LE(tag, o);
    out.writeUInt16LE(perm, o + 2);
    out.writeUInt32LE(tag === 0x02 || tag === 0x08 ? id : 0xffffffff, o + 4);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

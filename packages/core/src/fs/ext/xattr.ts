// ext4 extended attributes: "Extended Attributes" in the kernel's ext4 disk-layout
// documentation (Documentation/filesystems/ext4/attributes.rst): the in-inode area after
// i_extra_isize (struct ext4_xattr_ibody_header), the attribute block (struct
// ext4_xattr_header) and their entries (struct ext4_xattr_entry); values may live in an
// inode of their own (ea_inode). POSIX ACL values use the ext4 disk format
// (fs/ext4/acl.h) and are converted to the generic xattr format getxattr(2) returns.

import { Bytes } from '../../bytes.js';
import { corrupt } from '../../errors.js';
import { crc32cRaw, crc32cU32le } from '../../util/crc32c.js';
import { EXT4_GOOD_OLD_INODE_SIZE, type Inode } from './inode.js';

export const EXT4_XATTR_MAGIC = 0xea020000;
const ENTRY_HEADER = 16;
const BLOCK_HEADER = 32;
/** XATTR_SIZE_MAX: the largest value Linux accepts. */
export const XATTR_SIZE_MAX = 65536;

export const XATTR_INDEX_USER = 1;
export const XATTR_INDEX_POSIX_ACL_ACCESS = 2;
export const XATTR_INDEX_POSIX_ACL_DEFAULT = 3;
export const XATTR_INDEX_TRUSTED = 4;
export const XATTR_INDEX_SECURITY = 6;
export const XATTR_INDEX_SYSTEM = 7;
export const XATTR_INDEX_HURD = 10;

/** Prefixes of the names Linux lists (ext4_xattr_handler_map); others are internal. */
const PREFIXES: Record<number, string> = {
  [XATTR_INDEX_USER]: 'user.',
  [XATTR_INDEX_POSIX_ACL_ACCESS]: 'system.posix_acl_access',
  [XATTR_INDEX_POSIX_ACL_DEFAULT]: 'system.posix_acl_default',
  [XATTR_INDEX_TRUSTED]: 'trusted.',
  [XATTR_INDEX_SECURITY]: 'security.',
  [XATTR_INDEX_HURD]: 'gnu.',
};

export interface XattrEntry {
  e_name_index: number;
  /** Name without its prefix, as stored (bytes as Latin-1 / UTF-8). */
  name: string;
  /** The value bytes (a view), when stored in the inode or block. */
  value?: Uint8Array;
  /** ea_inode: inode holding the value. */
  e_value_inum: number;
  e_value_size: number;
}

/**
 * Entries of one xattr area: entries from `start` up to a 4-byte zero or `end`; value
 * offsets are relative to `valueBase`, values must lie in [valueBase, end).
 */
function parseEntries(buf: Uint8Array, start: number, end: number, valueBase: number, what: string): XattrEntry[] {
  const b = new Bytes(buf, what);
  const out: XattrEntry[] = [];
  let off = start;
  // Every entry is at least 16 bytes: bounded by (end - start) / 16 iterations.
  while (off + 4 <= end && b.u32le(off) !== 0) {
    if (off + ENTRY_HEADER > end) throw corrupt(what, `xattr entry at offset ${off} is truncated`);
    const nameLen = b.u8(off);
    const index = b.u8(off + 1);
    const valueOffs = b.u16le(off + 2);
    const valueInum = b.u32le(off + 4);
    const valueSize = b.u32le(off + 8);
    const size = (ENTRY_HEADER + nameLen + 3) & ~3;
    if (off + size > end) throw corrupt(what, `xattr entry at offset ${off} runs past the end`);
    const name = Buffer.from(buf.buffer, buf.byteOffset + off + ENTRY_HEADER, nameLen).toString('utf8');
    const e: XattrEntry = { e_name_index: index, name, e_value_inum: valueInum, e_value_size: valueSize };
    if (valueInum === 0) {
      const vs = valueBase + valueOffs;
      if (valueSize > 0 && (vs < start || vs + valueSize > end)) {
        throw corrupt(what, `value of xattr ${describe(index, name)} (offset ${valueOffs}, ${valueSize} bytes) is outside its area`);
      }
      e.value = valueSize === 0 ? new Uint8Array(0) : buf.subarray(vs, vs + valueSize);
    } else if (valueSize > XATTR_SIZE_MAX) {
      throw corrupt(what, `xattr ${describe(index, name)} claims a ${valueSize}-byte value in inode ${valueInum}`);
    }
    out.push(e);
    off += size;
  }
  return out;
}

function describe(index: number, name: string): string {
  return xattrFullName(index, name) ?? `index ${index} name "${name}"`;
}

/** Attributes stored in the inode body after the extra fields. */
export function inodeXattrs(inode: Inode): XattrEntry[] {
  const raw = inode.raw;
  const start = EXT4_GOOD_OLD_INODE_SIZE + inode.i_extra_isize;
  if (raw.length <= EXT4_GOOD_OLD_INODE_SIZE || inode.i_extra_isize === 0 || start + 4 > raw.length) return [];
  const b = new Bytes(raw, `xattrs in inode ${inode.ino}`);
  if (b.u32le(start) !== EXT4_XATTR_MAGIC) return [];
  return parseEntries(raw, start + 4, raw.length, start + 4, `xattrs in inode ${inode.ino}`);
}

/** Attributes in an xattr block. Checksum mismatches are reported through `onBadCsum`. */
export function blockXattrs(
  buf: Uint8Array,
  pblk: number,
  ino: number,
  csumSeed: number | undefined,
  onBadCsum: (what: string) => void,
): XattrEntry[] {
  const what = `xattr block ${pblk} of inode ${ino}`;
  const b = new Bytes(buf, what);
  const magic = b.u32le(0);
  if (magic !== EXT4_XATTR_MAGIC) throw corrupt(what, `bad magic 0x${magic.toString(16)}`);
  const hBlocks = b.u32le(8);
  if (hBlocks !== 1) throw corrupt(what, `h_blocks is ${hBlocks}, expected 1`);
  if (csumSeed !== undefined) {
    // ext4_xattr_block_csum: crc32c(seed, le64 block number, block with h_checksum zeroed).
    let c = crc32cU32le(csumSeed, pblk % 2 ** 32);
    c = crc32cU32le(c, Math.floor(pblk / 2 ** 32));
    c = crc32cRaw(c, buf, 0, 0x10);
    c = crc32cRaw(c, ZERO4);
    c = crc32cRaw(c, buf, 0x14, buf.length);
    if (c !== b.u32le(0x10)) onBadCsum(what);
  }
  return parseEntries(buf, BLOCK_HEADER, buf.length, 0, what);
}
const ZERO4 = new Uint8Array(4);

/** Full name as listxattr(2) shows it, or null for attributes Linux does not list. */
export function xattrFullName(index: number, name: string): string | null {
  const p = PREFIXES[index];
  if (p === undefined) return null;
  if (index === XATTR_INDEX_POSIX_ACL_ACCESS || index === XATTR_INDEX_POSIX_ACL_DEFAULT) return name === '' ? p : null;
  return p + name;
}

/** Inverse of xattrFullName. */
export function xattrSplitName(full: string): { index: number; name: string } | null {
  if (full === PREFIXES[XATTR_INDEX_POSIX_ACL_ACCESS]) return { index: XATTR_INDEX_POSIX_ACL_ACCESS, name: '' };
  if (full === PREFIXES[XATTR_INDEX_POSIX_ACL_DEFAULT]) return { index: XATTR_INDEX_POSIX_ACL_DEFAULT, name: '' };
  for (const [i, p] of Object.entries(PREFIXES)) {
    const index = Number(i);
    if (index === XATTR_INDEX_POSIX_ACL_ACCESS || index === XATTR_INDEX_POSIX_ACL_DEFAULT) continue;
    if (full.startsWith(p) && full.length > p.length) return { index, name: full.slice(p.length) };
  }
  return null;
}

// ---- POSIX ACLs ------------------------------------------------------------------------

const EXT4_ACL_VERSION = 1;
const POSIX_ACL_XATTR_VERSION = 2;
const ACL_USER = 0x02;
const ACL_GROUP = 0x08;
const ACL_UNDEFINED_ID = 0xffffffff;

/**
 * ext4's compact ACL (ext4_acl_header + 4- or 8-byte entries) to the posix_acl_xattr
 * format (version 2, 8-byte entries) that getxattr returns. Values not in the ext4 format
 * are returned unchanged.
 */
export function aclDiskToXattr(v: Uint8Array, what: string): Uint8Array {
  const b = new Bytes(v, what);
  if (v.length < 4 || b.u32le(0) !== EXT4_ACL_VERSION) return v;
  const entries: [number, number, number][] = [];
  let off = 4;
  while (off < v.length) {
    const tag = b.u16le(off);
    const perm = b.u16le(off + 2);
    if (tag === ACL_USER || tag === ACL_GROUP) {
      entries.push([tag, perm, b.u32le(off + 4)]);
      off += 8;
    } else {
      entries.push([tag, perm, ACL_UNDEFINED_ID]);
      off += 4;
    }
  }
  const out = Buffer.alloc(4 + 8 * entries.length);
  out.writeUInt32LE(POSIX_ACL_XATTR_VERSION, 0);
  entries.forEach(([tag, perm, id], i) => {
    out.writeUInt16LE(tag, 4 + 8 * i);
    out.writeUInt16LE(perm, 6 + 8 * i);
    out.writeUInt32LE(id, 8 + 8 * i);
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

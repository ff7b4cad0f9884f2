// ext4 fast commits: "Fast commits" in the kernel's journal documentation
// (Documentation/filesystems/ext4/journal.rst) and fs/ext4/fast_commit.{h,c}. The last
// s_num_fc_blks blocks of the journal hold a log of tag-length-value records (struct
// ext4_fc_tl: __le16 fc_tag, __le16 fc_len, then fc_len bytes) describing changes made since
// the last full jbd2 commit: inode contents, extent ranges added or removed, directory
// entries created, linked or unlinked. A HEAD record opens the area (with the tid of the
// running transaction); each fast commit ends with a TAIL whose crc32c covers every record
// since the previous TAIL. This module is the scan pass (ext4_fc_replay_scan): it validates
// the records and returns, in log order, those that belong to fast commits with a good TAIL.
// Applying them is the reader's business (index.ts).

import { crc32cRaw } from '../../../util/crc32c.js';
import { le16 as u16, le32 as u32 } from '../../../bytes.js';

export const EXT4_FC_TAG_ADD_RANGE = 0x1;
export const EXT4_FC_TAG_DEL_RANGE = 0x2;
export const EXT4_FC_TAG_CREAT = 0x3;
export const EXT4_FC_TAG_LINK = 0x4;
export const EXT4_FC_TAG_UNLINK = 0x5;
export const EXT4_FC_TAG_INODE = 0x6;
export const EXT4_FC_TAG_PAD = 0x7;
export const EXT4_FC_TAG_TAIL = 0x8;
export const EXT4_FC_TAG_HEAD = 0x9;
/** fc_features bits this reader (and the kernel) knows: none. */
const EXT4_FC_SUPPORTED_FEATURES = 0;
/** struct ext4_fc_tl. */
const FC_TL_SIZE = 4;
/** struct ext4_fc_add_range: fc_ino + a 12-byte struct ext4_extent. */
const FC_ADD_RANGE_SIZE = 16;
/** struct ext4_fc_del_range: fc_ino, fc_lblk, fc_len. */
const FC_DEL_RANGE_SIZE = 12;
/** struct ext4_fc_dentry_info without the name: fc_parent_ino, fc_ino. */
const FC_DENTRY_SIZE = 8;
/** struct ext4_fc_inode without the raw inode: fc_ino. */
const FC_INODE_SIZE = 4;
/** struct ext4_fc_tail: fc_tid, fc_crc. */
const FC_TAIL_SIZE = 8;
/** struct ext4_fc_head: fc_features, fc_tid. */
const FC_HEAD_SIZE = 8;
/** ext4_extent ee_len above this marks an unwritten extent (EXT_INIT_MAX_LEN). */
const EXT_INIT_MAX_LEN = 32768;
const EXT4_NAME_LEN = 255;

export type FcOp =
  | { tag: 'add_range'; ino: number; lblk: number; len: number; pblk: number; unwritten: boolean }
  | { tag: 'del_range'; ino: number; lblk: number; len: number }
  | { tag: 'creat' | 'link' | 'unlink'; parent: number; ino: number; name: Uint8Array }
  | { tag: 'inode'; ino: number; raw: Uint8Array };

export interface FcScanResult {
  /** Records of the fast commits whose TAIL checked out, in log order. */
  ops: FcOp[];
  /** Fast commits (good TAILs) found. */
  commits: number;
  /** Why the scan stopped before the end of the area, when that is worth a warning. */
  problem?: string;
}

/** A record's value length is what its tag needs (the kernel's ext4_fc_value_len_isvalid). */
function validLength(tag: number, len: number, inodeSize: number): boolean {
  switch (tag) {
    case EXT4_FC_TAG_ADD_RANGE: return len === FC_ADD_RANGE_SIZE;
    case EXT4_FC_TAG_DEL_RANGE: return len === FC_DEL_RANGE_SIZE;
    case EXT4_FC_TAG_CREAT:
    case EXT4_FC_TAG_LINK:
    case EXT4_FC_TAG_UNLINK: return len > FC_DENTRY_SIZE && len <= FC_DENTRY_SIZE + EXT4_NAME_LEN;
    case EXT4_FC_TAG_INODE: return len > FC_INODE_SIZE && len <= FC_INODE_SIZE + inodeSize;
    case EXT4_FC_TAG_TAIL: return len >= FC_TAIL_SIZE;
    case EXT4_FC_TAG_HEAD: return len === FC_HEAD_SIZE;
    case EXT4_FC_TAG_PAD: return true;
    default: return false;
  }
}

function decodeOp(tag: number, v: Uint8Array): FcOp | null {
  switch (tag) {
    case EXT4_FC_TAG_ADD_RANGE: {
      // struct ext4_extent: ee_block, ee_len, ee_start_hi (16), ee_start_lo (32).
      const rawLen = u16(v, 8);
      const unwritten = rawLen > EXT_INIT_MAX_LEN;
      return {
        tag: 'add_range', ino: u32(v, 0), lblk: u32(v, 4), len: unwritten ? rawLen - EXT_INIT_MAX_LEN : rawLen,
        pblk: u16(v, 10) * 2 ** 32 + u32(v, 12), unwritten,
      };
    }
    case EXT4_FC_TAG_DEL_RANGE:
      return { tag: 'del_range', ino: u32(v, 0), lblk: u32(v, 4), len: u32(v, 8) };
    case EXT4_FC_TAG_CREAT:
    case EXT4_FC_TAG_LINK:
    case EXT4_FC_TAG_UNLINK:
      return {
        tag: tag === EXT4_FC_TAG_CREAT ? 'creat' : tag === EXT4_FC_TAG_LINK ? 'link' : 'unlink',
        parent: u32(v, 0), ino: u32(v, 4), name: v.slice(FC_DENTRY_SIZE),
      };
    case EXT4_FC_TAG_INODE:
      return { tag: 'inode', ino: u32(v, 0), raw: v.slice(FC_INODE_SIZE) };
    default:
      return null;
  }
}

/**
 * The scan pass over the fast-commit area: `count` blocks read with `readBlock(i)` (i from 0,
 * the first fast-commit block). `expectedTid` is the transaction after the last full commit
 * recovery found (the kernel's info->end_transaction). Records are taken only up to the
 * last TAIL whose tid and crc32c match; the first bad TAIL, unknown tag, stale HEAD or
 * record running past its block ends the scan, as in the kernel.
 */
export function scanFastCommits(
  readBlock: (i: number) => Uint8Array,
  count: number,
  expectedTid: number,
  inodeSize: number,
): FcScanResult {
  const res: FcScanResult = { ops: [], commits: 0 };
  let pending: FcOp[] = [];
  let crc = 0;
  const stop = (why?: string): FcScanResult => {
    if (why) res.problem = res.commits ? `${why}; replayed the ${res.commits} fast commit(s) before it` : why;
    return res;
  };
  for (let i = 0; i < count; i++) {
    const buf = readBlock(i);
    const bs = buf.length;
    if (i === 0 && u16(buf, 0) !== EXT4_FC_TAG_HEAD) return res; // No fast commits.
    // Each record is at least FC_TL_SIZE bytes: bounded by the block size.
    for (let cur = 0; cur < bs - 1; ) {
      if (cur + FC_TL_SIZE > bs) return stop(`fast-commit block ${i}: record at ${cur} is truncated`);
      const tag = u16(buf, cur);
      const len = u16(buf, cur + 2);
      if (cur + FC_TL_SIZE + len > bs || !validLength(tag, len, inodeSize)) {
        // An unknown tag past the last good TAIL is the end of the log (stale or unused
        // space); before any good TAIL it is corruption.
        return stop(res.commits ? undefined : `fast-commit block ${i}: record at ${cur} (tag ${tag}, length ${len}) is invalid`);
      }
      const v = buf.subarray(cur + FC_TL_SIZE, cur + FC_TL_SIZE + len);
      if (tag === EXT4_FC_TAG_HEAD) {
        if (u32(v, 0) & ~EXT4_FC_SUPPORTED_FEATURES) return stop(`fast-commit area needs unsupported features 0x${u32(v, 0).toString(16)}`);
        if (u32(v, 4) !== expectedTid) return stop(); // From an older transaction: nothing to replay.
        crc = crc32cRaw(crc, buf, cur, cur + FC_TL_SIZE + len);
      } else if (tag === EXT4_FC_TAG_TAIL) {
        crc = crc32cRaw(crc, buf, cur, cur + FC_TL_SIZE + 4);
        if (u32(v, 0) !== expectedTid || u32(v, 4) !== crc) {
          return stop(res.commits ? undefined : `fast-commit block ${i}: the first fast commit's tail does not match (tid ${u32(v, 0)}, expected ${expectedTid}; or a bad checksum); nothing replayed`);
        }
        res.ops.push(...pending);
        res.commits++;
        pending = [];
        crc = 0;
      } else {
        crc = crc32cRaw(crc, buf, cur, cur + FC_TL_SIZE + len);
        const op = decodeOp(tag, v);
        if (op) pending.push(op);
      }
      cur += FC_TL_SIZE + len;
    }
  }
  return res;
}

// jbd2 journal superblock: "Journal (jbd2)" / "Super Block" in the kernel's ext4 disk-layout
// documentation (Documentation/filesystems/ext4/journal.rst), journal_superblock_t in
// include/linux/jbd2.h. Big-endian, in the first block of the journal.

import { Bytes } from '../../../bytes.js';
import { GuestkitError, corrupt } from '../../../errors.js';
import { crc32cRaw } from '../../../util/crc32c.js';

export const JBD2_MAGIC_NUMBER = 0xc03b3998;

// h_blocktype
export const JBD2_DESCRIPTOR_BLOCK = 1;
export const JBD2_COMMIT_BLOCK = 2;
export const JBD2_SUPERBLOCK_V1 = 3;
export const JBD2_SUPERBLOCK_V2 = 4;
export const JBD2_REVOKE_BLOCK = 5;

// s_feature_compat
export const JBD2_FEATURE_COMPAT_CHECKSUM = 0x1;
// s_feature_incompat
export const JBD2_FEATURE_INCOMPAT_REVOKE = 0x1;
export const JBD2_FEATURE_INCOMPAT_64BIT = 0x2;
export const JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT = 0x4;
export const JBD2_FEATURE_INCOMPAT_CSUM_V2 = 0x8;
export const JBD2_FEATURE_INCOMPAT_CSUM_V3 = 0x10;
export const JBD2_FEATURE_INCOMPAT_FAST_COMMIT = 0x20;
const JBD2_KNOWN_INCOMPAT =
  JBD2_FEATURE_INCOMPAT_REVOKE |
  JBD2_FEATURE_INCOMPAT_64BIT |
  JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT |
  JBD2_FEATURE_INCOMPAT_CSUM_V2 |
  JBD2_FEATURE_INCOMPAT_CSUM_V3 |
  JBD2_FEATURE_INCOMPAT_FAST_COMMIT;

/** Default number of fast-commit blocks (jbd2_journal_get_num_fc_blks). */
const JBD2_DEFAULT_FAST_COMMIT_BLOCKS = 256;

/** The common 12-byte header of every journal metadata block. */
export interface JournalHeader {
  h_magic: number;
  h_blocktype: number;
  h_sequence: number;
}

export function parseHeader(buf: Uint8Array): JournalHeader {
  const dv = new DataView(buf.buffer, buf.byteOffset, 12);
  return { h_magic: dv.getUint32(0), h_blocktype: dv.getUint32(4), h_sequence: dv.getUint32(8) };
}

export interface JournalSuperblock {
  h_blocktype: number;
  s_blocksize: number;
  s_maxlen: number;
  s_first: number;
  s_sequence: number;
  s_start: number;
  s_errno: number;
  s_feature_compat: number;
  s_feature_incompat: number;
  s_feature_ro_compat: number;
  s_uuid: Uint8Array;
  s_num_fc_blks: number;
  s_checksum: number;
  /** End of the log area (exclusive): s_maxlen minus the fast-commit area. */
  last: number;
  /** Checksum v2 or v3 in use. */
  csumV2or3: boolean;
  /** jbd2 checksum seed: crc32c(~0, s_uuid). */
  csumSeed: number;
  checksumOk: boolean;
}

export function parseJournalSuperblock(buf: Uint8Array, what: string): JournalSuperblock {
  const b = new Bytes(buf, what);
  if (b.length < 1024) throw corrupt(what, `journal superblock is only ${b.length} bytes`);
  const h_magic = b.u32be(0);
  if (h_magic !== JBD2_MAGIC_NUMBER) throw corrupt(what, `bad journal superblock magic 0x${h_magic.toString(16)}`);
  const h_blocktype = b.u32be(4);
  if (h_blocktype !== JBD2_SUPERBLOCK_V1 && h_blocktype !== JBD2_SUPERBLOCK_V2) {
    throw corrupt(what, `journal superblock has block type ${h_blocktype}`);
  }
  const v2 = h_blocktype === JBD2_SUPERBLOCK_V2;
  const jsb: JournalSuperblock = {
    h_blocktype,
    s_blocksize: b.u32be(0xc),
    s_maxlen: b.u32be(0x10),
    s_first: b.u32be(0x14),
    s_sequence: b.u32be(0x18),
    s_start: b.u32be(0x1c),
    s_errno: b.u32be(0x20) | 0,
    s_feature_compat: v2 ? b.u32be(0x24) : 0,
    s_feature_incompat: v2 ? b.u32be(0x28) : 0,
    s_feature_ro_compat: v2 ? b.u32be(0x2c) : 0,
    s_uuid: b.raw(0x30, 16).slice(),
    s_num_fc_blks: v2 ? b.u32be(0x54) : 0,
    s_checksum: b.u32be(0xfc),
    last: 0,
    csumV2or3: false,
    csumSeed: 0,
    checksumOk: true,
  };
  const unknown = jsb.s_feature_incompat & ~JBD2_KNOWN_INCOMPAT;
  if (unknown) throw new GuestkitError('UNSUPPORTED', `${what}: journal uses unknown incompatible feature(s) 0x${unknown.toString(16)}`);
  jsb.csumV2or3 = (jsb.s_feature_incompat & (JBD2_FEATURE_INCOMPAT_CSUM_V2 | JBD2_FEATURE_INCOMPAT_CSUM_V3)) !== 0;
  jsb.last = jsb.s_maxlen;
  if (jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_FAST_COMMIT) {
    jsb.last -= jsb.s_num_fc_blks || JBD2_DEFAULT_FAST_COMMIT_BLOCKS;
  }
  if (jsb.s_first === 0 || jsb.s_first >= jsb.last) {
    throw corrupt(what, `journal log area s_first ${jsb.s_first} .. ${jsb.last} is invalid`);
  }
  if (jsb.s_start !== 0 && (jsb.s_start < jsb.s_first || jsb.s_start >= jsb.last)) {
    throw corrupt(what, `journal s_start ${jsb.s_start} is outside the log area ${jsb.s_first}..${jsb.last - 1}`);
  }
  if (jsb.csumV2or3) {
    jsb.csumSeed = crc32cRaw(0xffffffff, jsb.s_uuid);
    const copy = buf.slice(0, 1024);
    copy.fill(0, 0xfc, 0x100);
    jsb.checksumOk = crc32cRaw(0xffffffff, copy) === jsb.s_checksum;
  }
  return jsb;
}

/** journal_tag_bytes(): size of one descriptor tag. */
export function journalTagBytes(jsb: JournalSuperblock): number {
  if (jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_CSUM_V3) return 16;
  let sz = 12;
  if (jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_CSUM_V2) sz += 2;
  return jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_64BIT ? sz : sz - 4;
}

/** jbd2_journal_block_tail: the checksum at the end of descriptor and revoke blocks. */
export function blockTailSize(jsb: JournalSuperblock): number {
  return jsb.csumV2or3 ? 4 : 0;
}

/** jbd2_descriptor_block_csum_verify (descriptor and revoke blocks). */
export function verifyBlockTail(jsb: JournalSuperblock, buf: Uint8Array): boolean {
  if (!jsb.csumV2or3) return true;
  const t = buf.length - 4;
  const want = new DataView(buf.buffer, buf.byteOffset + t, 4).getUint32(0);
  let c = crc32cRaw(jsb.csumSeed, buf, 0, t);
  c = crc32cRaw(c, ZERO4);
  return c === want;
}
const ZERO4 = new Uint8Array(4);

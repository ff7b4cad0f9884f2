// jbd2 descriptor block: "Descriptor Block" in the kernel's ext4 disk-layout documentation
// (Documentation/filesystems/ext4/journal.rst): a journal header followed by block tags
// (journal_block_tag_t or journal_block_tag3_t with csum v3), each naming the filesystem
// block that the next journal block is a copy of.

import { crc32cRaw } from '../../../util/crc32c.js';
import {
  JBD2_FEATURE_INCOMPAT_64BIT,
  JBD2_FEATURE_INCOMPAT_CSUM_V2,
  JBD2_FEATURE_INCOMPAT_CSUM_V3,
  blockTailSize,
  journalTagBytes,
  type JournalSuperblock,
} from './superblock.js';

export const JBD2_FLAG_ESCAPE = 1;
export const JBD2_FLAG_SAME_UUID = 2;
export const JBD2_FLAG_DELETED = 4;
export const JBD2_FLAG_LAST_TAG = 8;

const HEADER_SIZE = 12;
const UUID_SIZE = 16;

export interface BlockTag {
  /** Filesystem block this journal block is a copy of. */
  blocknr: number;
  flags: number;
  /** t_checksum (16-bit with csum v2, 32-bit with v3). */
  checksum: number;
}

/** Tags of a descriptor block, in order (kernel: count_tags / the replay loop). */
export function parseDescriptorTags(jsb: JournalSuperblock, buf: Uint8Array): BlockTag[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tagBytes = journalTagBytes(jsb);
  const size = buf.length - blockTailSize(jsb);
  const csum3 = (jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_CSUM_V3) !== 0;
  const is64 = (jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_64BIT) !== 0;
  const tags: BlockTag[] = [];
  let off = HEADER_SIZE;
  // Each tag takes at least 8 bytes: bounded by the block size.
  while (off + tagBytes <= size) {
    const lo = dv.getUint32(off);
    // t_flags: 16 bits at offset 6 in both layouts (the low half of tag3's 32-bit flags).
    const flags = dv.getUint16(off + 6);
    const hi = is64 ? dv.getUint32(off + 8) : 0;
    const checksum = csum3 ? dv.getUint32(off + 12) : dv.getUint16(off + 4);
    tags.push({ blocknr: hi * 2 ** 32 + lo, flags, checksum });
    off += tagBytes;
    if (!(flags & JBD2_FLAG_SAME_UUID)) off += UUID_SIZE;
    if (flags & JBD2_FLAG_LAST_TAG) break;
  }
  return tags;
}

/** jbd2_block_tag_csum_verify: checksum of the journal copy of a block, seeded by the sequence. */
export function verifyTagChecksum(jsb: JournalSuperblock, tag: BlockTag, data: Uint8Array, sequence: number): boolean {
  const csum3 = (jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_CSUM_V3) !== 0;
  const csum2 = (jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_CSUM_V2) !== 0;
  if (!csum2 && !csum3) return true;
  // The sequence goes in big-endian: feed its bytes in that order.
  const seqBe = new Uint8Array(4);
  new DataView(seqBe.buffer).setUint32(0, sequence);
  let c = crc32cRaw(jsb.csumSeed, seqBe);
  c = crc32cRaw(c, data);
  return csum3 ? c === tag.checksum : (c & 0xffff) === tag.checksum;
}

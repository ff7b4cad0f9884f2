// jbd2 commit block: "Commit Block" in the kernel's ext4 disk-layout documentation
// (Documentation/filesystems/ext4/journal.rst), struct commit_header. Marks the end of a
// transaction; with csum v2/v3 h_chksum[0] is the crc32c of the block.

import { crc32cRaw } from '../../../util/crc32c.js';
import type { JournalSuperblock } from './superblock.js';

const H_CHKSUM_OFFSET = 16;

/** jbd2_commit_block_csum_verify. */
export function verifyCommitBlock(jsb: JournalSuperblock, buf: Uint8Array): boolean {
  if (!jsb.csumV2or3) return true;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const want = dv.getUint32(H_CHKSUM_OFFSET);
  let c = crc32cRaw(jsb.csumSeed, buf, 0, H_CHKSUM_OFFSET);
  c = crc32cRaw(c, ZERO4);
  c = crc32cRaw(c, buf, H_CHKSUM_OFFSET + 4, buf.length);
  return c === want;
}
const ZERO4 = new Uint8Array(4);

// jbd2 revocation block: "Revocation Block" in the kernel's ext4 disk-layout documentation
// (Documentation/filesystems/ext4/journal.rst), jbd2_journal_revoke_header_t followed by
// 32- or 64-bit block numbers whose earlier journal copies must not be replayed.

import { corrupt } from '../../../errors.js';
import { JBD2_FEATURE_INCOMPAT_64BIT, blockTailSize, type JournalSuperblock } from './superblock.js';

const REVOKE_HEADER_SIZE = 16;

export function parseRevokeRecords(jsb: JournalSuperblock, buf: Uint8Array, what: string): number[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const rcount = dv.getUint32(12);
  if (rcount > buf.length - blockTailSize(jsb) || rcount < REVOKE_HEADER_SIZE && rcount !== 0) {
    throw corrupt(what, `revoke block r_count ${rcount} is invalid`);
  }
  const is64 = (jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_64BIT) !== 0;
  const recLen = is64 ? 8 : 4;
  const out: number[] = [];
  for (let off = REVOKE_HEADER_SIZE; off + recLen <= rcount; off += recLen) {
    out.push(is64 ? dv.getUint32(off) * 2 ** 32 + dv.getUint32(off + 4) : dv.getUint32(off));
  }
  return out;
}

// jbd2 journal recovery, as fs/jbd2/recovery.c does it: PASS_SCAN finds the end of the log
// (the last committed transaction), PASS_REVOKE collects revocation records, PASS_REPLAY
// maps every logged block that is not revoked by the same or a later transaction. Instead of
// writing the blocks back, the result is an overlay (filesystem block → journal block) that
// the reader consults on every block read; the image is never written.

import { corrupt } from '../../../errors.js';
import {
  JBD2_COMMIT_BLOCK,
  JBD2_DESCRIPTOR_BLOCK,
  JBD2_MAGIC_NUMBER,
  JBD2_REVOKE_BLOCK,
  parseHeader,
  verifyBlockTail,
  type JournalSuperblock,
} from './superblock.js';
import { JBD2_FLAG_ESCAPE, parseDescriptorTags, verifyTagChecksum } from './descriptor.js';
import { verifyCommitBlock } from './commit.js';
import { parseRevokeRecords } from './revoke.js';

/** Where the replayed contents of a filesystem block are: journal block, escaped or not. */
export interface OverlayEntry {
  jblk: number;
  escaped: boolean;
}

export interface RecoveryResult {
  /** Filesystem block → its latest committed journal copy. */
  overlay: Map<number, OverlayEntry>;
  /** Transactions replayed. */
  transactions: number;
  /** Block copies skipped because a revoke record covers them. */
  revoked: number;
  /** Non-fatal problems (bad data-block checksums, blocks past the filesystem). */
  warnings: string[];
  /** The transaction after the last committed one (fast commits must carry this tid). */
  endTransaction: number;
}

/** (int)(a - b) > 0 etc.: transaction IDs wrap around at 2^32. */
function tidGeq(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}
function tidGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/**
 * Replay the journal. `readBlock(j)` returns journal block j (a logical block of the
 * journal inode); `fsBlocks` is the filesystem size in blocks.
 */
export function recoverJournal(
  jsb: JournalSuperblock,
  readBlock: (j: number) => Uint8Array,
  fsBlocks: number,
  what: string,
): RecoveryResult {
  const result: RecoveryResult = { overlay: new Map(), transactions: 0, revoked: 0, warnings: [], endTransaction: jsb.s_sequence };
  if (jsb.s_start === 0) return result;
  const first = jsb.s_first;
  const last = jsb.last;
  const logLen = last - first;
  const wrap = (j: number) => (j >= last ? j - logLen : j);
  const revokeTable = new Map<number, number>();
  let endTransaction = 0;

  for (const pass of ['scan', 'revoke', 'replay'] as const) {
    let next = jsb.s_start;
    let seq = jsb.s_sequence;
    // Every step consumes at least one log block; a log cannot be longer than the journal.
    for (let consumed = 0; consumed <= logLen; ) {
      if (pass !== 'scan' && tidGeq(seq, endTransaction)) break;
      const buf = readBlock(next);
      const here = next;
      next = wrap(next + 1);
      consumed++;
      const h = parseHeader(buf);
      if (h.h_magic !== JBD2_MAGIC_NUMBER || h.h_sequence !== seq) break;
      if (h.h_blocktype === JBD2_DESCRIPTOR_BLOCK) {
        if (!verifyBlockTail(jsb, buf)) {
          if (pass === 'scan') break;
          throw corrupt(what, `descriptor block ${here} of transaction ${seq} has a bad checksum`);
        }
        const tags = parseDescriptorTags(jsb, buf);
        if (pass !== 'replay') {
          next = wrap(next + tags.length);
          consumed += tags.length;
          continue;
        }
        for (const tag of tags) {
          const jblk = next;
          next = wrap(next + 1);
          consumed++;
          const t = revokeTable.get(tag.blocknr);
          if (t !== undefined && !tidGt(seq, t)) {
            result.revoked++;
            continue;
          }
          if (jsb.csumV2or3 && !verifyTagChecksum(jsb, tag, readBlock(jblk), seq)) {
            result.warnings.push(`journal block ${jblk} (copy of block ${tag.blocknr}, transaction ${seq}) has a bad checksum; not replayed`);
            continue;
          }
          if (tag.blocknr >= fsBlocks) {
            result.warnings.push(`journal block ${jblk} (transaction ${seq}) names block ${tag.blocknr}, past the end of the filesystem; not replayed`);
            continue;
          }
          result.overlay.set(tag.blocknr, { jblk, escaped: (tag.flags & JBD2_FLAG_ESCAPE) !== 0 });
        }
      } else if (h.h_blocktype === JBD2_COMMIT_BLOCK) {
        if (pass === 'scan' && !verifyCommitBlock(jsb, buf)) break;
        if (pass === 'replay') result.transactions++;
        seq = (seq + 1) >>> 0;
      } else if (h.h_blocktype === JBD2_REVOKE_BLOCK) {
        if (!verifyBlockTail(jsb, buf)) {
          if (pass === 'scan') break;
          throw corrupt(what, `revoke block ${here} of transaction ${seq} has a bad checksum`);
        }
        if (pass === 'revoke') {
          for (const blk of parseRevokeRecords(jsb, buf, `${what}: revoke block ${here}`)) {
            const t = revokeTable.get(blk);
            if (t === undefined || tidGt(seq, t)) revokeTable.set(blk, seq);
          }
        }
      } else {
        break;
      }
    }
    if (pass === 'scan') endTransaction = result.endTransaction = seq;
  }
  return result;
}

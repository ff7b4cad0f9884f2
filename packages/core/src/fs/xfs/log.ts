// The XFS log's state: is it clean (ends with an unmount record) or does it hold transactions
// that recovery would replay? Each 512-byte log block starts with its write cycle number (or a
// log record header, struct xlog_rec_header, magic 0xFEEDbabe, whose h_cycle carries it); the
// head is where the cycle number drops. The record before the head tells the rest: an
// unmount record (one xlog_op_header flagged XLOG_UNMOUNT_TRANS) that ends at the head means
// clean; otherwise its h_tail_lsn is where recovery would start (XFS Algorithms & Data
// Structures, "Journaling Log"; libxfs/xfs_log_format.h; the kernel's xlog_find_head and
// xlog_check_unmount_rec). Replay is log-recover.ts.

import type { Bytes } from '../../bytes.js';

export const XLOG_HEADER_MAGIC_NUM = 0xfeedbabe;
export const XLOG_VERSION_2 = 2;
export const XLOG_HEADER_CYCLE_SIZE = 32 * 1024;
export const XLOG_UNMOUNT_TRANS = 0x20;
/** Basic blocks searched backwards from the head for the last record header (> 256 KiB + headers). */
const XLOG_RECORD_SEARCH_BBS = 2048;
const BBSIZE = 512;

export interface XlogState {
  clean: boolean;
  /** Head and tail as 512-byte block offsets into the log (as xfs_logprint shows them). */
  headBlk: number;
  tailBlk: number;
  headCycle: number;
  tailCycle: number;
  /** Why the state could not be decided, if it could not. */
  problem?: string;
}

/** `read(bb, count)` reads log basic blocks [bb, bb+count) (the caller bounds them to the log). */
export function xlogState(read: (bb: number, count: number) => Bytes, logBBs: number): XlogState {
  const cycle = (bb: number) => {
    const b = read(bb, 1);
    const w = b.u32be(0);
    return w === XLOG_HEADER_MAGIC_NUM ? b.u32be(4) : w;
  };
  const n = logBBs;
  const c0 = cycle(0);
  if (c0 === 0) return { clean: true, headBlk: 0, tailBlk: 0, headCycle: 0, tailCycle: 0 };
  const cl = cycle(n - 1);
  // Binary search [lo, hi] for the first block whose cycle is `want` (cycle(lo) != want).
  const firstWith = (want: number) => {
    let lo = 0, hi = n - 1;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (cycle(mid) === want) hi = mid; else lo = mid;
    }
    return hi;
  };
  let head: number;
  let headCycle: number;
  if (cl === 0) {
    head = firstWith(0);
    headCycle = c0;
  } else if (c0 === cl) {
    head = n; // the whole log is stamped with one cycle: the head wraps to block 0
    headCycle = c0;
  } else {
    head = firstWith(cl);
    headCycle = c0;
  }
  // The last record header before the head.
  const span = Math.min(n, XLOG_RECORD_SEARCH_BBS);
  let rblk = -1;
  let remaining = span;
  let end = head; // exclusive end of the next window, unwrapped (may go below 0)
  while (remaining > 0 && rblk < 0) {
    const e = (((end - 1) % n) + n) % n + 1; // exclusive end inside [1, n]
    const count = Math.min(64, remaining, e);
    const from = e - count;
    const win = read(from, count);
    for (let k = count - 1; k >= 0; k--) {
      if (win.u32be(k * BBSIZE) === XLOG_HEADER_MAGIC_NUM) { rblk = from + k; break; }
    }
    remaining -= count;
    end -= count;
  }
  const headBlk = head % n;
  if (rblk < 0) return { clean: false, headBlk, tailBlk: headBlk, headCycle, tailCycle: headCycle, problem: 'no log record header before the head' };
  const h = read(rblk, 1);
  const version = h.u32be(8);
  const len = h.u32be(12);
  const tailCycle = h.u32be(24);
  const tailBlk = h.u32be(28);
  const numLogops = h.u32be(40);
  const size = version & XLOG_VERSION_2 ? h.u32be(320) : 0;
  const hblks = size > XLOG_HEADER_CYCLE_SIZE ? Math.ceil(size / XLOG_HEADER_CYCLE_SIZE) : 1;
  const after = (rblk + hblks + Math.ceil(len / BBSIZE)) % n;
  if (after === headBlk && numLogops === 1) {
    const op = read((rblk + hblks) % n, 1);
    if (op.u8(9) & XLOG_UNMOUNT_TRANS) return { clean: true, headBlk, tailBlk: headBlk, headCycle, tailCycle: headCycle };
  }
  return { clean: tailBlk === headBlk && tailCycle === headCycle, headBlk, tailBlk, headCycle, tailCycle };
}

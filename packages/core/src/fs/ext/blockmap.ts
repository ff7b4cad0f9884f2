// ext2/3 indirect block map: "Direct/Indirect Block Addressing" in the kernel's ext4
// disk-layout documentation (Documentation/filesystems/ext4/ifork.rst). i_block[0..11]
// point at data blocks, i_block[12] at a block of pointers, [13] at a block of pointer
// blocks, [14] at a third level. A zero pointer is a hole (for its whole subtree).

import { corrupt } from '../../errors.js';
import { MAX_LBLK, type ExtContext, type Run } from './context.js';
import type { Inode } from './inode.js';

const NDIR_BLOCKS = 12;

export class BlockMap {
  /** Pointers per block. */
  private readonly p: number;
  private readonly direct: DataView;

  constructor(
    private readonly ctx: ExtContext,
    private readonly inode: Inode,
  ) {
    this.p = ctx.sb.blockSize / 4;
    this.direct = new DataView(inode.i_block.buffer, inode.i_block.byteOffset, 60);
  }

  private check(ptr: number, what: string): number {
    const sb = this.ctx.sb;
    if (ptr !== 0 && (ptr >= sb.s_blocks_count || ptr < sb.s_first_data_block)) {
      throw corrupt(`inode ${this.inode.ino}`, `${what} points to block ${ptr}, outside the filesystem (${sb.s_blocks_count} blocks)`);
    }
    return ptr;
  }

  private pointerBlock(ptr: number, level: number): DataView {
    const buf = this.ctx.metaBlock(ptr, `level-${level} indirect block ${ptr} of inode ${this.inode.ino}`);
    return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Map logical block `lblk`: the run starting there, at most `maxLen` blocks long. */
  map(lblk: number, maxLen: number): Run {
    const p = this.p;
    if (lblk < NDIR_BLOCKS) {
      return this.scan(this.direct, lblk, Math.min(NDIR_BLOCKS - lblk, maxLen), lblk, 'direct pointer');
    }
    let rel = lblk - NDIR_BLOCKS;
    // Levels: 1 (p blocks), 2 (p^2), 3 (p^3).
    let span = p;
    for (let level = 1; level <= 3; level++) {
      if (rel < span) {
        const top = this.check(this.direct.getUint32((NDIR_BLOCKS + level - 1) * 4, true), `i_block[${NDIR_BLOCKS + level - 1}]`);
        return this.walk(top, level, rel, span, lblk, maxLen);
      }
      rel -= span;
      span *= p;
    }
    // Past what a block map can address: a hole (the kernel refuses such blocks).
    return { lblk, len: Math.min(maxLen, Math.max(1, MAX_LBLK - lblk)), pblk: -1, unwritten: false };
  }

  /** Descend from pointer `ptr` covering `span` blocks at `level`, to relative block `rel`. */
  private walk(ptr: number, level: number, rel: number, span: number, lblk: number, maxLen: number): Run {
    const p = this.p;
    for (;;) {
      if (ptr === 0) return { lblk, len: Math.min(span - rel, maxLen), pblk: -1, unwritten: false };
      const dv = this.pointerBlock(ptr, level);
      const childSpan = span / p;
      const idx = Math.floor(rel / childSpan);
      if (level === 1) return this.scan(dv, idx, Math.min(p - idx, maxLen), lblk, `indirect block ${ptr} entry`);
      ptr = this.check(dv.getUint32(idx * 4, true), `level-${level} indirect block ${ptr} entry ${idx}`);
      rel -= idx * childSpan;
      span = childSpan;
      level--;
    }
  }

  /** Run of pointers in `dv` from `idx`: contiguous physical blocks, or consecutive holes. */
  private scan(dv: DataView, idx: number, max: number, lblk: number, what: string): Run {
    const first = this.check(dv.getUint32(idx * 4, true), `${what} ${idx}`);
    let n = 1;
    if (first === 0) {
      while (n < max && dv.getUint32((idx + n) * 4, true) === 0) n++;
      return { lblk, len: n, pblk: -1, unwritten: false };
    }
    while (n < max && dv.getUint32((idx + n) * 4, true) === first + n) n++;
    if (first + n > this.ctx.sb.s_blocks_count) this.check(first + n - 1, `${what} ${idx + n - 1}`);
    return { lblk, len: n, pblk: first, unwritten: false };
  }
}

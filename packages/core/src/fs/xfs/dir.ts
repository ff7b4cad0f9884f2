// Reading XFS directories in their five forms (XFS Algorithms & Data Structures, "Directories"):
// shortform (in the inode), block (one directory block), leaf (data blocks + a LEAF1 block),
// node (data blocks + a da-btree of LEAFN blocks + free-index blocks) and btree (a node
// directory whose data fork is a bmap btree: the same blocks, mapped differently). Data blocks
// are found through the data fork's logical offsets below XFS_DIR2_LEAF_OFFSET; lookups hash
// the name and go through the block tail, the leaf, or down the da-btree.

import { Bytes } from '../../bytes.js';
import { corrupt, GuestkitError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import type { BmapFork } from './bmbt.js';
import type { XfsContext } from './context.js';
import { xfsDaHashname } from './dahash.js';
import { blockLeafEntries, parseBlockTail } from './dir2-block.js';
import {
  XFS_DIR2_BLOCK_MAGIC,
  XFS_DIR3_BLOCK_MAGIC,
  XFS_DIR3_BLK_CRC_OFF,
  dataEntries,
  dataEntryAt,
  dataHeaderSize,
  type XfsDataEntry,
} from './dir2-data.js';
import {
  XFS_DIR2_DATA_ALIGN_LOG,
  XFS_DIR2_LEAF1_MAGIC,
  XFS_DIR3_LEAF1_MAGIC,
  daBlockMagic,
  firstAtOrAbove,
  isLeafMagic,
  parseDir2Leaf,
  type XfsLeafEntry,
} from './dir2-leaf.js';
import { XFS_DA3_BLKINFO_CRC_OFF, XFS_DA_NODE_MAXDEPTH, daNodeChild, isDaNodeMagic, parseDaNode } from './dir2-node.js';
import { parseDir2Sf, type XfsRawDirent } from './dir2-sf.js';

/** Byte offsets of the directory's leaf and free-index spaces (XFS_DIR2_LEAF_OFFSET, _FREE_OFFSET). */
export const XFS_DIR2_LEAF_OFFSET = 2 ** 35;
export const XFS_DIR2_FREE_OFFSET = 2 ** 36;

/** XFS_DIR3_FT_* → type names of vfs.ts. */
export const XFS_DIR3_FT = ['unknown', 'file', 'dir', 'chardev', 'blockdev', 'fifo', 'socket', 'symlink'] as const;

export interface XfsDirInode {
  ino: number;
  size: number;
  /** Data fork literal area (shortform directories). */
  dfork: Bytes;
  /** Block map of the data fork (block/leaf/node/btree directories), else null (shortform). */
  dmap: BmapFork | null;
}

const isDot = (n: Uint8Array) => (n.length === 1 && n[0] === 0x2e) || (n.length === 2 && n[0] === 0x2e && n[1] === 0x2e);

export class XfsDirReader {
  private readonly dirBlockFsbs: number;
  private readonly leafDablk: number;
  private readonly freeDablk: number;

  constructor(private readonly ctx: XfsContext) {
    const sb = ctx.sb;
    this.dirBlockFsbs = 1 << sb.sb_dirblklog;
    this.leafDablk = XFS_DIR2_LEAF_OFFSET / sb.sb_blocksize;
    this.freeDablk = XFS_DIR2_FREE_OFFSET / sb.sb_blocksize;
  }

  /** Read the directory block at logical fs block `dablk` (a directory block may span extents). */
  readDirBlock(dir: XfsDirInode, dablk: number, what: string): Bytes {
    const map = dir.dmap!;
    const e = map.lookup(dablk);
    if (!e || e.startoff > dablk) throw corrupt(what, `block ${dablk} of directory inode ${dir.ino} is not mapped`);
    if (e.startoff + e.blockcount >= dablk + this.dirBlockFsbs) {
      return this.ctx.readFsBlocks(e.startblock + (dablk - e.startoff), this.dirBlockFsbs, what);
    }
    // Split across extents: gather it block by block.
    const bs = this.ctx.sb.sb_blocksize;
    const buf = new Uint8Array(bs * this.dirBlockFsbs);
    for (let k = 0; k < this.dirBlockFsbs; k++) {
      const x = map.lookup(dablk + k);
      if (!x || x.startoff > dablk + k) throw corrupt(what, `block ${dablk + k} of directory inode ${dir.ino} is not mapped`);
      buf.set(this.ctx.readFsBlocks(x.startblock + (dablk + k - x.startoff), 1, what).buf, k * bs);
    }
    return new Bytes(buf, what);
  }

  /** Check a v5 directory block's self-describing header. */
  private checkBlock(dir: XfsDirInode, b: Bytes, dablk: number, what: string, kind: 'data' | 'da'): void {
    if (!this.ctx.sb.hasCrc) return;
    const fsb = dir.dmap!.lookup(dablk)!;
    const daddr = this.ctx.fsbToDaddr(fsb.startblock + (dablk - fsb.startoff));
    if (kind === 'data') this.ctx.checkV5(what, b, XFS_DIR3_BLK_CRC_OFF, { blknoOff: 8, daddr, ownerOff: 40, owner: dir.ino, uuidOff: 24 });
    else this.ctx.checkV5(what, b, XFS_DA3_BLKINFO_CRC_OFF, { blknoOff: 16, daddr, ownerOff: 48, owner: dir.ino, uuidOff: 32 });
  }

  /** A data (or block-form) directory block, checked: its header size and where entries end. */
  private dataBlock(dir: XfsDirInode, dablk: number): { b: Bytes; start: number; end: number; block: boolean; leaf?: XfsLeafEntry[] } {
    const what = `xfs directory inode ${dir.ino} data block ${dablk}`;
    const b = this.readDirBlock(dir, dablk, what);
    const magic = b.u32be(0);
    const block = magic === XFS_DIR2_BLOCK_MAGIC || magic === XFS_DIR3_BLOCK_MAGIC;
    const v5 = this.ctx.sb.hasCrc;
    const start = dataHeaderSize(b, v5, block, what);
    this.checkBlock(dir, b, dablk, what, 'data');
    if (!block) return { b, start, end: b.length, block };
    if (dablk !== 0) throw corrupt(what, 'a block-form directory block past the first block');
    const tail = parseBlockTail(b, start, what);
    return { b, start, end: tail.leafStart, block, leaf: blockLeafEntries(b, tail) };
  }

  /** Every entry except '.' and '..', in directory order. */
  *entries(dir: XfsDirInode): Generator<XfsRawDirent> {
    const sb = this.ctx.sb;
    let n = 0;
    const count = () => {
      if (++n > LIMITS.maxDirEntries) throw new GuestkitError('LIMIT', `xfs directory inode ${dir.ino}: more than ${LIMITS.maxDirEntries} entries`);
    };
    if (!dir.dmap) {
      for (const e of parseDir2Sf(dir.dfork, dir.size, sb.hasFtype, `xfs directory inode ${dir.ino} (shortform)`).entries) {
        count();
        yield e;
      }
      return;
    }
    let next = 0; // first dablk not yet read (directory blocks are aligned to dirBlockFsbs)
    for (const ext of dir.dmap.extents()) {
      if (ext.startoff >= this.leafDablk) break;
      const end = Math.min(ext.startoff + ext.blockcount, this.leafDablk);
      let dablk = Math.max(next, ext.startoff - (ext.startoff % this.dirBlockFsbs));
      for (; dablk < end; dablk += this.dirBlockFsbs) {
        const { b, start, end: dataEnd } = this.dataBlock(dir, dablk);
        for (const e of dataEntries(b, start, dataEnd, sb.hasFtype, `xfs directory inode ${dir.ino} data block ${dablk}`)) {
          if (isDot(e.name)) continue;
          count();
          yield e;
        }
      }
      next = dablk;
    }
  }

  /** Inode number of `name` in the directory, or null. */
  lookup(dir: XfsDirInode, name: Uint8Array): number | null {
    const sb = this.ctx.sb;
    const ci = sb.hasAsciiCi;
    const same = (a: Uint8Array) => sameName(a, name, ci);
    if (!dir.dmap) {
      for (const e of parseDir2Sf(dir.dfork, dir.size, sb.hasFtype, `xfs directory inode ${dir.ino} (shortform)`).entries) {
        if (same(e.name)) return e.ino;
      }
      return null;
    }
    const hash = xfsDaHashname(name, ci);
    const first = this.dataBlock(dir, 0);
    if (first.block) {
      const hit = this.scanLeaf(first.leaf!, firstAtOrAbove(first.leaf!, hash), hash, (addr) => this.entryAt(dir, addr, first), same);
      return hit === undefined ? null : hit;
    }
    // Leaf or node form: the block at XFS_DIR2_LEAF_OFFSET is the LEAF1 block or the da-btree root.
    let dablk = this.leafDablk;
    let level = XFS_DA_NODE_MAXDEPTH + 1;
    for (let depth = 0; ; depth++) {
      if (depth > XFS_DA_NODE_MAXDEPTH) throw new GuestkitError('LOOP', `xfs directory inode ${dir.ino}: da-btree deeper than ${XFS_DA_NODE_MAXDEPTH}`);
      this.checkDaBlk(dir, dablk);
      const what = `xfs directory inode ${dir.ino} leaf/node block ${dablk}`;
      const b = this.readDirBlock(dir, dablk, what);
      this.checkBlock(dir, b, dablk, what, 'da');
      const magic = daBlockMagic(b);
      if (isDaNodeMagic(magic, sb.hasCrc)) {
        const node = parseDaNode(b, sb.hasCrc, what);
        if (node.level >= level) throw new GuestkitError('LOOP', `${what}: da node level ${node.level} does not decrease (a btree loop?)`);
        level = node.level;
        dablk = daNodeChild(node, hash);
        continue;
      }
      if (!isLeafMagic(magic)) throw corrupt(what, `bad leaf/node magic 0x${magic.toString(16)}`);
      if (level !== XFS_DA_NODE_MAXDEPTH + 1 && level !== 1) throw corrupt(what, `leaf found below a level-${level} node`);
      const single = magic === XFS_DIR2_LEAF1_MAGIC || magic === XFS_DIR3_LEAF1_MAGIC;
      if (single && depth > 0) throw corrupt(what, 'a LEAF1 block under a da node');
      // Scan this leaf and, while matching hashes run off its end, its right siblings.
      const seen = new Set<number>();
      for (;;) {
        if (seen.has(dablk)) throw new GuestkitError('LOOP', `${what}: leaf sibling chain loops`);
        seen.add(dablk);
        const lw = `xfs directory inode ${dir.ino} leaf block ${dablk}`;
        const lb = seen.size === 1 ? b : this.readDirBlock(dir, dablk, lw);
        if (seen.size > 1) this.checkBlock(dir, lb, dablk, lw, 'da');
        const leaf = parseDir2Leaf(lb, sb.hasCrc, lw);
        const hit = this.scanLeaf(leaf.entries, firstAtOrAbove(leaf.entries, hash), hash, (addr) => this.entryAt(dir, addr), same);
        if (hit !== undefined) return hit;
        const last = leaf.entries[leaf.entries.length - 1];
        if (single || !last || last.hashval !== hash || leaf.forw === 0) return null;
        this.checkDaBlk(dir, leaf.forw);
        dablk = leaf.forw;
      }
    }
  }

  private checkDaBlk(dir: XfsDirInode, dablk: number): void {
    if (dablk < this.leafDablk || dablk >= this.freeDablk) {
      throw corrupt(`xfs directory inode ${dir.ino}`, `da-btree pointer ${dablk} is outside the leaf space`);
    }
  }

  /** Entries with hashval == hash from index i: returns the inode, or undefined if none matches. */
  private scanLeaf(entries: XfsLeafEntry[], i: number, hash: number, at: (addr: number) => XfsDataEntry, same: (n: Uint8Array) => boolean): number | undefined {
    for (; i < entries.length && entries[i].hashval === hash; i++) {
      if (entries[i].address === 0) continue; // stale
      const e = at(entries[i].address);
      if (same(e.name)) return e.ino;
    }
    return undefined;
  }

  /** The data entry a leaf address points at. */
  private entryAt(dir: XfsDirInode, addr: number, cached?: { b: Bytes; start: number; end: number }): XfsDataEntry {
    const byte = addr * 2 ** XFS_DIR2_DATA_ALIGN_LOG;
    const dbs = this.ctx.sb.dirBlockSize;
    const db = Math.floor(byte / dbs);
    const off = byte - db * dbs;
    const dablk = db * this.dirBlockFsbs;
    if (dablk >= this.leafDablk) throw corrupt(`xfs directory inode ${dir.ino}`, `leaf address ${addr} points outside the data space`);
    const blk = cached && dablk === 0 ? cached : this.dataBlock(dir, dablk);
    if (off < blk.start) throw corrupt(`xfs directory inode ${dir.ino}`, `leaf address ${addr} points into a block header`);
    return dataEntryAt(blk.b, off, blk.end, this.ctx.sb.hasFtype, `xfs directory inode ${dir.ino} data block ${dablk}`);
  }
}

function sameName(a: Uint8Array, b: Uint8Array, ci: boolean): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a[i], y = b[i];
    if (ci) {
      if (x >= 0x41 && x <= 0x5a) x += 0x20;
      if (y >= 0x41 && y <= 0x5a) y += 0x20;
    }
    if (x !== y) return false;
  }
  return true;
}

// Tree blocks (btrfs docs, "On-disk Format" § Tree structure: struct btrfs_header,
// btrfs_key_ptr, btrfs_item; btrfs_tree.h): every tree is a B-tree of nodesize blocks. A block
// starts with a 101-byte header (csum, fsid, bytenr, flags, chunk_tree_uuid, generation, owner,
// nritems, level); a node (level > 0) then holds nritems key pointers (key, blockptr,
// generation: 33 bytes), a leaf nritems items (key, data offset and size relative to the end of
// the header: 25 bytes) whose data grows from the end of the block.
//
// A block is accepted when its checksum matches, it names its own logical address, carries the
// filesystem's (metadata) fsid, has the level and generation its parent expects and its first
// key equals the parent's key for it; a copy that fails is skipped for the next copy (DUP,
// RAID1...) with a warning, and only when every copy fails is the block CORRUPT. Iteration
// yields keys in strictly increasing order, so a tree that points back into itself stops with
// LOOP instead of cycling, and levels strictly decrease down to 0 (at most BTRFS_MAX_LEVEL).

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { BoundedCache } from '../../util/bounded-cache.js';
import { canVerify, csumMatches, csumTypeName } from './csum.js';
import type { BtrfsDevices } from './devices.js';
import { compareDiskKeys, compareKeyAt, formatKey, readKeyDv, type Key, type SearchKey } from './key.js';
import { BTRFS_MAX_LEVEL, type Superblock } from './superblock.js';

export const BTRFS_HEADER_SIZE = 101;
export const BTRFS_ITEM_SIZE = 25;
export const BTRFS_KEY_PTR_SIZE = 33;
/** Bytes of tree blocks kept parsed per cache generation (the cache holds up to twice this). */
const TREE_BLOCK_CACHE_BYTES = 16 * 1024 * 1024;

/** What a parent (or the superblock / root item) says about a block. */
export interface BlockExpect {
  level: number;
  /** Transaction id the pointer records (0: unknown). */
  generation: number;
  /** Where the parent's key for this block is (null for a root). */
  firstKey: { dv: DataView; off: number } | null;
}

export class TreeBlock {
  readonly dv: DataView;
  readonly bytenr: number;
  readonly generation: number;
  readonly owner: number;
  readonly nritems: number;
  readonly level: number;

  constructor(readonly buf: Uint8Array, readonly what: string) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const h = new Bytes(buf, what);
    this.bytenr = h.u64le(0x30);
    this.generation = h.u64le(0x50);
    this.owner = Number(h.u64leBig(0x58) & 0x1fffffffffffffn);
    this.nritems = h.u32le(0x60);
    this.level = h.u8(0x64);
  }

  get isLeaf(): boolean {
    return this.level === 0;
  }

  /** Byte offset of the key of slot `i`. */
  keyOff(i: number): number {
    return BTRFS_HEADER_SIZE + i * (this.level === 0 ? BTRFS_ITEM_SIZE : BTRFS_KEY_PTR_SIZE);
  }

  key(i: number): Key {
    return readKeyDv(this.dv, this.keyOff(i));
  }

  cmp(i: number, k: SearchKey): number {
    return compareKeyAt(this.dv, this.keyOff(i), k);
  }

  /** Leaf: the data of item `i`, bounds-checked against the item headers and the block. */
  itemData(i: number): Bytes {
    const o = this.keyOff(i) + 17;
    const off = this.dv.getUint32(o, true);
    const size = this.dv.getUint32(o + 4, true);
    const start = BTRFS_HEADER_SIZE + off;
    if (start < BTRFS_HEADER_SIZE + this.nritems * BTRFS_ITEM_SIZE || start + size > this.buf.length) {
      throw new GuestkitError('CORRUPT', `${this.what}: item ${i} data (${off}+${size}) is outside the leaf`);
    }
    return new Bytes(this.buf.subarray(start, start + size), `${this.what} item ${i}`);
  }

  /** Node: the child pointer of slot `i`. */
  blockptr(i: number): number {
    const o = this.keyOff(i) + 17;
    const hi = this.dv.getUint32(o + 4, true);
    if (hi >= 0x200000) throw new GuestkitError('CORRUPT', `${this.what}: pointer ${i} is out of range`);
    return hi * 2 ** 32 + this.dv.getUint32(o, true);
  }

  ptrGeneration(i: number): number {
    const o = this.keyOff(i) + 25;
    return this.dv.getUint32(o + 4, true) * 2 ** 32 + this.dv.getUint32(o, true);
  }

  /** Last slot whose key is <= k (0 when every key is larger). */
  lastLE(k: SearchKey): number {
    let lo = 0;
    let hi = this.nritems - 1;
    let ans = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.cmp(mid, k) <= 0) {
        ans = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return ans;
  }

  /** First slot whose key is >= k (nritems when none). */
  firstGE(k: SearchKey): number {
    let lo = 0;
    let hi = this.nritems;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cmp(mid, k) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Reads, verifies and caches tree blocks. */
export class TreeBlockReader {
  private readonly cache: BoundedCache<number, TreeBlock>;
  readonly verify: boolean;
  /** Blocks read from disk (for tests and benchmarks). */
  reads = 0;

  constructor(
    readonly devs: BtrfsDevices,
    readonly sb: Superblock,
    private readonly note: (m: string) => void,
  ) {
    this.verify = canVerify(sb.csumType);
    this.cache = new BoundedCache(Math.max(64, Math.floor(TREE_BLOCK_CACHE_BYTES / sb.nodeSize)));
  }

  read(logical: number, expect: BlockExpect, what: string): TreeBlock {
    const cached = this.cache.get(logical);
    if (cached) {
      const why = this.mismatch(cached, logical, expect);
      if (!why) return cached;
      throw new GuestkitError('CORRUPT', `${what}: tree block at logical ${logical}: ${why}`);
    }
    const size = this.sb.nodeSize;
    const name = `${what}: tree block at logical ${logical}`;
    if (logical % this.sb.sectorSize) throw new GuestkitError('CORRUPT', `${name}: not aligned to the sector size ${this.sb.sectorSize}`);
    const copies = this.devs.copies(logical, size, name);
    const failures: string[] = [];
    for (let i = 0; i < copies.length; i++) {
      const c = copies[i];
      const where = copies.length > 1 ? `copy ${i + 1} (device ${c.devid} at ${c.offset})` : `device ${c.devid} at ${c.offset}`;
      let why: string | null;
      let block: TreeBlock | null = null;
      const buf = new Uint8Array(size);
      if (c.offset + size > c.dev.size || c.dev.pread(buf, c.offset) !== size) {
        why = `outside ${c.dev.description}`;
      } else {
        this.reads++;
        why = this.verifyCopy(buf);
        if (!why) {
          block = new TreeBlock(buf, `btrfs tree block ${logical}`);
          why = this.mismatch(block, logical, expect) ?? this.checkLayout(block);
        }
      }
      if (!why && block) {
        if (failures.length) this.note(`${name}: ${failures.join('; ')}; used ${where}`);
        this.cache.set(logical, block);
        return block;
      }
      failures.push(`${where}: ${why}`);
    }
    const err = new GuestkitError('CORRUPT', `${name}: ${failures.join('; ')}`);
    throw err;
  }

  private verifyCopy(buf: Uint8Array): string | null {
    if (this.verify && !csumMatches(this.sb.csumType, buf)) return `${csumTypeName(this.sb.csumType)} checksum mismatch`;
    const fsid = this.sb.metadataFsidRaw;
    for (let i = 0; i < 16; i++) if (buf[0x20 + i] !== fsid[i]) return 'fsid differs from the superblock (not a block of this filesystem)';
    return null;
  }

  private mismatch(b: TreeBlock, logical: number, e: BlockExpect): string | null {
    if (b.bytenr !== logical) return `header says it is block ${b.bytenr}`;
    if (b.level !== e.level) {
      if (b.level >= BTRFS_MAX_LEVEL) return `level ${b.level} is not below ${BTRFS_MAX_LEVEL}`;
      return `level ${b.level}, expected ${e.level}`;
    }
    if (e.generation && b.generation !== e.generation) return `generation ${b.generation}, its parent expects ${e.generation} (stale or misdirected)`;
    if (e.firstKey && b.nritems > 0 && !sameKey(b.dv, b.keyOff(0), e.firstKey.dv, e.firstKey.off)) {
      return `first key ${formatKey(b.key(0))} differs from its parent's key`;
    }
    return null;
  }

  private checkLayout(b: TreeBlock): string | null {
    const per = b.level === 0 ? BTRFS_ITEM_SIZE : BTRFS_KEY_PTR_SIZE;
    if (BTRFS_HEADER_SIZE + b.nritems * per > b.buf.length) return `${b.nritems} items do not fit in the block`;
    if (b.level > 0 && b.nritems === 0) return 'node without pointers';
    for (let i = 1; i < b.nritems; i++) {
      if (compareDiskKeys(b.dv, b.keyOff(i), b.dv, b.keyOff(i - 1)) <= 0) return `keys out of order at slot ${i}`;
    }
    return null;
  }
}

function sameKey(a: DataView, ao: number, b: DataView, bo: number): boolean {
  return compareDiskKeys(a, ao, b, bo) === 0;
}

export interface Item {
  key: Key;
  data: Bytes;
}

/** One B-tree: a root block and its level. */
export class Tree {
  constructor(
    readonly reader: TreeBlockReader,
    readonly rootBytenr: number,
    readonly rootLevel: number,
    readonly name: string,
    readonly rootGeneration = 0,
  ) {
    if (rootLevel >= BTRFS_MAX_LEVEL) {
      throw new GuestkitError('CORRUPT', `${name}: root level ${rootLevel} is not below ${BTRFS_MAX_LEVEL}`);
    }
  }

  private root(): TreeBlock {
    return this.reader.read(this.rootBytenr, { level: this.rootLevel, generation: this.rootGeneration, firstKey: null }, this.name);
  }

  private child(parent: TreeBlock, slot: number, ancestors: readonly { block: TreeBlock }[] = []): TreeBlock {
    const ptr = parent.blockptr(slot);
    if (ptr === parent.bytenr || ancestors.some((a) => a.block.bytenr === ptr)) {
      throw new GuestkitError('LOOP', `${this.name}: tree block ${parent.bytenr} (level ${parent.level}) points back to block ${ptr} above it (the tree loops)`);
    }
    return this.reader.read(
      ptr,
      { level: parent.level - 1, generation: parent.ptrGeneration(slot), firstKey: { dv: parent.dv, off: parent.keyOff(slot) } },
      this.name,
    );
  }

  /** Items with min <= key <= max, in key order. */
  *range(min: SearchKey, max: SearchKey): Generator<Item> {
    const path: { block: TreeBlock; slot: number }[] = [];
    let block = this.root();
    while (block.level > 0) {
      const slot = block.lastLE(min);
      path.push({ block, slot });
      block = this.child(block, slot, path);
    }
    let slot = block.firstGE(min);
    let lastDv: DataView | null = null;
    let lastOff = 0;
    for (;;) {
      for (; slot < block.nritems; slot++) {
        const ko = block.keyOff(slot);
        if (compareKeyAt(block.dv, ko, max) > 0) return;
        if (lastDv && compareDiskKeys(block.dv, ko, lastDv, lastOff) <= 0) {
          throw new GuestkitError('LOOP', `${this.name}: key ${formatKey(block.key(slot))} in tree block ${block.bytenr} does not follow the previous key (the tree loops or is out of order)`);
        }
        lastDv = block.dv;
        lastOff = ko;
        yield { key: block.key(slot), data: block.itemData(slot) };
      }
      // Next leaf: climb to the first ancestor with a slot to the right, then down its left edge.
      let top: { block: TreeBlock; slot: number } | undefined;
      while ((top = path[path.length - 1])) {
        top.slot++;
        if (top.slot < top.block.nritems) break;
        path.pop();
      }
      if (!top) return;
      if (top.block.cmp(top.slot, max) > 0) return;
      block = this.child(top.block, top.slot, path);
      while (block.level > 0) {
        path.push({ block, slot: 0 });
        block = this.child(block, 0, path);
      }
      slot = 0;
    }
  }

  /** The item with exactly key k, or null. */
  find(k: SearchKey): Item | null {
    const hit = this.findLE(k);
    if (!hit) return null;
    const d = hit.key;
    return hit.cmp === 0 ? { key: d, data: hit.data } : null;
  }

  /** The last item with key <= k, or null. */
  findLE(k: SearchKey): (Item & { cmp: number }) | null {
    let block = this.root();
    const path: { block: TreeBlock }[] = [];
    while (block.level > 0) {
      const slot = block.lastLE(k);
      path.push({ block });
      block = this.child(block, slot, path);
    }
    if (block.nritems === 0) return null;
    const slot = block.lastLE(k);
    const cmp = block.cmp(slot, k);
    if (cmp > 0) return null;
    return { key: block.key(slot), data: block.itemData(slot), cmp };
  }
}

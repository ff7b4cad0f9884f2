// struct btrfs_chunk and struct btrfs_stripe (btrfs docs, "On-disk Format" § CHUNK_ITEM;
// "Chunk tree" and "Physical to logical mapping"): a chunk maps a range of the logical
// address space onto stripes of one or more devices with an allocation profile (SINGLE, DUP,
// RAID0, RAID1, RAID1C3, RAID1C4, RAID10, RAID5, RAID6). The system chunks are also listed in
// the superblock's sys_chunk_array (key + chunk, repeated) so that the chunk tree, which lives
// in them, can be found. Mapping follows the kernel's btrfs_map_block() arithmetic.

import type { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { BTRFS_CHUNK_ITEM_KEY, KEY_SIZE, parseKey, typeName } from './key.js';

export const BTRFS_CHUNK_SIZE = 48;
export const BTRFS_STRIPE_SIZE = 32;
/** Chunks held in the map (a 1 GiB chunk per entry: 1 PiB of filesystem). */
export const BTRFS_MAX_CHUNKS = 1_000_000;

// Block group / chunk type flags (btrfs_tree.h BTRFS_BLOCK_GROUP_*).
export const BG = {
  DATA: 1 << 0,
  SYSTEM: 1 << 1,
  METADATA: 1 << 2,
  RAID0: 1 << 3,
  RAID1: 1 << 4,
  DUP: 1 << 5,
  RAID10: 1 << 6,
  RAID5: 1 << 7,
  RAID6: 1 << 8,
  RAID1C3: 1 << 9,
  RAID1C4: 1 << 10,
} as const;
export const BG_PROFILE_MASK = BG.RAID0 | BG.RAID1 | BG.DUP | BG.RAID10 | BG.RAID5 | BG.RAID6 | BG.RAID1C3 | BG.RAID1C4;

export function profileName(type: number): string {
  switch (type & BG_PROFILE_MASK) {
    case 0: return 'single';
    case BG.RAID0: return 'raid0';
    case BG.RAID1: return 'raid1';
    case BG.DUP: return 'dup';
    case BG.RAID10: return 'raid10';
    case BG.RAID5: return 'raid5';
    case BG.RAID6: return 'raid6';
    case BG.RAID1C3: return 'raid1c3';
    case BG.RAID1C4: return 'raid1c4';
    default: return `mixed profile 0x${(type & BG_PROFILE_MASK).toString(16)}`;
  }
}

/** Copies of each byte a profile keeps (btrfs_bg_type_to_factor()): 2 for DUP/RAID1/RAID10. */
export function profileFactor(type: number): number {
  switch (type & BG_PROFILE_MASK) {
    case BG.RAID1: case BG.DUP: case BG.RAID10: return 2;
    case BG.RAID1C3: return 3;
    case BG.RAID1C4: return 4;
    default: return 1;
  }
}

export interface Stripe {
  devid: number;
  /** Byte offset on the device. */
  offset: number;
}

export interface Chunk {
  /** Logical start (the key offset). */
  logical: number;
  length: number;
  stripeLen: number;
  type: number;
  numStripes: number;
  subStripes: number;
  stripes: Stripe[];
}

/** Parse the chunk item at `off` of `b` for logical address `logical` (item of `itemSize` bytes). */
export function parseChunk(b: Bytes, off: number, itemSize: number, logical: number, sectorSize: number): Chunk {
  const what = `${b.what}: chunk at logical ${logical}`;
  const bad = (d: string) => new GuestkitError('CORRUPT', `${what}: ${d}`);
  if (itemSize < BTRFS_CHUNK_SIZE) throw bad(`item of ${itemSize} bytes is shorter than a chunk (${BTRFS_CHUNK_SIZE})`);
  const length = b.u64le(off);
  const stripeLen = b.u64le(off + 16);
  const type = Number(b.u64leBig(off + 24) & 0xffffffffn);
  const numStripes = b.u16le(off + 44);
  const subStripes = b.u16le(off + 46);
  if (numStripes === 0) throw bad('has no stripes');
  if (BTRFS_CHUNK_SIZE + numStripes * BTRFS_STRIPE_SIZE > itemSize) {
    throw bad(`${numStripes} stripes do not fit in its item (${itemSize} bytes)`);
  }
  if (length === 0 || length % sectorSize) throw bad(`invalid length ${length}`);
  if (!Number.isSafeInteger(logical + length)) throw bad(`length ${length} runs past the address space`);
  if (stripeLen < 4096 || stripeLen > 2 ** 30 || (stripeLen & (stripeLen - 1)) !== 0) throw bad(`invalid stripe_len ${stripeLen}`);
  const profile = type & BG_PROFILE_MASK;
  if (profile & (profile - 1)) throw bad(`has several profiles (type 0x${type.toString(16)})`);
  if (!(type & (BG.DATA | BG.SYSTEM | BG.METADATA))) throw bad(`type 0x${type.toString(16)} is neither data, metadata nor system`);
  const need: Record<number, (n: number) => boolean> = {
    0: (n) => n === 1,
    [BG.DUP]: (n) => n === 2,
    [BG.RAID1]: (n) => n === 2,
    [BG.RAID1C3]: (n) => n === 3,
    [BG.RAID1C4]: (n) => n === 4,
    [BG.RAID0]: (n) => n >= 1,
    [BG.RAID10]: (n) => subStripes >= 2 && n >= subStripes && n % subStripes === 0,
    [BG.RAID5]: (n) => n >= 2,
    [BG.RAID6]: (n) => n >= 3,
  };
  if (!need[profile](numStripes)) throw bad(`${profileName(type)} with ${numStripes} stripes (sub_stripes ${subStripes}) is not a valid layout`);
  const stripes: Stripe[] = [];
  for (let i = 0; i < numStripes; i++) {
    const s = off + BTRFS_CHUNK_SIZE + i * BTRFS_STRIPE_SIZE;
    stripes.push({ devid: b.u64le(s), offset: b.u64le(s + 8) });
  }
  return { logical, length, stripeLen, type, numStripes, subStripes, stripes };
}

/** The chunks listed in a superblock's sys_chunk_array. */
export function parseSysChunkArray(arr: Bytes, sectorSize: number): Chunk[] {
  const out: Chunk[] = [];
  let p = 0;
  while (p < arr.length) {
    const key = parseKey(arr, p);
    if (key.type !== BTRFS_CHUNK_ITEM_KEY) {
      throw new GuestkitError('CORRUPT', `${arr.what}: entry at ${p} has key type ${typeName(key.type)}, not CHUNK_ITEM`);
    }
    p += KEY_SIZE;
    const numStripes = arr.u16le(p + 44);
    const size = BTRFS_CHUNK_SIZE + numStripes * BTRFS_STRIPE_SIZE;
    out.push(parseChunk(arr, p, Math.min(size, arr.length - p), key.offset, sectorSize));
    p += size;
  }
  return out;
}

/** A contiguous piece of a logical range on the devices: every copy of it. */
export interface MappedRange {
  /** Bytes from the requested address that map contiguously. */
  length: number;
  /** Copies, in stripe order (mirror 1, 2, ...). */
  copies: Stripe[];
  chunk: Chunk;
}

/** The logical → physical map of the filesystem. */
export class ChunkMap {
  private chunks: Chunk[] = [];
  private sorted = true;

  get size(): number {
    return this.chunks.length;
  }

  all(): readonly Chunk[] {
    this.sort();
    return this.chunks;
  }

  /** Add a chunk; one that duplicates a known chunk is ignored, an overlapping one is CORRUPT. */
  add(c: Chunk, what: string): void {
    const hit = this.find(c.logical);
    if (hit) {
      if (hit.logical === c.logical && hit.length === c.length) return;
      throw new GuestkitError('CORRUPT', `${what}: chunk at logical ${c.logical}+${c.length} overlaps the chunk at ${hit.logical}+${hit.length}`);
    }
    if (this.chunks.length >= BTRFS_MAX_CHUNKS) throw new GuestkitError('LIMIT', `${what}: more than ${BTRFS_MAX_CHUNKS} chunks`);
    this.chunks.push(c);
    this.sorted = false;
  }

  private sort(): void {
    if (!this.sorted) {
      this.chunks.sort((a, b) => a.logical - b.logical);
      for (let i = 1; i < this.chunks.length; i++) {
        const p = this.chunks[i - 1];
        if (p.logical + p.length > this.chunks[i].logical) {
          throw new GuestkitError('CORRUPT', `btrfs chunk at logical ${p.logical}+${p.length} overlaps the chunk at ${this.chunks[i].logical}`);
        }
      }
      this.sorted = true;
    }
  }

  /** The chunk holding `logical`, or null. */
  find(logical: number): Chunk | null {
    this.sort();
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid];
      if (logical < c.logical) hi = mid - 1;
      else if (logical >= c.logical + c.length) lo = mid + 1;
      else return c;
    }
    return null;
  }

  /** Where `logical` lives; throws CORRUPT naming the address when no chunk maps it. */
  map(logical: number, what: string): MappedRange {
    const c = this.find(logical);
    if (!c) {
      throw new GuestkitError('CORRUPT', `${what}: logical address ${logical} is not mapped by any btrfs chunk`);
    }
    return mapInChunk(c, logical);
  }
}

/** btrfs_map_block() for a read at `logical` inside chunk `c`. */
export function mapInChunk(c: Chunk, logical: number): MappedRange {
  const off = logical - c.logical;
  const toChunkEnd = c.length - off;
  const profile = c.type & BG_PROFILE_MASK;
  if (profile === 0 || profile === BG.DUP || profile === BG.RAID1 || profile === BG.RAID1C3 || profile === BG.RAID1C4) {
    return { length: toChunkEnd, copies: c.stripes.map((s) => ({ devid: s.devid, offset: s.offset + off })), chunk: c };
  }
  const stripeNr = Math.floor(off / c.stripeLen);
  const inStripe = off - stripeNr * c.stripeLen;
  const length = Math.min(c.stripeLen - inStripe, toChunkEnd);
  if (profile === BG.RAID0) {
    const idx = stripeNr % c.numStripes;
    const row = Math.floor(stripeNr / c.numStripes);
    const s = c.stripes[idx];
    return { length, copies: [{ devid: s.devid, offset: s.offset + row * c.stripeLen + inStripe }], chunk: c };
  }
  if (profile === BG.RAID10) {
    const factor = c.numStripes / c.subStripes;
    const first = (stripeNr % factor) * c.subStripes;
    const row = Math.floor(stripeNr / factor);
    const copies: Stripe[] = [];
    for (let i = 0; i < c.subStripes; i++) {
      const s = c.stripes[first + i];
      copies.push({ devid: s.devid, offset: s.offset + row * c.stripeLen + inStripe });
    }
    return { length, copies, chunk: c };
  }
  // RAID5/6: data stripes only (the parity rotates with the row); no reconstruction.
  const nrData = c.numStripes - (profile === BG.RAID5 ? 1 : 2);
  const dataIdx = stripeNr % nrData;
  const row = Math.floor(stripeNr / nrData);
  const s = c.stripes[(row + dataIdx) % c.numStripes];
  return { length, copies: [{ devid: s.devid, offset: s.offset + row * c.stripeLen + inStripe }], chunk: c };
}

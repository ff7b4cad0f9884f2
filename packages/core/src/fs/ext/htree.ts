// ext4 hashed directories (htree / dir_index): "Hash Tree Directories" in the kernel's ext4
// disk-layout documentation (Documentation/filesystems/ext4/directory.rst): struct
// dx_root, dx_root_info, dx_node, dx_countlimit, dx_entry, dx_tail; and the name hashes of
// fs/ext4/hash.c (legacy, half-MD4, TEA, each with signed- or unsigned-char variants).

import { crc32cRaw } from '../../util/crc32c.js';
import { FLAGS_UNSIGNED_HASH, INCOMPAT_LARGEDIR, hasIncompat, type Superblock } from './superblock.js';
import { le16 as u16, le32 as u32 } from '../../bytes.js';

export const DX_HASH_LEGACY = 0;
export const DX_HASH_HALF_MD4 = 1;
export const DX_HASH_TEA = 2;
export const DX_HASH_LEGACY_UNSIGNED = 3;
export const DX_HASH_HALF_MD4_UNSIGNED = 4;
export const DX_HASH_TEA_UNSIGNED = 5;
export const DX_HASH_SIPHASH = 6;

const DEFAULT_SEED = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

// ---- fs/ext4/hash.c ----------------------------------------------------------------------

function dxHackHash(name: Uint8Array, signed: boolean): number {
  let hash0 = 0x12a3fe2d;
  let hash1 = 0x37abe8f9;
  for (let i = 0; i < name.length; i++) {
    const c = signed && name[i] >= 0x80 ? name[i] - 256 : name[i];
    let hash = (hash1 + ((hash0 ^ Math.imul(c, 7152373)) >>> 0)) >>> 0;
    if (hash & 0x80000000) hash = (hash - 0x7fffffff) >>> 0;
    hash1 = hash0;
    hash0 = hash;
  }
  return (hash0 << 1) >>> 0;
}

/** str2hashbuf_{signed,unsigned}: pack up to num*4 bytes of name[p..] into num words. */
function str2hashbuf(name: Uint8Array, p: number, len: number, out: Uint32Array, num: number, signed: boolean): void {
  let pad = (len | (len << 8)) >>> 0;
  pad = (pad | (pad << 16)) >>> 0;
  let val = pad;
  if (len > num * 4) len = num * 4;
  let k = 0;
  for (let i = 0; i < len; i++) {
    const b = name[p + i];
    const c = signed && b >= 0x80 ? b - 256 : b;
    val = (c + (val << 8)) >>> 0;
    if (i % 4 === 3) {
      out[k++] = val;
      val = pad;
      num--;
    }
  }
  if (--num >= 0) out[k++] = val;
  while (--num >= 0) out[k++] = pad;
}

function rol32(x: number, s: number): number {
  return ((x << s) | (x >>> (32 - s))) >>> 0;
}

const K2 = 0x5a827999; // 013240474631
const K3 = 0x6ed9eba1; // 015666365641

function halfMd4Transform(buf: Uint32Array, inp: Uint32Array): void {
  let a = buf[0];
  let b = buf[1];
  let c = buf[2];
  let d = buf[3];
  const F = (x: number, y: number, z: number) => (z ^ (x & (y ^ z))) >>> 0;
  const G = (x: number, y: number, z: number) => (((x & y) >>> 0) + (((x ^ y) & z) >>> 0)) >>> 0;
  const H = (x: number, y: number, z: number) => (x ^ y ^ z) >>> 0;
  const R = (f: typeof F, a1: number, b1: number, c1: number, d1: number, x: number, s: number) =>
    rol32((a1 + f(b1, c1, d1) + x) >>> 0, s);
  // Round 1
  a = R(F, a, b, c, d, inp[0], 3);
  d = R(F, d, a, b, c, inp[1], 7);
  c = R(F, c, d, a, b, inp[2], 11);
  b = R(F, b, c, d, a, inp[3], 19);
  a = R(F, a, b, c, d, inp[4], 3);
  d = R(F, d, a, b, c, inp[5], 7);
  c = R(F, c, d, a, b, inp[6], 11);
  b = R(F, b, c, d, a, inp[7], 19);
  // Round 2
  a = R(G, a, b, c, d, (inp[1] + K2) >>> 0, 3);
  d = R(G, d, a, b, c, (inp[3] + K2) >>> 0, 5);
  c = R(G, c, d, a, b, (inp[5] + K2) >>> 0, 9);
  b = R(G, b, c, d, a, (inp[7] + K2) >>> 0, 13);
  a = R(G, a, b, c, d, (inp[0] + K2) >>> 0, 3);
  d = R(G, d, a, b, c, (inp[2] + K2) >>> 0, 5);
  c = R(G, c, d, a, b, (inp[4] + K2) >>> 0, 9);
  b = R(G, b, c, d, a, (inp[6] + K2) >>> 0, 13);
  // Round 3
  a = R(H, a, b, c, d, (inp[3] + K3) >>> 0, 3);
  d = R(H, d, a, b, c, (inp[7] + K3) >>> 0, 9);
  c = R(H, c, d, a, b, (inp[2] + K3) >>> 0, 11);
  b = R(H, b, c, d, a, (inp[6] + K3) >>> 0, 15);
  a = R(H, a, b, c, d, (inp[1] + K3) >>> 0, 3);
  d = R(H, d, a, b, c, (inp[5] + K3) >>> 0, 9);
  c = R(H, c, d, a, b, (inp[0] + K3) >>> 0, 11);
  b = R(H, b, c, d, a, (inp[4] + K3) >>> 0, 15);
  buf[0] = (buf[0] + a) >>> 0;
  buf[1] = (buf[1] + b) >>> 0;
  buf[2] = (buf[2] + c) >>> 0;
  buf[3] = (buf[3] + d) >>> 0;
}

function teaTransform(buf: Uint32Array, inp: Uint32Array): void {
  let sum = 0;
  let b0 = buf[0];
  let b1 = buf[1];
  const a = inp[0];
  const b = inp[1];
  const c = inp[2];
  const d = inp[3];
  for (let n = 0; n < 16; n++) {
    sum = (sum + 0x9e3779b9) >>> 0;
    b0 = (b0 + ((((b1 << 4) + a) ^ (b1 + sum) ^ ((b1 >>> 5) + b)) >>> 0)) >>> 0;
    b1 = (b1 + ((((b0 << 4) + c) ^ (b0 + sum) ^ ((b0 >>> 5) + d)) >>> 0)) >>> 0;
  }
  buf[0] = (buf[0] + b0) >>> 0;
  buf[1] = (buf[1] + b1) >>> 0;
}

/**
 * ext4fs_dirhash: the major hash of `name` (low bit clear), or undefined for a hash version
 * we do not implement (siphash, used only by encrypted+casefolded directories).
 */
export function dirHash(name: Uint8Array, version: number, seed: readonly number[]): number | undefined {
  const buf = new Uint32Array(4);
  const useSeed = seed.some((w) => w !== 0);
  for (let i = 0; i < 4; i++) buf[i] = useSeed ? seed[i] : DEFAULT_SEED[i];
  let hash: number;
  switch (version) {
    case DX_HASH_LEGACY:
    case DX_HASH_LEGACY_UNSIGNED:
      hash = dxHackHash(name, version === DX_HASH_LEGACY);
      break;
    case DX_HASH_HALF_MD4:
    case DX_HASH_HALF_MD4_UNSIGNED: {
      const inp = new Uint32Array(8);
      for (let p = 0, len = name.length; len > 0; len -= 32, p += 32) {
        str2hashbuf(name, p, len, inp, 8, version === DX_HASH_HALF_MD4);
        halfMd4Transform(buf, inp);
      }
      hash = buf[1];
      break;
    }
    case DX_HASH_TEA:
    case DX_HASH_TEA_UNSIGNED: {
      const inp = new Uint32Array(4);
      for (let p = 0, len = name.length; len > 0; len -= 16, p += 16) {
        str2hashbuf(name, p, len, inp, 4, version === DX_HASH_TEA);
        teaTransform(buf, inp);
      }
      hash = buf[0];
      break;
    }
    default:
      return undefined;
  }
  hash = (hash & ~1) >>> 0;
  if (hash === 0x7fffffff << 1 >>> 0) hash = ((0x7fffffff - 1) << 1) >>> 0;
  return hash;
}

// ---- dx_root / dx_node -------------------------------------------------------------------

/** An index node's entries: entry 0 has the implicit hash 0. */
export interface DxNode {
  count: number;
  limit: number;
  hash: Uint32Array;
  block: Uint32Array;
  checksumOk: boolean;
}

export interface DxRoot extends DxNode {
  hashVersion: number;
  indirectLevels: number;
}

const DX_TAIL_SIZE = 8;

/** Parse the count/limit header and entries at `co`. Returns a reason string when invalid. */
function parseEntries(buf: Uint8Array, co: number, expectLimit: number, csum: boolean, seed: number): DxNode | string {
  if (co + 8 > buf.length) return 'index entries are past the end of the block';
  const limit = u16(buf, co);
  const count = u16(buf, co + 2);
  if (limit !== expectLimit) return `index limit ${limit} should be ${expectLimit}`;
  if (count === 0 || count > limit) return `index count ${count} is invalid (limit ${limit})`;
  const hash = new Uint32Array(count);
  const block = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    hash[i] = i === 0 ? 0 : u32(buf, co + 8 * i);
    block[i] = u32(buf, co + 8 * i + 4) & 0x0fffffff;
    if (i > 1 && hash[i] < hash[i - 1]) return `index entry ${i} hash is out of order`;
  }
  let checksumOk = true;
  if (csum) {
    const t = co + limit * 8;
    if (t + DX_TAIL_SIZE <= buf.length) {
      let c = crc32cRaw(seed, buf, 0, co + count * 8);
      c = crc32cRaw(c, buf, t, t + 4);
      c = crc32cRaw(c, ZERO4);
      checksumOk = c === u32(buf, t + 4);
    } else checksumOk = false;
  }
  return { count, limit, hash, block, checksumOk };
}
const ZERO4 = new Uint8Array(4);

export function parseDxRoot(sb: Superblock, buf: Uint8Array, csum: boolean, seed: number): DxRoot | string {
  if (buf.length < 0x28) return 'root block is too small';
  const reservedZero = u32(buf, 0x18);
  let hashVersion = buf[0x1c];
  const infoLength = buf[0x1d];
  const indirectLevels = buf[0x1e];
  if (reservedZero !== 0) return 'dx_root reserved field is not zero';
  if (infoLength !== 8) return `dx_root info_length ${infoLength} should be 8`;
  const maxLevels = hasIncompat(sb, INCOMPAT_LARGEDIR) ? 3 : 2;
  if (indirectLevels >= maxLevels) return `dx_root indirect_levels ${indirectLevels} exceeds ${maxLevels - 1}`;
  if (hashVersion > DX_HASH_SIPHASH) return `unknown hash version ${hashVersion}`;
  if (hashVersion <= DX_HASH_TEA && sb.s_flags & FLAGS_UNSIGNED_HASH) hashVersion += 3;
  const co = 0x18 + infoLength;
  const limit = Math.floor((sb.blockSize - co - (csum ? DX_TAIL_SIZE : 0)) / 8);
  const e = parseEntries(buf, co, limit, csum, seed);
  if (typeof e === 'string') return e;
  return { ...e, hashVersion, indirectLevels };
}

export function parseDxNode(sb: Superblock, buf: Uint8Array, csum: boolean, seed: number): DxNode | string {
  const limit = Math.floor((sb.blockSize - 8 - (csum ? DX_TAIL_SIZE : 0)) / 8);
  return parseEntries(buf, 8, limit, csum, seed);
}

/** Last entry whose hash is <= h (entry 0 always qualifies). */
export function dxSearch(n: DxNode, h: number): number {
  let lo = 1;
  let hi = n.count - 1;
  let r = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (n.hash[mid] <= h) {
      r = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return r;
}

/**
 * Find the leaf blocks that may hold a name of hash `h` and search them (kernel: dx_probe,
 * then ext4_htree_next_block while the next leaf starts with the same hash, i.e. the hash
 * collides across leaves). `node(lblk)` reads an interior node, `leaf(lblk)` searches one
 * leaf block. Returns the inode, null when absent, or a string when the index is unusable
 * (the caller then falls back to a linear scan, as the kernel does on ERR_BAD_DX_DIR).
 */
export function dxLookup(
  root: DxRoot,
  h: number,
  nblocks: number,
  node: (lblk: number) => DxNode | string,
  leaf: (lblk: number) => number | null,
): number | null | string {
  const levels = root.indirectLevels + 1;
  const frames: { n: DxNode; at: number }[] = [];
  let n: DxNode = root;
  // Descend to the first candidate leaf.
  for (let level = 0; ; level++) {
    const at = dxSearch(n, h);
    frames.push({ n, at });
    const blk = n.block[at];
    if (blk >= nblocks) return `index entry points to block ${blk}, past the directory's ${nblocks} blocks`;
    if (level === levels - 1) break;
    const c = node(blk);
    if (typeof c === 'string') return c;
    n = c;
  }
  // Each step moves one frame forward, so this is bounded by the number of index entries.
  for (let steps = 0; steps <= nblocks; steps++) {
    const f = frames[frames.length - 1];
    const found = leaf(f.n.block[f.at]);
    if (found !== null) return found;
    // ext4_htree_next_block: the deepest frame that has a next entry.
    let d = frames.length - 1;
    while (d >= 0 && frames[d].at + 1 >= frames[d].n.count) d--;
    if (d < 0) return null;
    frames[d].at++;
    const bhash = frames[d].n.hash[frames[d].at];
    if (((bhash & ~1) >>> 0) !== h) return null;
    for (let k = d + 1; k < frames.length; k++) {
      const blk = frames[k - 1].n.block[frames[k - 1].at];
      if (blk >= nblocks) return `index entry points to block ${blk}, past the directory's ${nblocks} blocks`;
      const c = node(blk);
      if (typeof c === 'string') return c;
      frames[k] = { n: c, at: 0 };
    }
    const lb = frames[frames.length - 1].n.block[frames[frames.length - 1].at];
    if (lb >= nblocks) return `index entry points to block ${lb}, past the directory's ${nblocks} blocks`;
  }
  return null;
}

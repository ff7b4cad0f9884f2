// Checksums of btrfs metadata (btrfs docs, "On-disk Format" § Superblock csum_type, and
// "Checksumming"): the superblock and every tree block start with a 32-byte csum field that
// holds the checksum of the rest of the block. csum_type 0 crc32c (4 bytes, little-endian),
// 1 xxhash64 (8 bytes, little-endian, seed 0), 2 sha256, 3 blake2b-256 (32 bytes).

import { createHash } from 'node:crypto';
import { GuestkitError } from '../../errors.js';
import { crc32c } from '../../util/crc32c.js';

export const BTRFS_CSUM_SIZE = 32;
export const BTRFS_CSUM_TYPE_CRC32 = 0;
export const BTRFS_CSUM_TYPE_XXHASH = 1;
export const BTRFS_CSUM_TYPE_SHA256 = 2;
export const BTRFS_CSUM_TYPE_BLAKE2 = 3;

const NAMES = ['crc32c', 'xxhash64', 'sha256', 'blake2b'];

export function csumTypeName(t: number): string {
  return NAMES[t] ?? `unknown (${t})`;
}

/** Bytes of the checksum value for a csum_type. */
export function csumSize(t: number): number {
  switch (t) {
    case BTRFS_CSUM_TYPE_CRC32: return 4;
    case BTRFS_CSUM_TYPE_XXHASH: return 8;
    case BTRFS_CSUM_TYPE_SHA256: case BTRFS_CSUM_TYPE_BLAKE2: return 32;
    default: throw new GuestkitError('UNSUPPORTED', `btrfs checksum type ${t} is not known`);
  }
}

/** Whether this reader can compute checksums of type `t` (blake2b is not built in). */
export function canVerify(t: number): boolean {
  return t === BTRFS_CSUM_TYPE_CRC32 || t === BTRFS_CSUM_TYPE_XXHASH || t === BTRFS_CSUM_TYPE_SHA256;
}

/**
 * Whether the csum field at the start of `block` matches the checksum of block[32..]. Only
 * call for types canVerify() accepts.
 */
export function csumMatches(t: number, block: Uint8Array): boolean {
  const data = block.subarray(BTRFS_CSUM_SIZE);
  switch (t) {
    case BTRFS_CSUM_TYPE_CRC32: {
      const c = crc32c(data);
      return block[0] === (c & 0xff) && block[1] === ((c >>> 8) & 0xff) && block[2] === ((c >>> 16) & 0xff) && block[3] === c >>> 24;
    }
    case BTRFS_CSUM_TYPE_XXHASH: {
      let h = xxh64(data);
      for (let i = 0; i < 8; i++) {
        if (block[i] !== Number(h & 0xffn)) return false;
        h >>= 8n;
      }
      return true;
    }
    case BTRFS_CSUM_TYPE_SHA256: {
      const d = createHash('sha256').update(data).digest();
      for (let i = 0; i < 32; i++) if (block[i] !== d[i]) return false;
      return true;
    }
    default:
      throw new GuestkitError('UNSUPPORTED', `btrfs checksum type ${csumTypeName(t)} cannot be verified`);
  }
}

// ---- XXH64 (xxHash specification, "XXH64 algorithm description"), seed 0 ------------------

const M64 = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M64;
const round = (acc: bigint, lane: bigint) => (rotl((acc + lane * P2) & M64, 31n) * P1) & M64;
const merge = (acc: bigint, v: bigint) => (((acc ^ round(0n, v)) * P1) + P4) & M64;

export function xxh64(b: Uint8Array): bigint {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const len = b.length;
  let p = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (P1 + P2) & M64;
    let v2 = P2;
    let v3 = 0n;
    let v4 = (M64 + 1n - P1) & M64;
    for (; p + 32 <= len; p += 32) {
      v1 = round(v1, dv.getBigUint64(p, true));
      v2 = round(v2, dv.getBigUint64(p + 8, true));
      v3 = round(v3, dv.getBigUint64(p + 16, true));
      v4 = round(v4, dv.getBigUint64(p + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M64;
    h = merge(h, v1);
    h = merge(h, v2);
    h = merge(h, v3);
    h = merge(h, v4);
  } else {
    h = P5;
  }
  h = (h + BigInt(len)) & M64;
  for (; p + 8 <= len; p += 8) {
    h ^= round(0n, dv.getBigUint64(p, true));
    h = (rotl(h, 27n) * P1 + P4) & M64;
  }
  if (p + 4 <= len) {
    h ^= (BigInt(dv.getUint32(p, true)) * P1) & M64;
    h = (rotl(h, 23n) * P2 + P3) & M64;
    p += 4;
  }
  for (; p < len; p++) {
    h ^= (BigInt(b[p]) * P5) & M64;
    h = (rotl(h, 11n) * P1) & M64;
  }
  h ^= h >> 33n;
  h = (h * P2) & M64;
  h ^= h >> 29n;
  h = (h * P3) & M64;
  h ^= h >> 32n;
  return h;
}

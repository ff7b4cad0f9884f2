// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by ext4 metadata_csum,
// jbd2 checksum v2/v3, btrfs and XFS v5. Table-driven, slicing-by-8.
//
// `crc32cRaw` is the kernel's crc32c_le(seed, data, len): no pre- or post-inversion, so
// checksums that the kernel chains (ext4_chksum(sbi, seed, ...)) chain the same way here.
// `crc32c` is the standard CRC-32C of a buffer (init ~0, final ~), e.g. 0xE3069283 for
// "123456789". The loop (slicing-by-8, in WebAssembly for long runs) is crc-reflected.ts.

import { ReflectedCrc32 } from './crc-reflected.js';

const C = new ReflectedCrc32(0x82f63b78);
const T = C.T;

/** Kernel-style crc32c_le: continue `crc` over `data` with no inversions. */
export function crc32cRaw(crc: number, data: Uint8Array, start = 0, end = data.length): number {
  return C.raw(crc, data, start, end);
}

/** Continue over the 4 little-endian bytes of `v` (inode numbers, group numbers...). */
export function crc32cU32le(crc: number, v: number): number {
  let c = crc >>> 0;
  for (let k = 0; k < 4; k++) {
    c = T[(c ^ (v >>> (8 * k))) & 0xff] ^ (c >>> 8);
  }
  return c >>> 0;
}

/** Standard CRC-32C of `data`. */
export function crc32c(data: Uint8Array): number {
  return ~crc32cRaw(0xffffffff, data) >>> 0;
}

// XFS metadata checksums (libxfs/xfs_cksum.h): CRC-32C of the buffer with its own checksum
// field taken as zero, stored little-endian and inverted (xfs_start_cksum_safe / xfs_end_cksum).

import { crc32cRaw } from '../../util/crc32c.js';

const ZERO4 = new Uint8Array(4);

/** CRC a v5 structure would carry: `buf` whole, the 4 bytes at `crcOff` read as zeros. */
export function xfsCksum(buf: Uint8Array, crcOff: number): number {
  let c = crc32cRaw(0xffffffff, buf, 0, crcOff);
  c = crc32cRaw(c, ZERO4);
  c = crc32cRaw(c, buf, crcOff + 4, buf.length);
  return ~c >>> 0;
}

/** True when the little-endian CRC stored at `crcOff` matches the buffer. */
export function xfsVerifyCksum(buf: Uint8Array, crcOff: number): boolean {
  if (crcOff + 4 > buf.length) return false;
  const stored = (buf[crcOff] | (buf[crcOff + 1] << 8) | (buf[crcOff + 2] << 16) | (buf[crcOff + 3] << 24)) >>> 0;
  return stored === xfsCksum(buf, crcOff);
}

// Windows FILETIME (100 ns intervals since 1601-01-01 UTC), libfsntfs §6.2, converted to Unix
// seconds and nanoseconds exactly as ntfs-3g's ntfs2timespec does (truncating division;
// nanoseconds forced to 0 when negative, i.e. for dates before 1970).

import type { Timespec } from '../vfs.js';

/** 100 ns intervals between 1601-01-01 and 1970-01-01. */
export const NTFS_TIME_OFFSET = BigInt((369 * 365 + 89) * 24 * 3600) * 10_000_000n;

export function ntfsTimeToTimespec(t: bigint): Timespec {
  const u = t - NTFS_TIME_OFFSET;
  const sec = u / 10_000_000n; // BigInt division truncates toward zero, like C
  let nsec = (u - sec * 10_000_000n) * 100n;
  if (nsec < 0n || nsec > 999_999_999n) nsec = 0n;
  return { sec: Number(sec), nsec: Number(nsec) };
}

/** Seconds between 1601-01-01 and 1970-01-01. */
const NTFS_EPOCH_SECONDS = 11_644_473_600;
/** 2^32 = 429 × 10^7 + 4,967,296. */
const TWO32_Q = 429;
const TWO32_R = 4_967_296;

/**
 * The FILETIME at `off` of `b` (8 bytes, the caller checked the bounds) as ntfsTimeToTimespec
 * gives it, in plain numbers for the usual range (0 <= t < 2^62, every time up to the year
 * 16,000); other values go through the BigInt version.
 */
export function ntfsTimespecAt(b: Uint8Array, off: number): Timespec {
  const lo = (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
  const hi = (b[off + 4] | (b[off + 5] << 8) | (b[off + 6] << 16) | (b[off + 7] << 24)) >>> 0;
  if (hi >= 0x40000000) {
    return ntfsTimeToTimespec(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)));
  }
  // t = hi·2^32 + lo = (hi·429)·10^7 + (hi·4,967,296 + lo), the second term below 2^53.
  const rest = hi * TWO32_R + lo;
  const units = rest % 10_000_000;
  const sec = hi * TWO32_Q + (rest - units) / 10_000_000 - NTFS_EPOCH_SECONDS;
  // Before 1970 C's truncating division rounds the seconds up and the nanoseconds become 0.
  if (sec < 0) return { sec: units > 0 ? sec + 1 : sec, nsec: 0 };
  return { sec, nsec: units * 100 };
}

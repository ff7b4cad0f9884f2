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

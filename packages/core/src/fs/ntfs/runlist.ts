// Data runs (mapping pairs), libfsntfs §5.5.4 "Data runs": each run is a header byte whose
// low nibble is the size of the cluster count and high nibble the size of the signed cluster
// number delta; a delta size of 0 is a sparse run. The list ends with a 0 byte.

import { GuestkitError } from '../../errors.js';

export interface Run {
  vcn: number;
  /** First cluster, or -1 for a sparse run (reads as zeros). */
  lcn: number;
  length: number;
}

/**
 * Decode the runs of one attribute extent starting at `lowestVcn`. Every allocated run must
 * lie inside the volume (`clusterCount` clusters) and the runs must not go past `highestVcn`.
 */
export function decodeRunlist(mp: Uint8Array, lowestVcn: number, highestVcn: number, clusterCount: number, what: string): Run[] {
  const runs: Run[] = [];
  let i = 0;
  let vcn = lowestVcn;
  let lcn = 0;
  while (i < mp.length) {
    const h = mp[i];
    if (h === 0) return runs;
    const lenSize = h & 0x0f;
    const offSize = h >> 4;
    if (lenSize === 0 || lenSize > 8 || offSize > 8) {
      throw new GuestkitError('CORRUPT', `${what}: data run ${runs.length} has an invalid header byte 0x${h.toString(16)}`);
    }
    if (i + 1 + lenSize + offSize > mp.length) {
      throw new GuestkitError('CORRUPT', `${what}: data run ${runs.length} is past the end of the attribute`);
    }
    const length = readLe(mp, i + 1, lenSize, true);
    if (length <= 0n || length > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new GuestkitError('CORRUPT', `${what}: data run ${runs.length} has an invalid length ${length}`);
    }
    const len = Number(length);
    if (vcn + len - 1 > highestVcn) {
      throw new GuestkitError('CORRUPT', `${what}: data run ${runs.length} (VCN ${vcn}+${len}) goes past the last VCN ${highestVcn}`);
    }
    if (offSize === 0) {
      runs.push({ vcn, lcn: -1, length: len });
    } else {
      const delta = readLe(mp, i + 1 + lenSize, offSize, true);
      const next = BigInt(lcn) + delta;
      if (next < 0n || next + length > BigInt(clusterCount)) {
        throw new GuestkitError('CORRUPT', `${what}: data run ${runs.length} (clusters ${next}+${len}) points outside the volume (${clusterCount} clusters)`);
      }
      lcn = Number(next);
      runs.push({ vcn, lcn, length: len });
    }
    vcn += len;
    i += 1 + lenSize + offSize;
  }
  throw new GuestkitError('CORRUPT', `${what}: data runs have no terminator`);
}

/** Little-endian integer of `n` bytes; signed when `sign` (the top bit of the last byte). */
function readLe(b: Uint8Array, off: number, n: number, sign: boolean): bigint {
  let v = 0n;
  for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[off + k]);
  if (sign && b[off + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
  return v;
}

/** Index of the run holding `vcn` (binary search), or -1. */
export function findRun(runs: readonly Run[], vcn: number): number {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid];
    if (vcn < r.vcn) hi = mid - 1;
    else if (vcn >= r.vcn + r.length) lo = mid + 1;
    else return mid;
  }
  return -1;
}

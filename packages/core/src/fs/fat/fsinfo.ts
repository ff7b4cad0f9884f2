// FAT32 FSInfo sector (Microsoft FAT spec v1.03, section 5: FAT32 FSInfo Sector Structure).
// Its free count is only a hint: Linux ignores it unless mounted with "usefree", and so do we.

import type { BlockDevice } from '../../block/device.js';
import { readBytes } from '../../block/device.js';
import type { Bpb } from './bpb.js';

export const FSI_LEAD_SIG = 0x41615252;
export const FSI_STRUC_SIG = 0x61417272;
export const FSI_TRAIL_SIG = 0xaa550000;
/** FSI_Free_Count / FSI_Nxt_Free value meaning "unknown". */
export const FSI_UNKNOWN = 0xffffffff;

export interface FsInfo {
  /** FSI_Free_Count; undefined when unknown. */
  freeCount?: number;
  /** FSI_Nxt_Free; undefined when unknown. */
  nxtFree?: number;
}

/**
 * Read the FSInfo sector. Returns null, with a reason, when the volume has none or its
 * signatures are wrong (the kernel's "Invalid FSINFO signature" case): a bad FSInfo is not an
 * error, the free count is then recounted from the FAT.
 */
export function readFsInfo(dev: BlockDevice, bpb: Bpb): { info: FsInfo | null; problem?: string } {
  if (bpb.fatType !== 32 || bpb.fsInfo === 0 || bpb.fsInfo === 0xffff) return { info: null };
  if (bpb.fsInfo >= bpb.rsvdSecCnt) {
    return { info: null, problem: `BPB_FSInfo sector ${bpb.fsInfo} is outside the ${bpb.rsvdSecCnt} reserved sectors` };
  }
  const off = bpb.fsInfo * bpb.bytsPerSec;
  const b = readBytes(dev, off, 512, `FAT32 FSInfo sector ${bpb.fsInfo}`);
  const lead = b.u32le(0);
  const struc = b.u32le(484);
  const trail = b.u32le(508);
  if (lead !== FSI_LEAD_SIG || struc !== FSI_STRUC_SIG || trail !== FSI_TRAIL_SIG) {
    return {
      info: null,
      problem: `FSInfo sector ${bpb.fsInfo} has invalid signatures (0x${lead.toString(16)}, 0x${struc.toString(16)}, 0x${trail.toString(16)})`,
    };
  }
  const free = b.u32le(488);
  const next = b.u32le(492);
  return {
    info: {
      freeCount: free === FSI_UNKNOWN ? undefined : free,
      nxtFree: next === FSI_UNKNOWN ? undefined : next,
    },
  };
}

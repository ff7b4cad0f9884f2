// Content probe: what a device holds, by magic, as `blkid -p` would say. The probers run in
// libblkid's order (superblocks/superblocks.c idinfos[]: RAID/LVM/crypto containers first, then
// filesystems) and the first that recognises the device wins.

import type { BlockDevice } from '../block/device.js';
import { isGuestkitError } from '../errors.js';
import { ProbeContext } from './context.js';
import type { ProbeResult } from './types.js';
import { probeLvm2 } from './lvm2.js';
import { probeLuks } from './luks.js';
import { probeFat, isFatBootSector } from './fat.js';
import { probeSwap } from './swap.js';
import { probeXfs } from './xfs.js';
import { probeExt } from './ext.js';
import { probeIso9660 } from './iso9660.js';
import { probeNtfs, isNtfsBootSector } from './ntfs.js';
import { probeSquashfs } from './squashfs.js';
import { probeBtrfs } from './btrfs.js';
import { probeExfat, isExfatBootSector } from './exfat.js';

export type { ProbeResult, ProbeUsage } from './types.js';
export { ProbeContext } from './context.js';

type Prober = (ctx: ProbeContext) => ProbeResult | null;

const PROBERS: readonly Prober[] = [
  probeLvm2,
  probeLuks,
  probeFat,
  probeSwap,
  probeXfs,
  probeExt,
  probeIso9660,
  (ctx) => probeNtfs(ctx),
  probeSquashfs,
  probeBtrfs,
  probeExfat,
];

/**
 * What `dev` contains: type, UUID, label and version as `blkid -p -o export` reports them, or
 * null when nothing is recognised. Malformed superblocks count as "not this type"; a failing
 * read of the device itself is thrown.
 */
export function probe(dev: BlockDevice): ProbeResult | null {
  const ctx = new ProbeContext(dev);
  for (const p of PROBERS) {
    const r = attempt(ctx, p);
    if (r) return r;
  }
  return null;
}

function attempt(ctx: ProbeContext, p: Prober): ProbeResult | null {
  try {
    return p(ctx);
  } catch (e) {
    // A field past the end of its structure or an absurd value: not this format.
    if (ctx.deviceError === undefined && isGuestkitError(e) && (e.code === 'CORRUPT' || e.code === 'LIMIT')) return null;
    throw e;
  }
}

/**
 * True when the first sector is the boot sector of a filesystem that also carries 0x55AA
 * (FAT, NTFS, exFAT), which is therefore not an MBR (libblkid partitions/dos.c does the same).
 */
export function isFilesystemBootSector(dev: BlockDevice): boolean {
  const ctx = new ProbeContext(dev);
  return [isFatBootSector, isNtfsBootSector, isExfatBootSector].some((f) => attempt(ctx, (c) => (f(c) ? { type: '', usage: 'other' } : null)) !== null);
}

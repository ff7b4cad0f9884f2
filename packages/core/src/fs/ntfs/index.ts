// NTFS: a native read-only reader (see filesystem.ts for how it presents the volume).
// Structures follow libfsntfs's "New Technologies File System (NTFS)" document.

import type { BlockDevice } from '../../block/device.js';
import type { Filesystem } from '../vfs.js';
import { NtfsFilesystem, type NtfsOptions } from './filesystem.js';

export { NtfsFilesystem, STREAM_INO_BASE } from './filesystem.js';
export type { NtfsOptions } from './filesystem.js';
export { isNtfsBootSector, parseBootSector, formatSerial } from './boot-sector.js';
export { lznt1Decompress } from './lznt1.js';

/** Open the NTFS volume on `dev` (options: "show_sys_files" lists $MFT and friends). */
export function openNtfs(dev: BlockDevice, opts: NtfsOptions = {}): Filesystem & NtfsFilesystem {
  return new NtfsFilesystem(dev, opts);
}

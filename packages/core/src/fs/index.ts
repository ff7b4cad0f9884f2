// Opening a filesystem on a block device by type. Each reader lives in its own folder
// (fs/ext, fs/fat, ...) and is listed here.

import type { BlockDevice } from '../block/device.js';
import type { Filesystem } from './vfs.js';
import { GuestkitError } from '../errors.js';
import { openFat } from './fat/index.js';
import { openExt } from './ext/index.js';
import { openNtfs } from './ntfs/index.js';
import { openXfs } from './xfs/index.js';
import { openBtrfs } from './btrfs/index.js';

export interface FsOpenOptions {
  /** ext3/4: replay the journal into an in-memory overlay when recovery is needed (default true). */
  replayJournal?: boolean;
  /** Mount options as -m gives them (e.g. "subvol=root" for btrfs). */
  options?: string;
  /**
   * btrfs: the other devices that may belong to the filesystem (the reader keeps those whose
   * superblock has the same fsid, one per devid, as `btrfs device scan` does). Others ignore it.
   */
  devices?: readonly BlockDevice[];
}

/** Filesystem types guestkit can read. */
export const READABLE_FS_TYPES: readonly string[] = ['vfat', 'msdos', 'fat', 'ext2', 'ext3', 'ext4', 'ntfs', 'xfs', 'btrfs'];

export function openFilesystem(dev: BlockDevice, type: string, opts: FsOpenOptions = {}): Filesystem {
  switch (type) {
    case 'vfat': case 'msdos': case 'fat': return openFat(dev, opts);
    case 'ext2': case 'ext3': case 'ext4': return openExt(dev, opts);
    case 'ntfs': return openNtfs(dev, opts);
    case 'xfs': return openXfs(dev, opts);
    case 'btrfs': return openBtrfs(dev, opts);
    default:
      throw new GuestkitError('UNSUPPORTED', `${dev.description}: cannot read a ${type} filesystem (not supported yet)`);
  }
}

// Native read-only XFS (v4 and v5): openXfs() gives the Filesystem interface of fs/vfs.ts.
// One on-disk structure per module: superblock, agheader, dinode, bmbt, dir2-sf, dir2-data,
// dir2-block, dir2-leaf, dir2-node, attr-sf, attr-leaf, attr-remote, symlink, log; the
// readers that combine them: dir (five directory forms), attr (three attribute forms), statfs,
// log-recover (log replay into an in-memory overlay, read through replay-device) and fs (the
// filesystem).

import type { BlockDevice } from '../../block/device.js';
import type { Filesystem } from '../vfs.js';
import { XfsFilesystem, type XfsOpenOptions } from './fs.js';

export { XfsFilesystem, type XfsOpenOptions, type XfsInode } from './fs.js';
export { parseSuperblock, XFS_SB_MAGIC, type XfsSuperblock } from './superblock.js';
export { xlogState, type XlogState } from './log.js';
export { xfsDaHashname } from './dahash.js';

/** Open the XFS filesystem on `dev` (read-only). */
export function openXfs(dev: BlockDevice, opts: XfsOpenOptions = {}): Filesystem {
  return new XfsFilesystem(dev, opts);
}

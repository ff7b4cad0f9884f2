// Filesystem targets (ext, FAT, NTFS, XFS, btrfs): the input is a sparse disk image
// (lib/sparse-image.ts) holding one filesystem; open it, walk the tree, read every file,
// statfs, as `guestkit ls -lR` + `cat` + `df` do.

import { openFilesystem } from '@guestkit/core/fs/index';
import { decodeSparseImage } from '../lib/sparse-image.js';
import { guarded, walkFilesystem } from '../lib/walk.js';

export function fuzzFilesystem(type: string, data: Uint8Array): void {
  const dev = decodeSparseImage(data, `fuzz ${type} image`);
  const fs = guarded(() => openFilesystem(dev, type));
  if (fs) walkFilesystem(fs);
}

export const fuzzExt = (data: Uint8Array) => fuzzFilesystem('ext4', data);
export const fuzzFat = (data: Uint8Array) => fuzzFilesystem('vfat', data);
export const fuzzNtfs = (data: Uint8Array) => fuzzFilesystem('ntfs', data);
export const fuzzXfs = (data: Uint8Array) => fuzzFilesystem('xfs', data);
export const fuzzBtrfs = (data: Uint8Array) => fuzzFilesystem('btrfs', data);

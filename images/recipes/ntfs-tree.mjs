// NTFS, 4 KiB clusters (MFT records 1 KiB: the negative clusters-per-record encoding), made
// by mkntfs -T and filled through ntfs-3g from fixtures/ntfs-tree.mjs: a compressed folder,
// ADS, hard links, Interix and reparse-point symlinks, junctions, a 5,000-entry folder, a
// sparse file, a fragmented file with an $ATTRIBUTE_LIST, DOS names.

import { buildNtfsImage } from '../fixtures/ntfs-tree.mjs';

export default {
  name: 'ntfs-tree',
  inputs: ['fixtures/ntfs-tree.mjs'],
  tools: ['mkntfs', 'ntfs-3g', 'cp', 'setfattr', 'faketime'],
  async build({ out }) {
    await buildNtfsImage({ out, variant: 'full', clusterSize: 4096, sizeMiB: 128 });
  },
};

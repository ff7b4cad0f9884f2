// NTFS with 512-byte clusters: an MFT record spans two clusters (positive clusters-per-record),
// index blocks of 8 clusters, a fragmented file of many one-cluster... runs. Smaller tree.

import { buildNtfsImage } from '../fixtures/ntfs-tree.mjs';

export default {
  name: 'ntfs-c512',
  inputs: ['fixtures/ntfs-tree.mjs'],
  tools: ['mkntfs', 'ntfs-3g', 'cp', 'setfattr', 'faketime'],
  async build({ out }) {
    await buildNtfsImage({ out, variant: 'small', clusterSize: 512, sizeMiB: 48 });
  },
};

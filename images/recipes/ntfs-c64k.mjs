// NTFS with 64 KiB clusters and 4 KiB sectors: 4 KiB MFT records (fixups every 512 bytes),
// index blocks smaller than a cluster (index VCNs in 512-byte units). Smaller tree.

import { buildNtfsImage } from '../fixtures/ntfs-tree.mjs';

export default {
  name: 'ntfs-c64k',
  inputs: ['fixtures/ntfs-tree.mjs'],
  tools: ['mkntfs', 'ntfs-3g', 'cp', 'setfattr', 'faketime'],
  async build({ out }) {
    await buildNtfsImage({ out, variant: 'small', clusterSize: 65536, sectorSize: 4096, sizeMiB: 128 });
  },
};

// Partition tables (MBR with its EBR chain, GPT) and LVM (PV label, metadata area, VG
// metadata text, LV segments): the input is a sparse disk image.

import { parseConfig, readPartitionTable, scanLvm, probe } from '@guestkit/core';
import { interpretVg } from '@guestkit/core/volume/lvm/vg-metadata';
import { decodeSparseImage } from '../lib/sparse-image.js';
import { guarded, probeSlices } from '../lib/walk.js';

/** readPartitionTable (MBR/GPT), then blkid-style probing of each partition. */
export function fuzzPartitions(data: Uint8Array): void {
  const dev = decodeSparseImage(data, 'fuzz disk');
  const table = guarded(() => readPartitionTable(dev));
  if (table) probeSlices(dev, table.partitions);
  else guarded(() => probe(dev));
}

/** scanLvm over one PV, then read the start of every LV and probe it. */
export function fuzzLvm(data: Uint8Array): void {
  const dev = decodeSparseImage(data, 'fuzz PV');
  const scan = guarded(() => scanLvm([{ name: '/dev/sda', dev }]));
  if (!scan) return;
  const buf = new Uint8Array(8192);
  for (const lv of scan.lvs.slice(0, 16)) {
    guarded(() => lv.dev.pread(buf, 0));
    guarded(() => lv.dev.pread(buf, Math.max(0, lv.dev.size - buf.length)));
    guarded(() => probe(lv.dev));
  }
}

/** The LVM2 metadata text (config syntax) and its interpretation as a VG. */
export function fuzzLvmText(data: Uint8Array): void {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  const root = guarded(() => parseConfig(text, 'fuzz metadata'));
  if (!root) return;
  guarded(() => interpretVg(root, 'fuzz metadata'));
}

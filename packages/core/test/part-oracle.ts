// Oracles shared by the partition-table tests: the table as util-linux reads it (sfdisk --json,
// or fdisk -b 4096's dump for 4 KiB-sector disks; see images/recipes/part-tables.mjs) and a
// comparison of guestkit's table with it.

import { expect } from 'vitest';
import type { PartitionTable } from '@guestkit/core';
// The recipe module is plain JavaScript.
import * as recipe from '../../../images/recipes/part-tables.mjs';

export interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
  type: string;
  uuid?: string;
  name?: string;
  bootable?: boolean;
  attrs?: string;
}

export interface SfdiskTable {
  label: string;
  id: string;
  sectorsize?: number;
  partitions: SfdiskPartition[];
}

export const readTable = (recipe as unknown as { readTable(path: string, sectorSize?: number): SfdiskTable }).readTable;

/** Every partition agrees with sfdisk: number, start, size, type, name, UUID, boot flag. */
export function expectSameAsSfdisk(t: PartitionTable, sf: SfdiskTable): void {
  const ss = sf.sectorsize ?? 512;
  expect(t.scheme).toBe(sf.label === 'dos' ? 'mbr' : 'gpt');
  expect(t.sectorSize).toBe(ss);
  expect(t.diskId?.toLowerCase()).toBe(sf.id.replace(/^0x/, '').toLowerCase());
  const want = sf.partitions.map((p) => {
    const w: Record<string, unknown> = {
      index: Number(/(\d+)$/.exec(p.node)![1]),
      start: p.start * ss,
      size: p.size * ss,
      type: sf.label === 'dos' ? parseInt(p.type, 16).toString(16).padStart(2, '0') : p.type.toUpperCase(),
      bootable: sf.label === 'dos' ? !!p.bootable : /LegacyBIOSBootable/.test(p.attrs ?? ''),
    };
    if (sf.label === 'gpt') {
      w.uuid = p.uuid;
      w.name = p.name ?? '';
    }
    return w;
  });
  const got = t.partitions.map((p) => {
    const g: Record<string, unknown> = { index: p.index, start: p.start, size: p.size, type: p.type, bootable: !!p.bootable };
    if (t.scheme === 'gpt') {
      g.uuid = p.uuid;
      g.name = p.name ?? '';
    }
    return g;
  });
  expect(got).toEqual(want);
}


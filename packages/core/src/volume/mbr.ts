// Master Boot Record and the Extended Boot Record chain (UEFI 2.10 §5.2.1 "Legacy Master Boot
// Record"; the EBR chain as Linux block/partitions/msdos.c walks it): primaries numbered 1-4 by
// their slot, logical partitions 5, 6... in chain order, as Linux and so libguestfs number them.

import type { BlockDevice } from '../block/device.js';
import { readExact } from '../block/device.js';
import { Bytes } from '../bytes.js';
import { GuestkitError, corrupt } from '../errors.js';
import { LIMITS } from '../limits.js';
import { warn } from '../warn.js';
import type { Partition, PartitionTable } from './types.js';
import { MBR_EXTENDED_TYPES, mbrTypeName } from './part-types.js';

export const MBR_SIGNATURE_OFFSET = 0x1fe;
const PARTITION_TABLE_OFFSET = 0x1be;
const DISK_SIGNATURE_OFFSET = 0x1b8;
const ENTRY_SIZE = 16;

/** One 16-byte partition record (UEFI table 5-2). */
export interface MbrPartitionRecord {
  /** 1-4 in the MBR or EBR. */
  slot: number;
  BootIndicator: number;
  OSType: number;
  StartingLBA: number;
  SizeInLBA: number;
}

export function hasMbrSignature(sector: Uint8Array): boolean {
  return sector.length >= 512 && sector[MBR_SIGNATURE_OFFSET] === 0x55 && sector[MBR_SIGNATURE_OFFSET + 1] === 0xaa;
}

export function parseMbrRecords(b: Bytes): MbrPartitionRecord[] {
  const out: MbrPartitionRecord[] = [];
  for (let i = 0; i < 4; i++) {
    const o = PARTITION_TABLE_OFFSET + i * ENTRY_SIZE;
    out.push({
      slot: i + 1,
      BootIndicator: b.u8(o),
      OSType: b.u8(o + 4),
      StartingLBA: b.u32le(o + 8),
      SizeInLBA: b.u32le(o + 12),
    });
  }
  return out;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/**
 * The MBR partition table in `sector0` (already known to carry 0x55AA and no protective 0xEE
 * record). Throws CORRUPT for a partition past the end of the disk, LOOP for an EBR chain that
 * comes back on itself, LIMIT past LIMITS.maxLogicalPartitions.
 */
export function readMbr(dev: BlockDevice, sector0: Uint8Array, sectorSize = dev.sectorSize): PartitionTable {
  const b = new Bytes(sector0, 'MBR');
  const diskId = b.u32le(DISK_SIGNATURE_OFFSET).toString(16).padStart(8, '0');
  const totalSectors = Math.floor(dev.size / sectorSize);
  const partitions: Partition[] = [];
  let nextLogical = 5;

  const add = (index: number, start: number, size: number, type: number, kind: Partition['kind'], bootable: boolean) => {
    const p: Partition = {
      index,
      start: start * sectorSize,
      size: size * sectorSize,
      type: hex2(type),
      uuid: `${diskId}-${hex2(index)}`,
      kind,
    };
    const name = mbrTypeName(type);
    if (name) p.typeName = name;
    if (bootable) p.bootable = true;
    partitions.push(p);
  };

  for (const r of parseMbrRecords(b)) {
    if (r.SizeInLBA === 0) continue;
    const what = `MBR partition ${r.slot}`;
    checkInside(what, r.StartingLBA, r.SizeInLBA, totalSectors);
    const extended = MBR_EXTENDED_TYPES.has(r.OSType);
    add(r.slot, r.StartingLBA, r.SizeInLBA, r.OSType, extended ? 'extended' : 'primary', r.BootIndicator === 0x80);
    if (extended) {
      nextLogical = readLogicals(dev, sectorSize, totalSectors, r.StartingLBA, r.SizeInLBA, nextLogical, add);
    }
  }
  partitions.sort((x, y) => x.index - y.index);
  return { scheme: 'mbr', sectorSize, diskId, partitions };
}

function checkInside(what: string, start: number, size: number, totalSectors: number): void {
  if (start + size > totalSectors) {
    throw corrupt(
      what,
      `sectors ${start}-${start + size - 1} end past the end of the disk (${totalSectors} sectors)`,
    );
  }
}

/**
 * Walk the EBR chain of the extended partition at [extStart, extStart+extSize) (sectors).
 * Each EBR holds the logical partition (relative to the EBR) and a link to the next EBR
 * (relative to the extended partition), as Linux parse_extended() reads them. Returns the next
 * free partition number.
 */
function readLogicals(
  dev: BlockDevice,
  ss: number,
  totalSectors: number,
  extStart: number,
  extSize: number,
  next: number,
  add: (index: number, start: number, size: number, type: number, kind: Partition['kind'], bootable: boolean) => void,
): number {
  const visited = new Set<number>();
  let thisSector = extStart;
  let thisSize = extSize;
  for (let ebrs = 0; ; ebrs++) {
    if (ebrs >= LIMITS.maxLogicalPartitions) {
      throw new GuestkitError(
        'LIMIT',
        `MBR extended partition at sector ${extStart}: more than ${LIMITS.maxLogicalPartitions} EBRs in its chain`,
      );
    }
    if (visited.has(thisSector)) {
      throw new GuestkitError(
        'LOOP',
        `MBR extended partition at sector ${extStart}: the EBR chain loops (EBR at sector ${thisSector} is linked twice)`,
      );
    }
    visited.add(thisSector);
    if (thisSector >= totalSectors) {
      throw corrupt(`EBR at sector ${thisSector}`, `past the end of the disk (${totalSectors} sectors)`);
    }
    const sector = readExact(dev, thisSector * ss, Math.min(ss, 512), `EBR at sector ${thisSector}`);
    if (!hasMbrSignature(sector)) {
      if (ebrs > 0) warn(`${dev.description}: EBR at sector ${thisSector} has no 0x55AA signature; logical partitions after it are ignored`);
      return next;
    }
    const records = parseMbrRecords(new Bytes(sector, `EBR at sector ${thisSector}`));
    // The logical partition(s): Linux takes every non-empty, non-extended record, and checks
    // the 3rd and 4th (often garbage) against the extended partition.
    for (const r of records) {
      if (r.SizeInLBA === 0 || MBR_EXTENDED_TYPES.has(r.OSType)) continue;
      const start = thisSector + r.StartingLBA;
      if (r.slot >= 3) {
        if (r.StartingLBA + r.SizeInLBA > thisSize) continue;
        if (start < extStart) continue;
        if (start + r.SizeInLBA > extStart + extSize) continue;
      }
      if (next - 4 > LIMITS.maxLogicalPartitions) {
        throw new GuestkitError('LIMIT', `MBR extended partition at sector ${extStart}: more than ${LIMITS.maxLogicalPartitions} logical partitions`);
      }
      checkInside(`MBR logical partition ${next}`, start, r.SizeInLBA, totalSectors);
      add(next, start, r.SizeInLBA, r.OSType, 'logical', r.BootIndicator === 0x80);
      next++;
    }
    const link = records.find((r) => r.SizeInLBA !== 0 && MBR_EXTENDED_TYPES.has(r.OSType));
    if (!link) return next;
    thisSector = extStart + link.StartingLBA;
    thisSize = link.SizeInLBA;
  }
}

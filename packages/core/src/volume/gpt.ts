// GUID Partition Table (UEFI 2.10 §5.3.2 "GPT Header", §5.3.3 "GPT Partition Entry Array"):
// header and entry-array CRC32s checked, the backup header (at the last LBA) used when the
// primary is bad, 512- and 4096-byte logical sectors. Partitions are numbered by their entry
// slot + 1, as Linux (block/partitions/efi.c) and so libguestfs number them.

import type { BlockDevice } from '../block/device.js';
import { readExact } from '../block/device.js';
import { Bytes, allocFromDisk, formatGuid } from '../bytes.js';
import { GuestkitError, corrupt } from '../errors.js';
import { LIMITS } from '../limits.js';
import { warn } from '../warn.js';
import type { Partition, PartitionTable } from './types.js';
import { crc32 } from './crc32.js';
import { gptTypeName } from './part-types.js';

const SIGNATURE = 'EFI PART';
const MIN_HEADER_SIZE = 92;
const MIN_ENTRY_SIZE = 128;
/** Logical sector sizes at which a GPT header is looked for at LBA 1. */
export const GPT_SECTOR_SIZES = [512, 4096] as const;

/** The GPT header fields (UEFI table 5-5). */
export interface GptHeader {
  Revision: number;
  HeaderSize: number;
  HeaderCRC32: number;
  MyLBA: number;
  AlternateLBA: number;
  FirstUsableLBA: number;
  LastUsableLBA: number;
  DiskGUID: string;
  PartitionEntryLBA: number;
  NumberOfPartitionEntries: number;
  SizeOfPartitionEntry: number;
  PartitionEntryArrayCRC32: number;
}

/** Why a header cannot be used, for messages. */
class Unusable extends Error {}

/** True when `dev` has the GPT signature at LBA 1 for sector size `ss`. */
export function hasGptSignatureAt(dev: BlockDevice, lba: number, ss: number): boolean {
  const pos = lba * ss;
  if (pos < 0 || pos + ss > dev.size) return false;
  const b = readExact(dev, pos, 8, 'GPT header');
  return Buffer.from(b).toString('latin1') === SIGNATURE;
}

/**
 * The sector size this disk's GPT uses: the one at which LBA 1 (or else the last LBA) holds a
 * GPT signature, the device's own sector size tried first. Null when no size fits.
 */
export function gptSectorSize(dev: BlockDevice): number | null {
  const sizes = [dev.sectorSize, ...GPT_SECTOR_SIZES.filter((s) => s !== dev.sectorSize)];
  for (const ss of sizes) if (hasGptSignatureAt(dev, 1, ss)) return ss;
  for (const ss of sizes) if (hasGptSignatureAt(dev, Math.floor(dev.size / ss) - 1, ss)) return ss;
  return null;
}

function parseHeader(sector: Uint8Array, lba: number, totalSectors: number, ss: number): GptHeader {
  const b = new Bytes(sector, `GPT header at LBA ${lba}`);
  if (b.cstring(0, 8, 'latin1') !== SIGNATURE) throw new Unusable('no "EFI PART" signature');
  const HeaderSize = b.u32le(12);
  if (HeaderSize < MIN_HEADER_SIZE || HeaderSize > ss) throw new Unusable(`HeaderSize ${HeaderSize} is invalid`);
  const HeaderCRC32 = b.u32le(16);
  const copy = Uint8Array.from(sector.subarray(0, HeaderSize));
  copy.fill(0, 16, 20);
  const computed = crc32(copy);
  if (computed !== HeaderCRC32) {
    throw new Unusable(`header CRC32 mismatch (stored 0x${hex8(HeaderCRC32)}, computed 0x${hex8(computed)})`);
  }
  const h: GptHeader = {
    Revision: b.u32le(8),
    HeaderSize,
    HeaderCRC32,
    MyLBA: b.u64le(24),
    AlternateLBA: b.u64le(32),
    FirstUsableLBA: b.u64le(40),
    LastUsableLBA: b.u64le(48),
    DiskGUID: formatGuid(b.raw(56, 16)),
    PartitionEntryLBA: b.u64le(72),
    NumberOfPartitionEntries: b.u32le(80),
    SizeOfPartitionEntry: b.u32le(84),
    PartitionEntryArrayCRC32: b.u32le(88),
  };
  if (h.MyLBA !== lba) throw new Unusable(`MyLBA is ${h.MyLBA}, expected ${lba}`);
  if (h.FirstUsableLBA > h.LastUsableLBA || h.LastUsableLBA >= totalSectors) {
    throw new Unusable(`usable LBAs ${h.FirstUsableLBA}-${h.LastUsableLBA} do not fit the disk (${totalSectors} sectors)`);
  }
  const es = h.SizeOfPartitionEntry;
  if (es < MIN_ENTRY_SIZE || es % MIN_ENTRY_SIZE !== 0 || (es & (es - 1)) !== 0) {
    throw new Unusable(`SizeOfPartitionEntry ${es} is invalid`);
  }
  if (h.NumberOfPartitionEntries > LIMITS.maxGptEntries) {
    // The header's CRC is good, so this is what the table really says.
    throw new GuestkitError(
      'LIMIT',
      `GPT header at LBA ${lba}: ${h.NumberOfPartitionEntries} partition entries exceed the limit of ${LIMITS.maxGptEntries}`,
    );
  }
  return h;
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

interface GptRead {
  header: GptHeader;
  entries: Uint8Array;
}

/** Header at `lba` and its entry array, both CRC-checked; throws Unusable naming what is wrong. */
function readAt(dev: BlockDevice, ss: number, lba: number, totalSectors: number): GptRead {
  if (lba < 1 || lba >= totalSectors) throw new Unusable(`LBA ${lba} is outside the disk`);
  const sector = readExact(dev, lba * ss, ss, `GPT header at LBA ${lba}`);
  const header = parseHeader(sector, lba, totalSectors, ss);
  const len = header.NumberOfPartitionEntries * header.SizeOfPartitionEntry;
  const pos = header.PartitionEntryLBA * ss;
  if (header.PartitionEntryLBA < 1 || pos + len > totalSectors * ss) {
    throw new Unusable(`partition entry array at LBA ${header.PartitionEntryLBA} (${len} bytes) is outside the disk`);
  }
  const entries = allocFromDisk(len, `GPT partition entry array at LBA ${header.PartitionEntryLBA}`, LIMITS.maxMetadata);
  if (len > 0 && dev.pread(entries, pos) !== len) throw new Unusable('short read of the partition entry array');
  const computed = crc32(entries);
  if (computed !== header.PartitionEntryArrayCRC32) {
    throw new Unusable(
      `partition entry array CRC32 mismatch (stored 0x${hex8(header.PartitionEntryArrayCRC32)}, computed 0x${hex8(computed)})`,
    );
  }
  return { header, entries };
}

function attempt(dev: BlockDevice, ss: number, lba: number, total: number): GptRead | string {
  try {
    return readAt(dev, ss, lba, total);
  } catch (e) {
    if (e instanceof Unusable) return e.message;
    if (e instanceof GuestkitError && e.code === 'CORRUPT') return e.message;
    throw e;
  }
}

/**
 * Read the GPT of a disk whose MBR is protective (or hybrid). Throws CORRUPT when neither the
 * primary nor the backup header is usable, or when a partition ends past the disk.
 */
export function readGpt(dev: BlockDevice): PartitionTable {
  const ss = gptSectorSize(dev);
  if (ss === null) {
    throw corrupt('GPT', `${dev.description} has a protective MBR but no GPT header at LBA 1 or at its last LBA`);
  }
  const total = Math.floor(dev.size / ss);
  const lastLba = total - 1;
  let got = attempt(dev, ss, 1, total);
  if (typeof got === 'string') {
    const primaryProblem = got;
    got = attempt(dev, ss, lastLba, total);
    if (typeof got === 'string') {
      throw corrupt('GPT', `both headers are unusable: primary at LBA 1: ${primaryProblem}; backup at LBA ${lastLba}: ${got}`);
    }
    warn(`${dev.description}: the primary GPT at LBA 1 is unusable: ${primaryProblem}; using the backup GPT header at LBA ${lastLba}`);
  }
  const { header, entries } = got;
  const partitions: Partition[] = [];
  const es = header.SizeOfPartitionEntry;
  for (let i = 0; i < header.NumberOfPartitionEntries; i++) {
    const e = new Bytes(entries.subarray(i * es, (i + 1) * es), `GPT partition ${i + 1}`);
    const typeRaw = e.raw(0, 16);
    if (typeRaw.every((x) => x === 0)) continue; // unused entry
    const first = e.u64le(32);
    const last = e.u64le(40);
    if (last < first) throw corrupt(`GPT partition ${i + 1}`, `ending LBA ${last} is before its starting LBA ${first}`);
    if (last >= total) {
      throw corrupt(`GPT partition ${i + 1}`, `LBAs ${first}-${last} end past the end of the disk (${total} sectors)`);
    }
    const type = formatGuid(typeRaw);
    const p: Partition = {
      index: i + 1,
      start: first * ss,
      size: (last - first + 1) * ss,
      type,
      uuid: formatGuid(e.raw(16, 16)),
    };
    const typeName = gptTypeName(type);
    if (typeName) p.typeName = typeName;
    const name = e.utf16le(56, 72);
    const nul = name.indexOf('\0');
    const n = nul < 0 ? name : name.slice(0, nul);
    if (n) p.name = n;
    // Attribute bit 2: legacy BIOS bootable.
    if (e.u8(48) & 0x04) p.bootable = true;
    partitions.push(p);
  }
  return { scheme: 'gpt', sectorSize: ss, diskId: header.DiskGUID, partitions };
}

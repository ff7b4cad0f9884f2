// Partition tables: which one a disk has (protective MBR → GPT, else MBR) and its partitions.

import type { BlockDevice } from '../block/device.js';
import { readExact } from '../block/device.js';
import { Bytes } from '../bytes.js';
import type { PartitionTable } from './types.js';
import { hasMbrSignature, parseMbrRecords, readMbr } from './mbr.js';
import { readGpt } from './gpt.js';
import { MBR_TYPE_GPT_PROTECTIVE } from './part-types.js';
import { isFilesystemBootSector } from '../probe/index.js';

export { readMbr } from './mbr.js';
export { readGpt, gptSectorSize } from './gpt.js';
export * from './part-types.js';

/**
 * The partition table of `dev`, or null when it has none (no 0x55AA signature, or the first
 * sector is a FAT/NTFS/exFAT boot sector, or boot indicators other than 0x00/0x80 — the checks
 * libblkid and Linux make). An MBR with a 0xEE record means GPT.
 *
 * Throws GuestkitError: CORRUPT (unusable GPT, partition past the end of the disk), LOOP (EBR
 * chain loop), LIMIT (too many logical partitions or GPT entries).
 */
export function readPartitionTable(dev: BlockDevice): PartitionTable | null {
  if (dev.size < 512) return null;
  const sector0 = readExact(dev, 0, 512, 'MBR');
  if (!hasMbrSignature(sector0)) return null;
  const records = parseMbrRecords(new Bytes(sector0, 'MBR'));
  if (records.some((r) => r.OSType === MBR_TYPE_GPT_PROTECTIVE)) return readGpt(dev);
  if (records.some((r) => r.BootIndicator !== 0 && r.BootIndicator !== 0x80)) return null;
  if (isFilesystemBootSector(dev)) return null;
  return readMbr(dev, sector0);
}

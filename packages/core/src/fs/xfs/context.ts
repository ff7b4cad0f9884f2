// What the XFS structure parsers need from the mounted filesystem: the superblock, bounded and
// cached block reads, address conversions that refuse blocks outside the filesystem, and the
// v5 self-describing header checks (CRC, block number, owner, UUID) shared by every block type
// (XFS Algorithms & Data Structures, "Metadata Integrity").

import type { Bytes } from '../../bytes.js';
import type { XfsSuperblock } from './superblock.js';

export interface XfsContext {
  readonly sb: XfsSuperblock;
  /** Description of the device, for messages. */
  readonly where: string;
  /**
   * Read `count` filesystem blocks starting at fsblock `fsb` (metadata: cached). Throws CORRUPT
   * naming `what` when the range is outside the filesystem.
   */
  readFsBlocks(fsb: number, count: number, what: string): Bytes;
  /** Check that [fsb, fsb+count) lies inside one allocation group of the filesystem. */
  checkFsbRange(fsb: number, count: number, what: string): void;
  /** Byte offset on the device of fsblock `fsb` (checked). */
  fsbToByte(fsb: number, what: string): number;
  /** 512-byte disk address of fsblock `fsb`, as v5 headers record it (XFS_FSB_TO_DADDR). */
  fsbToDaddr(fsb: number): number;
  /**
   * Verify a v5 header: CRC over `buf` (mismatch → warning), and when given, the recorded
   * block number (daddr), owner inode and UUID (mismatch → CORRUPT naming `what`).
   */
  checkV5(what: string, buf: Bytes, crcOff: number, hdr?: { blknoOff?: number; daddr?: number; ownerOff?: number; owner?: number; uuidOff?: number }): void;
}

/** NULLFSBLOCK / NULLFILEOFF: all ones in a 64-bit field. */
export const NULL64 = 0xffffffffffffffffn;
/** NULLAGBLOCK / NULLDABLK in 32-bit fields. */
export const NULL32 = 0xffffffff;

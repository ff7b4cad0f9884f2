// Named limits for the registry reader and writer. Every size, count or depth taken from a
// hive that decides an allocation, a loop or a recursion is checked against one of these
// (or against core's LIMITS) first.

import { LIMITS } from '@guestkit/core';

export const REGISTRY_LIMITS = {
  /** Largest hive (or transaction log) file read into memory. Windows caps hives at 2 GiB; real
   *  SOFTWARE/SYSTEM hives are tens to a few hundred MiB. */
  maxHiveBytes: 1024 * 1024 * 1024,
  /** Largest value data assembled (inline, one cell, or a big-data chain). */
  maxValueBytes: LIMITS.maxAlloc,
  /** Key nesting depth. MSDN: "a registry tree can be 512 levels deep". */
  maxKeyDepth: 512,
  /** ri -> leaf nesting. The spec allows exactly one level (an index root cannot point to an
   *  index root); hivex tolerates up to 32. */
  maxIndexDepth: 32,
  /** Subkeys gathered for one key (hivex: 70,000; a u32 count on disk). */
  maxSubkeys: 1_000_000,
  /** Values listed for one key (hivex: 110,000). */
  maxValues: 1_000_000,
  /** Data segment size of a big-data (db) record, regf 1.4 and later. */
  bigDataSegment: 16344,
  /** Key name length in characters (MSDN). */
  maxKeyNameChars: 255,
  /** Value name length in characters (MSDN). */
  maxValueNameChars: 16383,
  /** Entries of a fast/hash leaf the writer puts in one cell before splitting under an index
   *  root (Windows' CmpMaxFastIndexPerHblock: one 4 KiB hbin's worth). */
  maxLeafEntries: 506,
  /** Size of a dirty page in an old-format (DIRT) transaction log. */
  logSectorSize: 512,
} as const;

// What the per-structure modules (extent tree, block map, htree, xattr) need from the
// open filesystem: the superblock, cached metadata-block reads (through the journal
// overlay) and a place to report checksum mismatches. Implemented by ExtFs in index.ts.

import type { Superblock } from './superblock.js';

export interface ExtContext {
  readonly sb: Superblock;
  /** Name used in messages ("ext4 on /dev/sda1"). */
  readonly where: string;
  /** Whether metadata_csum checksums are verified. */
  readonly csum: boolean;
  /**
   * One filesystem block of metadata, through the journal overlay and the block cache. The
   * returned buffer is shared: callers must not modify it. Throws CORRUPT naming `what`
   * when the block is past the end of the filesystem.
   */
  metaBlock(pblk: number, what: string): Uint8Array;
  /** A metadata checksum did not match: record a warning, go on. */
  checksumMismatch(what: string): void;
}

/**
 * A run of logical blocks of a file mapped the same way: `pblk` is the physical block of
 * `lblk` (the following ones are contiguous), or -1 for a hole. Unwritten (uninitialized)
 * extents read as zeros like holes but are allocated.
 */
export interface Run {
  lblk: number;
  len: number;
  pblk: number;
  unwritten: boolean;
}

/** Logical block numbers are 32-bit in both extent trees and block maps. */
export const MAX_LBLK = 2 ** 32;

// Hive bins: the 32-byte "hbin" header that starts every bin (a multiple of 4096 bytes) of the
// hive bins data. Spec: msuhanov "Hive bin"; libregf section 3 "Hive bin".

import { Bytes } from '@guestkit/core';
import { BASE_BLOCK_SIZE } from './base-block.js';

export const HBIN_HEADER_SIZE = 32;
export const HBIN_ALIGN = 4096;

export interface HiveBin {
  /** File offset of the bin. */
  fileOffset: number;
  /** Offset as stored: relative to the start of the hive bins data. */
  offset: number;
  size: number;
}

/**
 * Read the bin header at `fileOffset`, or explain why there is none: the signature is missing,
 * the stored offset disagrees with the position, or the size is not a positive multiple of 4096
 * that fits in `limit` (the end of the hive bins data, as a file offset).
 */
export function readHiveBin(buf: Uint8Array, fileOffset: number, limit: number): HiveBin | string {
  if (fileOffset + HBIN_HEADER_SIZE > buf.length) return 'the file ends inside its header';
  const b = new Bytes(buf.subarray(fileOffset, fileOffset + HBIN_HEADER_SIZE), `hbin at 0x${fileOffset.toString(16)}`);
  if (b.u32be(0) !== 0x6862696e) return 'no "hbin" signature';
  const offset = b.u32le(4);
  const size = b.u32le(8);
  if (offset !== fileOffset - BASE_BLOCK_SIZE) {
    return `stored offset 0x${offset.toString(16)} does not match its position 0x${(fileOffset - BASE_BLOCK_SIZE).toString(16)}`;
  }
  if (size < HBIN_ALIGN || size % HBIN_ALIGN !== 0) return `size ${size} is not a positive multiple of 4096`;
  if (fileOffset + size > limit) return `size ${size} runs past the end of the hive bins data`;
  return { fileOffset, offset, size };
}

/** Write a fresh bin header (writer). */
export function writeHiveBinHeader(buf: Uint8Array, fileOffset: number, size: number): void {
  const dv = new DataView(buf.buffer, buf.byteOffset + fileOffset, HBIN_HEADER_SIZE);
  buf.set([0x68, 0x62, 0x69, 0x6e], fileOffset);
  dv.setUint32(4, fileOffset - BASE_BLOCK_SIZE, true);
  dv.setUint32(8, size, true);
  for (let i = 12; i < HBIN_HEADER_SIZE; i += 4) dv.setUint32(i, 0, true);
}

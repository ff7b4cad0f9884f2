// Key value ("vk", CM_KEY_VALUE), regf 1.2 and later. Spec: msuhanov "Key value"; libregf
// section 4.4.2 "Value key - version 1.2 and later".

import { Bytes, GuestkitError } from '@guestkit/core';
import { decodeName } from './names.js';

export const VK_HEADER_SIZE = 20;
/** Data size MSB: the data (4 bytes or less) sits in the data offset field itself. */
export const VK_DATA_INLINE = 0x80000000;
export const VALUE_COMP_NAME = 0x0001;
export const VALUE_TOMBSTONE = 0x0002;

export interface KeyValue {
  nameLength: number;
  /** Data size without the inline flag. */
  dataSize: number;
  inline: boolean;
  /** Offset of the data cell, or the data itself when `inline`. */
  dataOffset: number;
  dataType: number;
  flags: number;
  /** "" is the default value (shown as @ in .reg files). */
  name: string;
}

export function parseKeyValue(b: Bytes): KeyValue {
  if (b.length < VK_HEADER_SIZE || b.u8(0) !== 0x76 || b.u8(1) !== 0x6b) {
    throw new GuestkitError('CORRUPT', `${b.what}: not a key value (no "vk" signature)`);
  }
  const nameLength = b.u16le(2);
  if (VK_HEADER_SIZE + nameLength > b.length) {
    throw new GuestkitError('CORRUPT', `${b.what}: value name length ${nameLength} runs past the end of the cell (${b.length} bytes)`);
  }
  const rawSize = b.u32le(4);
  const flags = b.u16le(16);
  return {
    nameLength,
    dataSize: rawSize & 0x7fffffff,
    inline: (rawSize & VK_DATA_INLINE) !== 0,
    dataOffset: b.u32le(8),
    dataType: b.u32le(12),
    flags,
    name: decodeName(b.raw(VK_HEADER_SIZE, nameLength), (flags & VALUE_COMP_NAME) !== 0, b.what),
  };
}

/** Field offsets, for the writer. */
export const VK = { nameLength: 2, dataSize: 4, dataOffset: 8, dataType: 12, flags: 16, spare: 18, name: 20 } as const;

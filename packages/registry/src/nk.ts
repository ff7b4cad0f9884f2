// Key node ("nk", CM_KEY_NODE), regf 1.2 and later. Spec: msuhanov "Key node"; libregf
// section 4.1.2 "Named key - version 1.2 and later".

import { Bytes, GuestkitError } from '@guestkit/core';
import { decodeName } from './names.js';

export const NK_HEADER_SIZE = 76;

export const KEY_VOLATILE = 0x0001;
export const KEY_HIVE_EXIT = 0x0002;
export const KEY_HIVE_ENTRY = 0x0004;
export const KEY_NO_DELETE = 0x0008;
export const KEY_SYM_LINK = 0x0010;
export const KEY_COMP_NAME = 0x0020;

export interface KeyNode {
  flags: number;
  /** Last written timestamp, FILETIME. */
  lastWritten: bigint;
  accessBits: number;
  parent: number;
  subkeyCount: number;
  volatileSubkeyCount: number;
  subkeysListOffset: number;
  volatileSubkeysListOffset: number;
  valueCount: number;
  valuesListOffset: number;
  securityOffset: number;
  classNameOffset: number;
  /** Low 16 bits of the "largest subkey name length" field (the rest holds flags since Vista). */
  largestSubkeyNameLength: number;
  virtualizationControlFlags: number;
  userFlags: number;
  debug: number;
  largestSubkeyClassNameLength: number;
  largestValueNameLength: number;
  largestValueDataSize: number;
  workVar: number;
  nameLength: number;
  classNameLength: number;
  name: string;
}

/** Parse a key node from its cell data. */
export function parseKeyNode(b: Bytes): KeyNode {
  if (b.length < NK_HEADER_SIZE || b.u8(0) !== 0x6e || b.u8(1) !== 0x6b) {
    throw new GuestkitError('CORRUPT', `${b.what}: not a key node (no "nk" signature)`);
  }
  const flags = b.u16le(2);
  const nameLength = b.u16le(72);
  if (NK_HEADER_SIZE + nameLength > b.length) {
    throw new GuestkitError('CORRUPT', `${b.what}: key name length ${nameLength} runs past the end of the cell (${b.length} bytes)`);
  }
  const lsn = b.u32le(52);
  return {
    flags,
    lastWritten: b.u64leBig(4),
    accessBits: b.u32le(12),
    parent: b.u32le(16),
    subkeyCount: b.u32le(20),
    volatileSubkeyCount: b.u32le(24),
    subkeysListOffset: b.u32le(28),
    volatileSubkeysListOffset: b.u32le(32),
    valueCount: b.u32le(36),
    valuesListOffset: b.u32le(40),
    securityOffset: b.u32le(44),
    classNameOffset: b.u32le(48),
    largestSubkeyNameLength: lsn & 0xffff,
    virtualizationControlFlags: (lsn >>> 16) & 0xf,
    userFlags: (lsn >>> 20) & 0xf,
    debug: lsn >>> 24,
    largestSubkeyClassNameLength: b.u32le(56),
    largestValueNameLength: b.u32le(60),
    largestValueDataSize: b.u32le(64),
    workVar: b.u32le(68),
    nameLength,
    classNameLength: b.u16le(74),
    name: decodeName(b.raw(NK_HEADER_SIZE, nameLength), (flags & KEY_COMP_NAME) !== 0, b.what),
  };
}

/** Only the name (the hot path of a lookup). */
export function keyNodeName(b: Bytes): string {
  if (b.length < NK_HEADER_SIZE || b.u8(0) !== 0x6e || b.u8(1) !== 0x6b) {
    throw new GuestkitError('CORRUPT', `${b.what}: not a key node (no "nk" signature)`);
  }
  const nameLength = b.u16le(72);
  if (NK_HEADER_SIZE + nameLength > b.length) {
    throw new GuestkitError('CORRUPT', `${b.what}: key name length ${nameLength} runs past the end of the cell (${b.length} bytes)`);
  }
  return decodeName(b.raw(NK_HEADER_SIZE, nameLength), (b.u16le(2) & KEY_COMP_NAME) !== 0, b.what);
}

/** Field offsets, for the writer. */
export const NK = {
  flags: 2,
  lastWritten: 4,
  accessBits: 12,
  parent: 16,
  subkeyCount: 20,
  volatileSubkeyCount: 24,
  subkeysListOffset: 28,
  volatileSubkeysListOffset: 32,
  valueCount: 36,
  valuesListOffset: 40,
  securityOffset: 44,
  classNameOffset: 48,
  largestSubkeyNameLength: 52,
  largestSubkeyClassNameLength: 56,
  largestValueNameLength: 60,
  largestValueDataSize: 64,
  workVar: 68,
  nameLength: 72,
  classNameLength: 74,
  name: 76,
} as const;

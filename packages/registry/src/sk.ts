// Key security ("sk"): a security descriptor shared by key nodes, kept in a doubly linked list
// with a reference count. Spec: msuhanov "Key security"; libregf section 4.2.2.

import { Bytes, GuestkitError } from '@guestkit/core';

export const SK_HEADER_SIZE = 20;

export interface KeySecurity {
  /** Next entry of the list (or the list header), relative offset. */
  flink: number;
  /** Previous entry, relative offset. */
  blink: number;
  referenceCount: number;
  descriptorSize: number;
  /** The self-relative NT security descriptor. */
  descriptor: Uint8Array;
}

export function parseKeySecurity(b: Bytes): KeySecurity {
  if (b.length < SK_HEADER_SIZE || b.u8(0) !== 0x73 || b.u8(1) !== 0x6b) {
    throw new GuestkitError('CORRUPT', `${b.what}: not a key security record (no "sk" signature)`);
  }
  const descriptorSize = b.u32le(16);
  if (SK_HEADER_SIZE + descriptorSize > b.length) {
    throw new GuestkitError('CORRUPT', `${b.what}: security descriptor size ${descriptorSize} runs past the end of the cell (${b.length} bytes)`);
  }
  return {
    flink: b.u32le(4),
    blink: b.u32le(8),
    referenceCount: b.u32le(12),
    descriptorSize,
    descriptor: b.raw(SK_HEADER_SIZE, descriptorSize),
  };
}

/** Field offsets, for the writer. */
export const SK = { flink: 4, blink: 8, referenceCount: 12, descriptorSize: 16 } as const;

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) as UEFI uses it for the GPT header and
// partition entry array (UEFI 2.10 §5.3.2, "HeaderCRC32" / "PartitionEntryArrayCRC32").

import { ReflectedCrc32 } from '../util/crc-reflected.js';

const C = new ReflectedCrc32(0xedb88320);

/** CRC-32 of `buf`, as an unsigned 32-bit number (crc-reflected.ts: slicing-by-8, WebAssembly). */
export function crc32(buf: Uint8Array): number {
  return (C.raw(0xffffffff, buf) ^ 0xffffffff) >>> 0;
}

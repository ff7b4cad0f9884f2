// volume/crc32.ts, the CRC-32 (IEEE 802.3) of GPT headers and entry arrays, on the same
// slicing-by-8 loop as CRC-32C (util/crc-reflected.ts), one WebAssembly instance per polynomial.
import { describe, it, expect } from 'vitest';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32 } from '../src/volume/crc32.js';
import { crc32c } from '../src/util/crc32c.js';

/** The definition, one bit at a time (reflected 0xEDB88320, inverted in and out). */
function slow(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32 (IEEE)', () => {
  it('matches the check value and the bitwise definition across the WebAssembly boundaries', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const data = new Uint8Array(2 * 57344 + 40);
    for (let i = 0; i < data.length; i++) data[i] = (i * 197 + (i >>> 7) + 3) & 0xff;
    for (const len of [1, 7, 92, 255, 256, 257, 16384, 57344, 57345, 2 * 57344 + 33]) {
      for (const start of [0, 3]) {
        const part = data.subarray(start, start + len);
        expect(crc32(part)).toBe(slow(part));
        if (typeof zlibCrc32 === 'function') expect(crc32(part)).toBe(zlibCrc32(part));
      }
    }
  });

  it('and CRC-32C in the same process each keep their own tables', () => {
    const data = new Uint8Array(4096).fill(0x5a);
    const a = crc32(data);
    const b = crc32c(data);
    expect(crc32(data)).toBe(a);
    expect(crc32c(data)).toBe(b);
    expect(a).toBe(slow(data));
    expect(a).not.toBe(b);
  });
});

// util/crc32c.ts, the checksum of ext4 metadata_csum and jbd2 v2/v3 (and later btrfs/XFS).
import { describe, it, expect } from 'vitest';
import { crc32c, crc32cRaw, crc32cU32le } from '../src/util/crc32c.js';

/** The definition, one bit at a time (reflected 0x82F63B78), kernel style (no inversions). */
function slow(crc: number, data: Uint8Array): number {
  let c = crc >>> 0;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return c >>> 0;
}

describe('crc32c', () => {
  it('matches the CRC-32C check values', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43); // RFC 3720 B.4: 32 bytes of ones
  });

  it('equals the bitwise definition for every length and offset (slicing-by-8 tails)', () => {
    const data = new Uint8Array(300);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= data.length; end += 7) {
        expect(crc32cRaw(0x12345678, data, start, end)).toBe(slow(0x12345678, data.subarray(start, end)));
      }
    }
  });

  it('equals the definition across the WebAssembly path\'s boundaries (256 bytes, 56 KiB pieces) and at unaligned offsets', () => {
    const data = new Uint8Array(3 * 57344 + 40);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >>> 9) + 7) & 0xff;
    for (const len of [255, 256, 257, 263, 4084, 4096, 57343, 57344, 57345, 57344 * 2 + 5, 3 * 57344 + 33]) {
      for (const start of [0, 1, 3, 7]) {
        expect(crc32cRaw(0xdeadbeef, data, start, start + len)).toBe(slow(0xdeadbeef, data.subarray(start, start + len)));
      }
    }
    // Negative intermediate values from the 32-bit wasm function come back unsigned.
    expect(crc32cRaw(0xffffffff, data, 0, 4096)).toBeGreaterThanOrEqual(0);
  });

  it('chains like the kernel: crc(a + b) = crc(crc(a), b); u32 helper = its 4 LE bytes', () => {
    const a = new TextEncoder().encode('ext4 metadata');
    const b = new TextEncoder().encode(' checksum');
    const ab = new Uint8Array([...a, ...b]);
    expect(crc32cRaw(crc32cRaw(~0, a), b)).toBe(crc32cRaw(~0, ab));
    expect(crc32cU32le(~0, 0x11223344)).toBe(crc32cRaw(~0, new Uint8Array([0x44, 0x33, 0x22, 0x11])));
  });

  it('is fast: 16 MiB in well under a second', () => {
    const big = new Uint8Array(16 << 20).fill(0x5a);
    const t0 = performance.now();
    crc32cRaw(~0, big);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

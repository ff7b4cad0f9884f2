import { describe, it, expect } from 'vitest';
import { Bytes, allocFromDisk, formatGuid, GuestkitError } from '@guestkit/core';

describe('Bytes: bounds-checked field reads', () => {
  const b = new Bytes(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 'test structure');

  it('reads little- and big-endian fields', () => {
    expect(b.u16le(0)).toBe(0x0201);
    expect(b.u32be(0)).toBe(0x01020304);
    expect(new Bytes(Uint8Array.from([2, 3, 4, 5, 6, 7, 0, 0]), "x").u64le(0)).toBe(0x070605040302);
    expect(b.u64leBig(1)).toBe(0x0908070605040302n);
  });

  it('a field past the end throws CORRUPT naming the structure', () => {
    try {
      b.u32le(6);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(GuestkitError);
      expect((e as GuestkitError).code).toBe('CORRUPT');
      expect((e as GuestkitError).message).toMatch(/^test structure: field at offset 6/);
    }
  });

  it('a 64-bit field above 2^53 throws instead of losing precision', () => {
    const big = new Bytes(new Uint8Array(8).fill(0xff), 'big');
    expect(() => big.u64le(0)).toThrow(/too large/);
    expect(big.u64leBig(0)).toBe(0xffffffffffffffffn);
  });

  it('allocations from on-disk sizes are limited', () => {
    expect(() => allocFromDisk(2 ** 40, 'L1 table', 1 << 20)).toThrow(GuestkitError);
    expect(() => allocFromDisk(-1, 'L1 table', 1 << 20)).toThrow(/invalid size/);
    expect(allocFromDisk(16, 'x', 1 << 20).length).toBe(16);
  });

  it('formats mixed-endian GUIDs as UEFI does', () => {
    // EFI System Partition type GUID as stored on disk
    const raw = Buffer.from('28732ac11ff8d211ba4b00a0c93ec93b', 'hex');
    expect(formatGuid(raw)).toBe('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  });
});

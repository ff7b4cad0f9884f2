// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by ext4 metadata_csum,
// jbd2 checksum v2/v3, btrfs and XFS v5. Table-driven, slicing-by-8.
//
// `crc32cRaw` is the kernel's crc32c_le(seed, data, len): no pre- or post-inversion, so
// checksums that the kernel chains (ext4_chksum(sbi, seed, ...)) chain the same way here.
// `crc32c` is the standard CRC-32C of a buffer (init ~0, final ~), e.g. 0xE3069283 for
// "123456789".

import { CRC32C_WASM_BASE64 } from './crc32c-wasm.js';

const POLY = 0x82f63b78;

/** 8 tables of 256 entries: T[k][b] is the CRC of byte b followed by k zero bytes. */
const T = (() => {
  const t = new Uint32Array(8 * 256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[b] = c >>> 0;
  }
  for (let b = 0; b < 256; b++) {
    let c = t[b];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + b] = c >>> 0;
    }
  }
  return t;
})();

/** Kernel-style crc32c_le: continue `crc` over `data` with no inversions. */
export function crc32cRaw(crc: number, data: Uint8Array, start = 0, end = data.length): number {
  if (end - start >= WASM_MIN) {
    const w = crcWasm();
    if (w) {
      let c = crc | 0;
      for (let i = start; i < end; i += WASM_CHUNK) {
        const n = Math.min(WASM_CHUNK, end - i);
        w.mem.set(data.subarray(i, i + n), WASM_DATA);
        c = w.crc(c, WASM_DATA, n);
      }
      return c >>> 0;
    }
  }
  let c = crc >>> 0;
  let i = start;
  // Byte-wise until the remainder is a multiple of 8.
  while (i < end && (end - i) & 7) c = T[(c ^ data[i++]) & 0xff] ^ (c >>> 8);
  while (i < end) {
    const lo = (c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
    c =
      T[7 * 256 + (lo & 0xff)] ^
      T[6 * 256 + ((lo >>> 8) & 0xff)] ^
      T[5 * 256 + ((lo >>> 16) & 0xff)] ^
      T[4 * 256 + (lo >>> 24)] ^
      T[3 * 256 + data[i + 4]] ^
      T[2 * 256 + data[i + 5]] ^
      T[1 * 256 + data[i + 6]] ^
      T[data[i + 7]];
    i += 8;
  }
  return c >>> 0;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The same loop in WebAssembly (crc32c.wat): V8 compiles it to machine code when the module is
 * made, where the JavaScript loop starts in the interpreter and is optimized only after many
 * blocks (a recursive listing checks a directory block and an inode per directory). Data is
 * copied into the module's memory in pieces; below WASM_MIN bytes the copy is not worth it.
 * Without WebAssembly, or on a big-endian host (the tables are written in host order and wasm
 * memory is little-endian), the JavaScript loop does it all.
 */
const WASM_DATA = 8192; // after the 8 x 256 u32 tables
const WASM_CHUNK = 65536 - WASM_DATA; // one 64 KiB page; a multiple of 8
const WASM_MIN = 256;
let wasm: { crc: (crc: number, p: number, n: number) => number; mem: Uint8Array } | null | undefined;

/** The part of the WebAssembly global used here (this package's TypeScript libs do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

function crcWasm(): typeof wasm {
  if (wasm !== undefined) return wasm;
  wasm = null;
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!LITTLE_ENDIAN || !api) return wasm;
  try {
    const inst = new api.Instance(new api.Module(Buffer.from(CRC32C_WASM_BASE64, 'base64')));
    const memory = inst.exports.memory as { buffer: ArrayBuffer };
    new Uint32Array(memory.buffer, 0, T.length).set(T);
    wasm = { crc: inst.exports.crc as (crc: number, p: number, n: number) => number, mem: new Uint8Array(memory.buffer) };
  } catch {
    wasm = null; // e.g. node --jitless: the JavaScript loop
  }
  return wasm;
}

/** Continue over the 4 little-endian bytes of `v` (inode numbers, group numbers...). */
export function crc32cU32le(crc: number, v: number): number {
  let c = crc >>> 0;
  for (let k = 0; k < 4; k++) {
    c = T[(c ^ (v >>> (8 * k))) & 0xff] ^ (c >>> 8);
  }
  return c >>> 0;
}

/** Standard CRC-32C of `data`. */
export function crc32c(data: Uint8Array): number {
  return ~crc32cRaw(0xffffffff, data) >>> 0;
}

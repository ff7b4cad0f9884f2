// A reflected CRC-32 of any polynomial, table-driven, slicing-by-8: CRC-32C (Castagnoli,
// crc32c.ts: ext4, jbd2, btrfs, XFS) and CRC-32 (IEEE 802.3, volume/crc32.ts: GPT) are the
// same loop over different tables. `raw` continues a CRC with no pre- or post-inversion (the
// kernel's crc32c_le(seed, data, len)); callers add the inversions their format wants.

import { CRC32C_WASM_BASE64 } from './crc32c-wasm.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The loop in WebAssembly (crc32c.wat, which reads its tables from its memory, so one module
 * serves every polynomial): V8 compiles it to machine code when the module is made, where the
 * JavaScript loop starts in the interpreter and is optimized only after many blocks (a
 * recursive listing checks a directory block and an inode per directory). Data is copied into
 * the module's memory in pieces; below WASM_MIN bytes the copy is not worth it. Without
 * WebAssembly, or on a big-endian host (the tables are written in host order and wasm memory
 * is little-endian), the JavaScript loop does it all.
 */
const WASM_DATA = 8192; // after the 8 x 256 u32 tables
const WASM_CHUNK = 65536 - WASM_DATA; // one 64 KiB page; a multiple of 8
const WASM_MIN = 256;

/** The part of the WebAssembly global used here (this package's TypeScript libs do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

let wasmModule: object | null | undefined;

export class ReflectedCrc32 {
  /** 8 tables of 256 entries: T[k][b] is the CRC of byte b followed by k zero bytes. */
  readonly T: Uint32Array;
  private wasm: { crc: (crc: number, p: number, n: number) => number; mem: Uint8Array } | null | undefined;

  /** `poly`: the reflected polynomial (0x82F63B78 for CRC-32C, 0xEDB88320 for CRC-32). */
  constructor(poly: number) {
    const t = new Uint32Array(8 * 256);
    for (let b = 0; b < 256; b++) {
      let c = b;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
      t[b] = c >>> 0;
    }
    for (let b = 0; b < 256; b++) {
      let c = t[b];
      for (let k = 1; k < 8; k++) {
        c = t[c & 0xff] ^ (c >>> 8);
        t[k * 256 + b] = c >>> 0;
      }
    }
    this.T = t;
  }

  /** Continue `crc` over data[start, end) with no inversions. */
  raw(crc: number, data: Uint8Array, start = 0, end = data.length): number {
    if (end - start >= WASM_MIN) {
      const w = this.wasm === undefined ? this.loadWasm() : this.wasm;
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
    const T = this.T;
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

  /** One instance of the module per polynomial (its memory holds the tables). */
  private loadWasm(): { crc: (crc: number, p: number, n: number) => number; mem: Uint8Array } | null {
    this.wasm = null;
    const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (!LITTLE_ENDIAN || !api || wasmModule === null) return null;
    try {
      wasmModule ??= new api.Module(Buffer.from(CRC32C_WASM_BASE64, 'base64'));
      const inst = new api.Instance(wasmModule);
      const memory = inst.exports.memory as { buffer: ArrayBuffer };
      new Uint32Array(memory.buffer, 0, this.T.length).set(this.T);
      this.wasm = { crc: inst.exports.crc as (crc: number, p: number, n: number) => number, mem: new Uint8Array(memory.buffer) };
    } catch {
      wasmModule = null; // e.g. node --jitless: the JavaScript loop
    }
    return this.wasm;
  }
}

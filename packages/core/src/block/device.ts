// The block-device interface every layer above reads through. Reads are synchronous,
// pread-style calls (as in ext4-view-rs and The Sleuth Kit): parsers stay simple and a
// one-shot CLI pays no per-read promise cost. Long-running servers (guestkit mount) keep
// their event loop free by serving from worker threads that each open the image.

import { GuestkitError } from '../errors.js';
import { Bytes } from '../bytes.js';

/** One range of `map()`, shaped like an entry of `qemu-img map --output=json`. */
export interface MapEntry {
  start: number;
  length: number;
  /** Layer of the backing chain that provides the data (0 = this image). */
  depth: number;
  /** Allocated in some layer (false: reads as zeros because nobody has it). */
  present: boolean;
  /** Reads as zeros. */
  zero: boolean;
  /** Has data bytes stored (as opposed to a zero flag or nothing). */
  data: boolean;
  compressed?: boolean;
  /** Host offset in the layer's file, where there is one (raw data). */
  offset?: number;
}

export interface BlockDevice {
  /** Size in bytes. */
  readonly size: number;
  /** Logical sector size, 512 unless the image says otherwise. */
  readonly sectorSize: number;
  /** What this is, for messages: "qcow2 image disk.qcow2", "/dev/sda2". */
  readonly description: string;
  /**
   * Read `buf.length` bytes at `pos`. Returns the number of bytes read, which is less than
   * buf.length only at the end of the device. Throws GuestkitError on corrupt data.
   */
  pread(buf: Uint8Array, pos: number): number;
  /**
   * Optional bulk read: the same bytes as pread, but work that can run off the main thread
   * (inflating compressed qcow2 clusters on libuv's thread pool) does, in parallel. For
   * streaming whole devices (dump, copies); parsers use pread. Call it through readAsync().
   */
  preadAsync?(buf: Uint8Array, pos: number): Promise<number>;
  /** Allocation map over the whole device, ranges sorted and contiguous. */
  map(): MapEntry[];
  /** Releases host file descriptors. Idempotent. */
  close(): void;
}

/** Read exactly `len` bytes at `pos` or throw CORRUPT naming `what`. */
export function readExact(dev: BlockDevice, pos: number, len: number, what: string): Uint8Array {
  if (!Number.isSafeInteger(pos) || pos < 0 || pos + len > dev.size) {
    throw new GuestkitError(
      'CORRUPT',
      `${what}: range ${pos}+${len} is outside ${dev.description} (${dev.size} bytes)`,
    );
  }
  const buf = new Uint8Array(len);
  const n = dev.pread(buf, pos);
  if (n !== len) throw new GuestkitError('CORRUPT', `${what}: short read at ${pos} of ${dev.description}`);
  return buf;
}

/** Bulk read through the device's preadAsync when it has one, else its pread. */
export function readAsync(dev: BlockDevice, buf: Uint8Array, pos: number): Promise<number> {
  if (dev.preadAsync) return dev.preadAsync(buf, pos);
  try {
    return Promise.resolve(dev.pread(buf, pos));
  } catch (e) {
    return Promise.reject(e);
  }
}

export function readBytes(dev: BlockDevice, pos: number, len: number, what: string): Bytes {
  return new Bytes(readExact(dev, pos, len, what), what);
}

/** Merge adjacent map entries that say the same thing. */
export function coalesceMap(entries: MapEntry[]): MapEntry[] {
  const out: MapEntry[] = [];
  for (const e of entries) {
    if (e.length <= 0) continue;
    const p = out[out.length - 1];
    if (
      p &&
      p.start + p.length === e.start &&
      p.depth === e.depth &&
      p.present === e.present &&
      p.zero === e.zero &&
      p.data === e.data &&
      !!p.compressed === !!e.compressed &&
      (p.offset === undefined) === (e.offset === undefined) &&
      (p.offset === undefined || p.offset + p.length === e.offset)
    ) {
      p.length += e.length;
    } else {
      out.push({ ...e });
    }
  }
  return out;
}

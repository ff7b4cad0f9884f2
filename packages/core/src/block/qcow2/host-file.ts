// The qcow2 container file on the host: opened read-only, read with pread, every read
// bounded by the file's size so that a structure past the end names itself instead of
// reading zeros.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { GuestkitError, fromSystemError } from '../../errors.js';

export class HostFile {
  readonly path: string;
  readonly size: number;
  /** Identity of the file (st_dev:st_ino), to detect a backing chain that loops. */
  readonly identity: string;
  /** pread calls made so far (tests check that contiguous clusters coalesce into one). */
  reads = 0;
  private fd: number;

  /** Opens `file`; messages name it `path` (the name it was given by, when that differs). */
  constructor(file: string, path = file) {
    this.path = path;
    try {
      this.fd = openSync(file, 'r');
    } catch (e) {
      throw fromSystemError(e, path);
    }
    try {
      const st = fstatSync(this.fd);
      if (!st.isFile()) {
        throw new GuestkitError('REFUSED', `${path}: not a regular file; a qcow2 image must be one`);
      }
      this.size = st.size;
      this.identity = `${st.dev}:${st.ino}`;
    } catch (e) {
      closeSync(this.fd);
      throw fromSystemError(e, path);
    }
  }

  /**
   * Fill buf[at, at+len) from host offset `pos`. The whole range must lie inside the file;
   * otherwise CORRUPT naming `what` (a truncated image).
   */
  readInto(buf: Uint8Array, at: number, len: number, pos: number, what: string): void {
    if (this.fd < 0) throw new GuestkitError('IO', `${this.path}: read after close`);
    if (!Number.isSafeInteger(pos) || pos < 0 || pos + len > this.size) {
      throw new GuestkitError(
        'CORRUPT',
        `${this.path}: ${what} at 0x${pos.toString(16)} (+${len}) is past the end of the file (${this.size} bytes)`,
      );
    }
    let done = 0;
    while (done < len) {
      let n: number;
      this.reads++;
      try {
        n = readSync(this.fd, buf, at + done, len - done, pos + done);
      } catch (e) {
        throw fromSystemError(e, this.path);
      }
      if (n === 0) {
        throw new GuestkitError(
          'CORRUPT',
          `${this.path}: ${what} at 0x${pos.toString(16)}: file ended after ${done} of ${len} bytes`,
        );
      }
      done += n;
    }
  }

  /** Read `len` bytes at `pos` into a new buffer (len already checked against a limit). */
  read(pos: number, len: number, what: string): Uint8Array {
    const b = new Uint8Array(len);
    this.readInto(b, 0, len, pos, what);
    return b;
  }

  /** Read up to `len` bytes at `pos`, stopping at the end of the file. */
  readUpTo(pos: number, len: number, what: string): Uint8Array {
    const n = Math.max(0, Math.min(len, this.size - pos));
    return this.read(pos, n, what);
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** The part of the WebAssembly API used here (lib "dom" is not in this project's lib). */
declare const WebAssembly: { Memory: new (d: { initial: number; maximum?: number }) => { buffer: ArrayBuffer } };

/**
 * A zeroed buffer whose first byte is page-aligned, for large sequential preads. Node's
 * Uint8Array storage starts 16 bytes past a page boundary, and the kernel copies from the page
 * cache into such a buffer several times slower than into an aligned one (3-5x on the
 * benchmark machine); WebAssembly memory is page-aligned. Allocate once and reuse: each one
 * reserves address space.
 */
export function allocIoBuffer(size: number): Uint8Array {
  const pages = Math.max(1, Math.ceil(size / 65536));
  const mem = new WebAssembly.Memory({ initial: pages, maximum: pages });
  return new Uint8Array(mem.buffer, 0, size);
}

// Raw image: the file is the disk. Opened read-only; never written.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { BlockDevice, MapEntry } from './device.js';
import { fromSystemError } from '../errors.js';
import { GuestkitError } from '../errors.js';

export class RawFile implements BlockDevice {
  readonly size: number;
  readonly sectorSize = 512;
  readonly description: string;
  readonly path: string;
  private fd: number;

  constructor(path: string) {
    this.path = path;
    this.description = `raw image ${path}`;
    try {
      this.fd = openSync(path, 'r');
      const st = fstatSync(this.fd);
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      this.size = st.isBlockDevice() ? blockDeviceSize(this.fd) : st.size;
    } catch (e) {
      throw fromSystemError(e, path);
    }
  }

  pread(buf: Uint8Array, pos: number): number {
    if (this.fd < 0) throw new GuestkitError('IO', `${this.path}: read after close`);
    if (pos >= this.size) return 0;
    const want = Math.min(buf.length, this.size - pos);
    let done = 0;
    while (done < want) {
      let n: number;
      try {
        n = readSync(this.fd, buf, done, want - done, pos + done);
      } catch (e) {
        throw fromSystemError(e, this.path);
      }
      if (n === 0) {
        // File shrank under us: the rest reads as zeros, like a hole.
        buf.fill(0, done, want);
        return want;
      }
      done += n;
    }
    return want;
  }

  /** Raw files: one data range (holes are not reported; qemu-img reports them via SEEK_DATA). */
  map(): MapEntry[] {
    if (this.size === 0) return [];
    return [{ start: 0, length: this.size, depth: 0, present: true, zero: false, data: true, offset: 0 }];
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}

function blockDeviceSize(fd: number): number {
  // Find the end of a block device by seeking with reads (no ioctl in Node).
  let lo = 0;
  let hi = 1;
  const b = new Uint8Array(1);
  while (readSync(fd, b, 0, 1, hi - 1) === 1) {
    lo = hi;
    hi *= 2;
    if (hi > 2 ** 52) break;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (readSync(fd, b, 0, 1, mid - 1) === 1) lo = mid;
    else hi = mid;
  }
  return lo;
}

// Read access to one guest tree (a filesystem mounted alone at "/", or the guest mounted as its
// fstab says), with libguestfs's inspection helpers: Is.is_file ~followsymlinks,
// read_small_file (bounded, split in lines), first line. Errors from the guest's data are
// answers ("not there"), never exceptions: a hostile guest cannot stop inspection.

import { GuestView, GuestkitError } from '@guestkit/core';

/** libguestfs's read_small_file refuses files over this size (daemon/utils.ml). */
export const MAX_SMALL_FILE = 10 * 1000 * 1000;

export class TreeAccess {
  constructor(readonly view: GuestView) {}

  private safe<T>(f: () => T, dflt: T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof GuestkitError) return dflt;
      throw e;
    }
  }

  isFile(path: string, follow = true): boolean {
    return this.safe(() => this.view.typeOf(path, follow) === 'file', false);
  }

  isDir(path: string, follow = true): boolean {
    return this.safe(() => this.view.typeOf(path, follow) === 'dir', false);
  }

  isSymlink(path: string): boolean {
    return this.safe(() => this.view.typeOf(path, false) === 'symlink', false);
  }

  size(path: string): number | null {
    return this.safe(() => this.view.stat(path).size, null);
  }

  /** The whole file when it is a regular file of at most `max` bytes, else null. */
  readFile(path: string, max = MAX_SMALL_FILE): Uint8Array | null {
    return this.safe(() => {
      if (this.view.typeOf(path, true) !== 'file') return null;
      if (this.view.stat(path).size > max) return null;
      return this.view.readFile(path);
    }, null);
  }

  /** The first `n` bytes of a regular file (or fewer), or null. */
  readHead(path: string, n: number): Uint8Array | null {
    return this.safe(() => {
      if (this.view.typeOf(path, true) !== 'file') return null;
      const size = this.view.stat(path).size;
      return this.view.readFile(path, 0, Math.min(size, n));
    }, null);
  }

  readText(path: string, max = MAX_SMALL_FILE): string | null {
    const b = this.readFile(path, max);
    return b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  }

  /** read_small_file: lines without their newline (a final newline adds no empty line), or null. */
  readLines(path: string): string[] | null {
    const t = this.readText(path);
    if (t === null) return null;
    const lines = t.split('\n');
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines;
  }

  readdir(path: string): { name: string; type: string }[] {
    return this.safe(() => this.view.readdir(path).map((e) => ({ name: e.name, type: e.type })), []);
  }
}

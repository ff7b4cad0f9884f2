// Test helpers over the Filesystem interface (fs/vfs.ts), for any reader's tests.
import type { Filesystem } from '@guestkit/core';

/** Inode of `path` from the root, by lookup() of each component (no symlinks followed). */
export function resolvePath(fs: Filesystem, path: string): number {
  let ino = fs.rootIno;
  for (const part of path.split('/').filter(Boolean)) {
    const next = fs.lookup(ino, part);
    if (next === null) throw new Error(`${path}: ${part} not found`);
    ino = next;
  }
  return ino;
}

/** The whole file, in reads of `chunk` bytes (odd by default, so reads cross block boundaries). */
export function readAll(fs: Filesystem, ino: number, chunk = 65536 + 13): Buffer {
  const parts: Buffer[] = [];
  for (let pos = 0; ; ) {
    const buf = new Uint8Array(chunk);
    const n = fs.read(ino, buf, pos);
    if (n === 0) break;
    parts.push(Buffer.from(buf.subarray(0, n)));
    pos += n;
  }
  return Buffer.concat(parts);
}

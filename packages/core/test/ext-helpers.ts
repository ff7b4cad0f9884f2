// Shared by the ext*.test.ts files: opening images, resolving paths, walking a filesystem.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, createReadStream, createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { RawFile } from '../src/block/raw.js';
import { openExt, type ExtFs, type ExtOpenOptions } from '../src/fs/ext/index.js';
import { setWarningSink } from '../src/warn.js';
import type { DirEntry } from '../src/fs/vfs.js';
import { GuestkitError } from '../src/errors.js';

/** Warnings printed by the reader go here instead of stderr. */
export const warnings: string[] = [];
setWarningSink((m) => warnings.push(m));

export function openExtImage(path: string, opts: ExtOpenOptions = {}): ExtFs {
  return openExt(new RawFile(path), opts);
}

/** Inode of `path` ('' is the root), following no symlinks. */
export function resolve(fs: ExtFs, path: string): number {
  let ino = fs.rootIno;
  if (path === '') return ino;
  for (const c of path.split('/')) {
    const next = fs.lookup(ino, c);
    if (next === null) throw new Error(`${path}: ${c} not found`);
    ino = next;
  }
  return ino;
}

export interface WalkEntry extends DirEntry {
  path: string;
}

/** Every entry under the root, depth-first (directories by readdir, no symlinks followed). */
export function walk(fs: ExtFs, ino = fs.rootIno, prefix = ''): WalkEntry[] {
  const out: WalkEntry[] = [];
  for (const e of fs.readdir(ino)) {
    const path = prefix + e.name;
    out.push({ ...e, path });
    if (e.type === 'dir') out.push(...walk(fs, e.ino, path + '/'));
  }
  return out;
}

/** sha256 of a file read through fs.read with an odd-sized buffer (exercises ranged reads). */
export function sha256Of(fs: ExtFs, ino: number, size: number, chunk = 65521): string {
  const h = createHash('sha256');
  const buf = new Uint8Array(chunk);
  for (let pos = 0; pos < size; ) {
    const n = fs.read(ino, buf, pos);
    if (n === 0) throw new Error(`short read at ${pos} of ${size}`);
    h.update(buf.subarray(0, n));
    pos += n;
  }
  return h.digest('hex');
}

export function hex(b: Uint8Array | null): string | null {
  return b === null ? null : Buffer.from(b).toString('hex');
}

/** A gzip/bzip2 sample decompressed into a fresh temporary directory. */
export async function unpackSample(path: string): Promise<{ file: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'guestkit-ext-'));
  const file = join(dir, 'image');
  if (path.endsWith('.bz2')) {
    execFileSync('sh', ['-c', `bzip2 -dc "$1" > "$2"`, 'sh', path, file]);
  } else {
    await pipeline(createReadStream(path), createGunzip(), createWriteStream(file));
  }
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A debugfs request against an image (read-only). */
export function debugfs(img: string, request: string): string {
  return execFileSync('debugfs', ['-R', request, img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
}

/**
 * Walk everything, stat, read every file, readlink every symlink, list and get xattrs.
 * Returns the GuestkitErrors; any other exception fails the test.
 */
export function exhaust(fs: ExtFs): { entries: number; errors: GuestkitError[] } {
  const errors: GuestkitError[] = [];
  let entries = 0;
  const guard = (f: () => void) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      errors.push(e);
    }
  };
  const buf = new Uint8Array(1 << 20);
  const seen = new Set<number>();
  const visit = (ino: number, depth: number) => {
    if (seen.has(ino) || depth > 64) return;
    seen.add(ino);
    guard(() => {
      for (const e of fs.readdir(ino)) {
        entries++;
        guard(() => {
          const st = fs.stat(e.ino);
          for (const n of fs.listxattr(e.ino)) fs.getxattr(e.ino, n);
          if (e.type === 'dir') visit(e.ino, depth + 1);
          else if (e.type === 'symlink') fs.readlink(e.ino);
          else if (e.type === 'file') {
            for (let pos = 0; pos < Math.min(st.size, 256 << 20); ) {
              const n = fs.read(e.ino, buf, pos);
              if (n === 0) break;
              pos += n;
            }
          }
        });
      }
    });
  };
  visit(fs.rootIno, 0);
  return { entries, errors };
}


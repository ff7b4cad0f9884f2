// qcow2 backing files (QEMU docs/interop/qcow2.txt, "Header": backing_file_offset and
// backing_file_size; "Header extensions": backing file format name) treated as hostile input.
//
// A backing file name is followed only when it resolves, after every symlink (realpath(3)),
// to a regular file inside the folder tree of the image that names it or of a folder the
// user allowed (--backing-dir). Protocol strings (json:, nbd:, http:, file:...) are never
// followed. A relative name is resolved against the folder of the naming image as QEMU does
// (the name the image was opened by, not its realpath).

import { closeSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { GuestkitError, fromSystemError } from '../../errors.js';
import { QCOW_MAGIC } from './header.js';

export interface ResolvedBacking {
  /** The name as QEMU would open it: absolute, or the naming image's folder + "/" + name. */
  path: string;
  /** realpath(3) of `path`: what guestkit opens. */
  real: string;
  stat: Stats;
}

/** "proto:..." with the colon before any slash: a QEMU protocol or json: pseudo-protocol. */
export function isProtocolString(name: string): boolean {
  const colon = name.indexOf(':');
  if (colon < 0) return false;
  const slash = name.indexOf('/');
  return slash < 0 || colon < slash;
}

function realpath(p: string): string {
  return realpathSync.native(p);
}

function describeType(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function inside(real: string, root: string): boolean {
  if (root === '/') return true;
  return real.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/** The folders a backing file named by `namer` may live in (realpaths). */
export function allowedRoots(namer: string, backingDirs: readonly string[]): string[] {
  const roots = new Set<string>();
  try {
    roots.add(realpath(dirname(namer)));
  } catch {
    /* the folder we opened the image from has gone; the other roots still apply */
  }
  try {
    roots.add(dirname(realpath(namer)));
  } catch {
    /* likewise */
  }
  for (const d of backingDirs) {
    try {
      roots.add(realpath(d));
    } catch (e) {
      throw fromSystemError(e, `--backing-dir ${d}`);
    }
  }
  return [...roots];
}

/**
 * Resolve the backing file `name` of image `namer` under the policy above, or throw REFUSED
 * (NOT_FOUND when it does not exist, LOOP when its symlinks loop) naming both.
 */
export function resolveBackingFile(namer: string, name: string, backingDirs: readonly string[]): ResolvedBacking {
  const what = `${namer}: backing file "${name}"`;
  if (name.includes('\0')) {
    throw new GuestkitError('REFUSED', `${what}: the name contains a NUL byte; refusing to follow it`);
  }
  if (isProtocolString(name)) {
    throw new GuestkitError('REFUSED', `${what} is a protocol string, not a file; guestkit follows only local files`);
  }
  const path = isAbsolute(name) ? name : `${dirname(namer)}/${name}`;
  let real: string;
  try {
    real = realpath(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new GuestkitError('LOOP', `${what}: too many levels of symbolic links`);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new GuestkitError('NOT_FOUND', `${what}: no such file (${path})`);
    }
    throw fromSystemError(e, path);
  }
  const roots = allowedRoots(namer, backingDirs);
  if (!roots.some((r) => inside(real, r))) {
    throw new GuestkitError(
      'REFUSED',
      `${what} resolves to ${real}, outside ${roots.join(', ')}; refusing to follow it (allow a folder with --backing-dir)`,
    );
  }
  let stat: Stats;
  try {
    stat = statSync(real);
  } catch (e) {
    throw fromSystemError(e, real);
  }
  if (!stat.isFile()) {
    throw new GuestkitError('REFUSED', `${what} (${real}) is ${describeType(stat)}, not a regular file; refusing to follow it`);
  }
  return { path, real, stat };
}

/** Probe a backing file's format by magic, for images that do not record backing_fmt. */
export function probeBackingFormat(real: string): 'qcow2' | 'raw' {
  let fd: number;
  try {
    fd = openSync(real, 'r');
  } catch (e) {
    throw fromSystemError(e, real);
  }
  try {
    const b = Buffer.alloc(4);
    const n = readSync(fd, b, 0, 4, 0);
    return n === 4 && b.readUInt32BE(0) === QCOW_MAGIC ? 'qcow2' : 'raw';
  } catch (e) {
    throw fromSystemError(e, real);
  } finally {
    closeSync(fd);
  }
}

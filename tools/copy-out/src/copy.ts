// Copy a guest file or directory tree into a local directory, as virt-copy-out does
// (libguestfs lib/copy-in-out.c: a regular file is downloaded to LOCALDIR/NAME; a directory
// is made as LOCALDIR/NAME and filled by `tar -xf` of the guest's tar-out, which keeps
// modes, mtimes, symlinks, hard links, device nodes and fifos; owners too when run as root).
//
// The guest is hostile; nothing is ever written outside LOCALDIR:
//  - an entry name that is empty, ".", "..", or holds '/' or NUL is refused with a warning
//    (and a directory so named is not entered);
//  - guest symlinks are created as symlinks and never followed: every local name is checked
//    with lstat before use, a directory is entered only when it is a real directory, and
//    files are created with O_CREAT|O_EXCL|O_NOFOLLOW after removing whatever non-directory
//    was there (so a symlink planted by an earlier entry cannot redirect a write);
//  - hard links only ever link to files this run created.

import { spawnSync } from 'node:child_process';
import {
  closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, lstatSync, lutimesSync, linkSync,
  mkdirSync, openSync, renameSync, statSync, symlinkSync, unlinkSync, writeSync, ftruncateSync, chmodSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import {
  GuestkitError, fileTypeOfMode, fromSystemError, major, minor, warn, READ_CHUNK, removeStaleTempsIn, tempPathIn,
  type GuestView, type Filesystem, type Stat,
} from '@guestkit/core';

export interface CopyStats {
  files: number;
  dirs: number;
  links: number;
  bytes: number;
  /** Entries not copied (bad names, sockets, errors). */
  skipped: number;
  errors: number;
}

export interface CopyOptions {
  /** Restore owners (default: when running as root, as tar -x does). */
  owners?: boolean;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The process umask (read by setting and restoring it: Node has no read-only call). */
function currentUmask(): number {
  const m = process.umask(0o022);
  process.umask(m);
  return m;
}

/** What is at a local path, without following a symlink there. */
function lkind(p: string): 'none' | 'dir' | 'other' {
  try {
    return lstatSync(p).isDirectory() ? 'dir' : 'other';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw fromSystemError(e, p);
  }
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fromSystemError(e, p);
  }
}

/** Make room for a non-directory at `p`: remove a file or symlink there; a directory is an error. */
function clearForFile(p: string): void {
  const k = lkind(p);
  if (k === 'dir') throw new GuestkitError('IS_DIR', `${p}: a directory is in the way`);
  if (k === 'other') {
    try {
      unlinkSync(p); // unlink never follows a symlink
    } catch (e) {
      throw fromSystemError(e, p);
    }
  }
}

/** Ensure `p` is a real directory (creating it); false when something else is in the way. */
function ensureDir(p: string): boolean {
  const k = lkind(p);
  if (k === 'dir') return true;
  if (k === 'other') {
    // A file or symlink from an earlier (duplicate) entry: replace it, never enter it.
    unlinkSync(p);
  }
  try {
    mkdirSync(p, 0o700);
  } catch (e) {
    throw fromSystemError(e, p);
  }
  return lkind(p) === 'dir';
}

/** Granularity of hole detection when writing a copy. */
const HOLE_GRAIN = 64 * 1024;
const ZERO = Buffer.alloc(HOLE_GRAIN);

function isZero(b: Buffer): boolean {
  return b.compare(ZERO, 0, b.length, 0, b.length) === 0;
}

/**
 * Write guest file (fs, ino) to local path `p` (created exclusively, never through a symlink).
 * All-zero chunks are skipped, leaving holes, and the size set at the end.
 * Returns the open descriptor's final state applied by `finish`.
 */
function writeFile(p: string, fs: Filesystem, ino: number, size: number, mode: number, finish?: (fd: number) => void): void {
  clearForFile(p);
  // Written under a temporary name beside `p` and renamed when complete, so a copy killed
  // half-way never leaves a half-written file under its final name (issue 7, nothing lost).
  // Before the first file this process writes into a directory, the temporary files that
  // killed copies left there are removed (only those whose writer is gone: temp-file.ts).
  const dir = dirname(p);
  if (!sweptDirs.has(dir)) {
    sweptDirs.add(dir);
    removeStaleTempsIn(dir);
  }
  const tmp = tempPathIn(dir, ++tmpSeq);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  } catch (e) {
    throw fromSystemError(e, p);
  }
  let complete = false;
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let pos = 0;
    while (pos < size) {
      const want = Math.min(buf.length, size - pos);
      let got = 0;
      while (got < want) {
        const n = fs.read(ino, buf.subarray(got, want), pos + got);
        if (n <= 0) break;
        got += n;
      }
      if (got === 0) throw new GuestkitError('CORRUPT', `inode ${ino}: data ends at ${pos}, before its size ${size}`);
      // Zero runs of HOLE_GRAIN bytes are not written: they stay holes (size set at the end).
      for (let o = 0; o < got; o += HOLE_GRAIN) {
        const piece = buf.subarray(o, Math.min(got, o + HOLE_GRAIN));
        if (isZero(piece)) continue;
        let off = 0;
        while (off < piece.length) off += writeSync(fd, piece, off, piece.length - off, pos + o + off);
      }
      pos += got;
    }
    ftruncateSync(fd, size);
    finish?.(fd);
    complete = true;
  } finally {
    closeSync(fd);
    if (!complete) try { unlinkSync(tmp); } catch { /* already gone */ }
  }
  try {
    renameSync(tmp, p);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw fromSystemError(e, p);
  }
}
let tmpSeq = 0;
/** Directories whose stale temporary files this process has removed. */
const sweptDirs = new Set<string>();

export class Copier {
  readonly stats: CopyStats = { files: 0, dirs: 0, links: 0, bytes: 0, skipped: 0, errors: 0 };
  private readonly owners: boolean;
  private readonly root = isRoot();
  private readonly umask = currentUmask();

  constructor(private readonly view: GuestView, opts: CopyOptions = {}) {
    this.owners = opts.owners ?? this.root;
  }

  /** Mode tar -x gives: exact as root, else without the umask's bits and without set-id bits. */
  private modeOf(st: Stat): number {
    const m = st.mode & 0o7777;
    return this.root ? m : m & ~this.umask & 0o1777;
  }

  private fail(what: string, e: unknown): void {
    if (!(e instanceof GuestkitError)) throw e;
    this.stats.errors++;
    warn(`${what}: ${e.message}`);
  }

  /**
   * copy-out of one guest path into `localdir` (which must exist). A regular file is copied
   * like guestfs download (contents only, mode 0666 less the umask, mtime now); a directory
   * as LOCALDIR/NAME with everything below it. Throws on a path that is neither.
   */
  copyOut(remote: string, localdir: string): void {
    // LOCALDIR is the user's: stat (following a symlink) as libguestfs does.
    let isDir = false;
    try {
      isDir = statSync(localdir).isDirectory();
    } catch { /* reported below */ }
    if (!isDir) throw new GuestkitError('NOT_DIR', `target '${localdir}' is not a directory`);
    const type = this.view.typeOf(remote, false);
    if (type === null) this.view.resolve(remote, { follow: false }); // throws the precise error
    // libguestfs split_path: drop one trailing '/', then the last component; "/" → ".".
    let p = remote;
    if (p.length >= 2 && p.endsWith('/')) p = p.slice(0, -1);
    let base = p.slice(p.lastIndexOf('/') + 1);
    if (base === '') base = '.';
    if (type === 'file') {
      if (base === '.' || base === '..') throw new GuestkitError('USAGE', `${remote}: no file name to copy to`);
      const r = this.view.resolve(remote, { follow: false });
      const st = r.fs.stat(r.ino);
      const dest = join(localdir, base);
      // guestfs download overwrites a file; a symlink there is not followed, nor removed.
      if (lstatOrNull(dest)?.isSymbolicLink()) throw new GuestkitError('REFUSED', `${dest}: is a symbolic link; not writing through it`);
      writeFile(dest, r.fs, r.ino, st.size, 0o666);
      this.stats.files++;
      this.stats.bytes += st.size;
      return;
    }
    if (type !== 'dir') throw new GuestkitError('UNSUPPORTED', `'${remote}' is not a file or directory`);
    const target = join(localdir, base);
    if (base !== '.' && base !== '..') {
      // LOCALDIR/NAME may already be a directory (merged into, as tar -x does); anything else
      // there is the user's and is neither replaced nor followed.
      const k = lkind(target);
      if (k === 'other') throw new GuestkitError('REFUSED', `${target}: exists and is not a directory; not replaced`);
      if (k === 'none') ensureDir(target);
    }
    this.copyTree(remote, target);
  }

  /** The contents of guest directory `remote` into local directory `target`, and then its own mode and times. */
  private copyTree(remote: string, target: string): void {
    const top = this.view.resolve(remote, { follow: false });
    const topSt = top.fs.stat(top.ino);
    const dirsDone: [string, Stat][] = [[target, topSt]];
    const failedDirs = new Set<string>();
    const hardlinks = new Map<string, string>();
    const prefixLen = remote === '/' ? 1 : remote.length + 1;
    for (const e of this.view.walk(remote, {
      onError: (p, err) => this.fail(p, err),
      descend: (d) => !failedDirs.has(d.path),
    })) {
      if (e.badName) {
        warn(`${e.dir}: refusing entry named ${JSON.stringify(e.name)} (not a usable file name)`);
        this.stats.skipped++;
        if (e.type === 'dir') failedDirs.add(e.path);
        continue;
      }
      if (e.duplicate) {
        warn(`${e.dir}: second entry named ${JSON.stringify(e.name)} not copied (corrupt or hostile directory)`);
        this.stats.skipped++;
        continue;
      }
      // Every component of e.path below `remote` is a checked name, so this join cannot climb.
      const local = join(target, ...e.path.slice(prefixLen).split('/'));
      const fs = e.mount.fs;
      try {
        const st = fs.stat(e.ino);
        const type = fileTypeOfMode(st.mode);
        const key = `${e.mount.id}:${e.ino}`;
        if (type !== 'dir' && st.nlink > 1) {
          const first = hardlinks.get(key);
          if (first !== undefined) {
            clearForFile(local);
            try {
              linkSync(first, local);
            } catch (err) {
              throw fromSystemError(err, local);
            }
            this.stats.links++;
            continue;
          }
        }
        switch (type) {
          case 'dir':
            if (!ensureDir(local)) throw new GuestkitError('IO', `${local}: cannot make the directory`);
            dirsDone.push([local, st]);
            this.stats.dirs++;
            break;
          case 'file':
            writeFile(local, fs, e.ino, st.size, 0o600, (fd) => {
              if (this.owners) fchownSync(fd, st.uid, st.gid);
              fchmodSync(fd, this.modeOf(st));
              futimesSync(fd, st.atime.sec + st.atime.nsec / 1e9, st.mtime.sec + st.mtime.nsec / 1e9);
            });
            this.stats.files++;
            this.stats.bytes += st.size;
            break;
          case 'symlink': {
            clearForFile(local);
            try {
              symlinkSync(fs.readlink(e.ino), local);
              if (this.owners) lchownSync(local, st.uid, st.gid);
              lutimesSync(local, st.atime.sec + st.atime.nsec / 1e9, st.mtime.sec + st.mtime.nsec / 1e9);
            } catch (err) {
              throw fromSystemError(err, local);
            }
            this.stats.files++;
            break;
          }
          case 'fifo':
          case 'chardev':
          case 'blockdev': {
            if (type !== 'fifo' && !this.root) {
              warn(`${e.path}: device node not copied (creating device nodes needs root)`);
              this.stats.skipped++;
              continue;
            }
            clearForFile(local);
            const mode = (this.modeOf(st) & 0o7777).toString(8);
            const args = type === 'fifo'
              ? ['mkfifo', ['-m', mode, '--', local]]
              : ['mknod', ['-m', mode, '--', local, type === 'chardev' ? 'c' : 'b', String(major(st.rdev)), String(minor(st.rdev))]];
            const r = spawnSync(args[0] as string, args[1] as string[], { encoding: 'utf8' });
            if (r.status !== 0) throw new GuestkitError('EXTERNAL', `${local}: ${(r.stderr || r.error?.message || 'failed').trim()}`);
            if (this.owners) lchownSync(local, st.uid, st.gid);
            lutimesSync(local, st.atime.sec, st.mtime.sec);
            this.stats.files++;
            break;
          }
          default:
            warn(`${e.path}: ${type === 'socket' ? 'socket' : 'unknown file type'} ignored`);
            this.stats.skipped++;
            continue;
        }
        if (type !== 'dir' && st.nlink > 1) hardlinks.set(key, local);
      } catch (err) {
        if (e.type === 'dir') failedDirs.add(e.path);
        this.fail(e.path, err);
      }
    }
    // Directories last, deepest first: their modes may forbid writing, and writing changes mtimes.
    for (let i = dirsDone.length - 1; i >= 0; i--) {
      const [p, st] = dirsDone[i];
      try {
        if (this.owners) lchownSync(p, st.uid, st.gid);
        chmodSync(p, this.modeOf(st));
        lutimesSync(p, st.atime.sec + st.atime.nsec / 1e9, st.mtime.sec + st.mtime.nsec / 1e9);
      } catch (err) {
        this.fail(p, fromSystemError(err, p));
      }
    }
  }
}

// The guest view: read-only filesystems mounted at mountpoints, and path resolution with
// the guest's symlinks confined to the guest, as Linux resolves paths under a chroot:
//  - an absolute symlink target resolves against the guest root, never the host's;
//  - `..` at the guest root stays at the root (path_resolution(7));
//  - more than LIMITS.maxSymlinks (40, Linux MAXSYMLINKS) symlinks in one resolution is ELOOP;
//  - mountpoints are crossed both ways (into a mounted root, and `..` back out of it).
// Mounts are vfsmounts: each mount() is its own instance that covers one directory of one
// other mount instance, so the same filesystem mounted twice behaves as in Linux.
// Names come from a hostile filesystem: a directory entry is only ever used as one name,
// never split, so '/' or NUL inside it cannot act as a separator; "", "." and ".." entries
// are never descended into.

import { Readable } from 'node:stream';
import type { DirEntry, FileType, Filesystem, Stat, StatFs } from '../fs/vfs.js';
import { S_IFDIR, fileTypeOfMode } from '../fs/vfs.js';
import { GuestkitError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { BlockDevice } from '../block/device.js';

/** One mount instance. */
export interface Mount {
  readonly id: number;
  readonly fs: Filesystem;
  /** Guest path where it is mounted, as given ("/", "/boot/efi"). */
  readonly mountpoint: string;
  /** Device name it came from (/dev/sda1), for messages and listings. */
  readonly device?: string;
  /** st_dev reported for files of this mount (Linux encoding major<<8|minor for small numbers). */
  readonly dev: number;
  /** Mount options as given (-m DEV:MP:OPTIONS). */
  readonly options?: string;
}

export interface MountOptions {
  device?: string;
  dev?: number;
  options?: string;
}

export interface Resolved {
  mount: Mount;
  fs: Filesystem;
  ino: number;
  /** Canonical guest path (symlinks expanded where followed, no `.`/`..`). */
  path: string;
}

export interface ResolveOptions {
  /** Follow a symlink in the last component (stat vs lstat). Default true. */
  follow?: boolean;
}

/** A Stat plus st_dev of the mount it lives on. */
export interface GuestStat extends Stat {
  dev: number;
}

export interface WalkEntry {
  /** Guest path of the entry (parent path + '/' + name). Only for display: never re-resolved. */
  path: string;
  /** The directory it is in (its guest path). */
  dir: string;
  name: string;
  depth: number;
  mount: Mount;
  ino: number;
  /** Type from the directory entry (or from the inode when the entry does not say). */
  type: FileType;
  /** True when the name is unusable as a file name: empty, ".", "..", or holding '/' or NUL. */
  badName: boolean;
  /** True when an earlier entry of the same directory has the same name (a corrupt or hostile directory). */
  duplicate: boolean;
}

export interface WalkOptions {
  /** Sort each directory's entries by bytes (strcmp), as libguestfs's ls and find do. Default true. */
  sort?: boolean;
  /** Called when a directory cannot be read; the walk goes on with the next one. */
  onError?: (dirPath: string, err: GuestkitError) => void;
  /** Return false to not descend into a directory entry. */
  descend?: (e: WalkEntry) => boolean;
}

/** Deepest directory nesting walk() descends (PATH_MAX 4096 bounds Linux to about 2048). */
export const MAX_WALK_DEPTH = LIMITS.maxWalkDepth;
/** Read chunk of createReadStream and the tools' copies. */
export const READ_CHUNK = 1024 * 1024;

/** The empty directory the guest root is before anything is mounted (the appliance's /sysroot). */
class EmptyRootFs implements Filesystem {
  readonly type = 'none';
  readonly rootIno = 1;
  readonly device: BlockDevice = {
    size: 0, sectorSize: 512, description: 'empty guest root',
    pread: () => 0, map: () => [], close: () => {},
  };
  private static readonly zero = { sec: 0, nsec: 0 };
  stat(ino: number): Stat {
    if (ino !== 1) throw new GuestkitError('NOT_FOUND', `inode ${ino}: No such file or directory`);
    const z = EmptyRootFs.zero;
    return { ino: 1, mode: S_IFDIR | 0o755, nlink: 2, uid: 0, gid: 0, size: 0, blocks: 0, blksize: 4096, rdev: 0, atime: z, mtime: z, ctime: z };
  }
  lookup(): number | null { return null; }
  readdir(): Iterable<DirEntry> { return []; }
  readlink(): string { throw new GuestkitError('NOT_FOUND', 'not a symlink'); }
  read(): number { throw new GuestkitError('IS_DIR', 'Is a directory'); }
  statfs(): StatFs { return { bsize: 4096, frsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, favail: 0, namemax: 255 }; }
  listxattr(): string[] { return []; }
  getxattr(): Uint8Array | null { return null; }
}

/** True when `name` cannot be used as one path component (and must never be descended into). */
export function isBadName(name: string): boolean {
  return name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0');
}

/** strcmp order on the UTF-8 bytes (libguestfs sorts ls and find output with strcmp). */
export function compareBytes(a: string, b: string): number {
  // Fast path: for code points below U+D800 UTF-16 order equals UTF-8 byte order.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return Buffer.compare(Buffer.from(a.slice(i)), Buffer.from(b.slice(i)));
  }
  return a.length - b.length;
}

const entryName = (e: { name: string }): string => e.name;

/** A code unit from which UTF-16 order and UTF-8 byte order may differ (surrogates and up). */
const BEYOND_BMP_ORDER = /[\ud800-\uffff]/;

/**
 * Sort `items` into the byte order of their keys' UTF-8 (as strcmp, GNU ls in the C locale and
 * libguestfs sort). When no key holds a code unit at or above U+D800, UTF-16 order is that
 * order and the engine's own string comparison does it (a recursive listing sorts tens of
 * thousands of paths sharing long prefixes); otherwise compareBytes.
 */
export function sortByBytes<T>(items: T[], key: (t: T) => string): T[] {
  for (const t of items) if (BEYOND_BMP_ORDER.test(key(t))) return items.sort((a, b) => compareBytes(key(a), key(b)));
  return items.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/**
 * sortByBytes for the strings themselves (names, paths). When none holds a code unit at or
 * above U+D800 (one regular-expression scan over them all joined), the engine's default sort,
 * UTF-16 order with no comparator to call back, is that order: a recursive listing sorts
 * tens of thousands of paths.
 */
export function sortStringsByBytes(items: string[]): string[] {
  if (BEYOND_BMP_ORDER.test(items.join(''))) return items.sort(compareBytes);
  return items.sort();
}

/** Whether two neighbours of a sorted list are equal (a name given twice). */
function hasNeighbourTwins(sorted: readonly string[]): boolean {
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) return true;
  return false;
}

/** Join a guest directory path and a name. */
export function joinGuestPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

interface Frame {
  mount: Mount;
  ino: number;
  name: string;
  /** Whether it is a directory (every frame but the last of a resolution is). */
  dir: boolean;
}

export class GuestView {
  private readonly mountList: Mount[] = [];
  /** mount id → (inode of a covered directory of that mount → the mount on top of it). */
  private readonly covers = new Map<number, Map<number, Mount>>();
  private readonly base: Mount;
  private nextId = 1;

  constructor() {
    this.base = { id: 0, fs: new EmptyRootFs(), mountpoint: '/', dev: 0 };
  }

  /** Mounts in the order they were made. */
  get mounts(): readonly Mount[] {
    return this.mountList;
  }

  /**
   * Mount `fs` at `mountpoint`, which must be an existing directory of the view (or "/").
   * Like mount(8), the mountpoint path is resolved through symlinks, inside the guest.
   */
  mount(fs: Filesystem, mountpoint: string, opts: MountOptions = {}): Mount {
    const at = this.resolve(mountpoint, { follow: true });
    const st = at.fs.stat(at.ino);
    if (fileTypeOfMode(st.mode) !== 'dir') {
      throw new GuestkitError('NOT_DIR', `${mountpoint}: mount point is not a directory`);
    }
    const m: Mount = { id: this.nextId++, fs, mountpoint, device: opts.device, dev: opts.dev ?? 0, options: opts.options };
    let c = this.covers.get(at.mount.id);
    if (!c) this.covers.set(at.mount.id, (c = new Map()));
    c.set(at.ino, m);
    this.mountList.push(m);
    return m;
  }

  /** The mount instance on top of (mount, ino), following stacked mounts. */
  private cross(mount: Mount, ino: number): { mount: Mount; ino: number } {
    // Each cover maps to a newer mount instance, so the chain is finite; bound it anyway.
    for (let i = 0; i <= this.mountList.length; i++) {
      const top = this.covers.get(mount.id)?.get(ino);
      if (!top) break;
      mount = top;
      ino = top.fs.rootIno;
    }
    return { mount, ino };
  }

  /** Root of the view: what "/" is. */
  root(): Resolved {
    const r = this.cross(this.base, this.base.fs.rootIno);
    return { mount: r.mount, fs: r.mount.fs, ino: r.ino, path: '/' };
  }

  /**
   * Resolve a guest path. Throws NOT_FOUND, NOT_DIR or LOOP (naming `path`), or the
   * filesystem's CORRUPT error. Relative paths are refused as libguestfs refuses them.
   */
  resolve(path: string, opts: ResolveOptions = {}): Resolved {
    const follow = opts.follow ?? true;
    if (!path.startsWith('/')) {
      throw new GuestkitError('NOT_FOUND', `${path}: path must start with a / character`);
    }
    if (path.includes('\0')) throw new GuestkitError('NOT_FOUND', `${JSON.stringify(path)}: path contains a NUL byte`);
    const r = this.root();
    // The root of a hostile filesystem may be anything: checked like every other directory.
    const stack: Frame[] = [{ mount: r.mount, ino: r.ino, name: '', dir: fileTypeOfMode(r.fs.stat(r.ino).mode) === 'dir' }];
    // Components still to walk, last one first (so pop() gives the next).
    const pending = path.split('/').reverse();
    let links = 0;
    while (pending.length > 0) {
      const comp = pending.pop()!;
      if (comp === '' || comp === '.') continue;
      if (comp === '..') {
        if (stack.length > 1) stack.pop();
        continue;
      }
      const cur = stack[stack.length - 1];
      if (!cur.dir) throw new GuestkitError('NOT_DIR', `${path}: Not a directory`);
      const childIno = cur.mount.fs.lookup(cur.ino, comp);
      if (childIno === null) throw new GuestkitError('NOT_FOUND', `${path}: No such file or directory`);
      const child = this.cross(cur.mount, childIno);
      // Last component: nothing but "" and "." after it? Then a trailing "/" or "/." asks for
      // a directory and makes a final symlink be followed (POSIX), as Linux does.
      const last = pending.length === 0;
      const st = child.mount.fs.stat(child.ino);
      const type = fileTypeOfMode(st.mode);
      if (type === 'symlink' && (!last || follow)) {
        if (++links > LIMITS.maxSymlinks) {
          throw new GuestkitError('LOOP', `${path}: Too many levels of symbolic links`);
        }
        const target = child.mount.fs.readlink(child.ino);
        if (target === '') throw new GuestkitError('NOT_FOUND', `${path}: No such file or directory`);
        if (target.includes('\0')) throw new GuestkitError('NOT_FOUND', `${path}: symlink target contains a NUL byte`);
        if (target.startsWith('/')) stack.length = 1;
        const parts = target.split('/');
        for (let i = parts.length - 1; i >= 0; i--) pending.push(parts[i]);
        continue;
      }
      // Anything after a non-directory (even a trailing "/", ".", "..") needs it to be one.
      if (!last && type !== 'dir') throw new GuestkitError('NOT_DIR', `${path}: Not a directory`);
      stack.push({ mount: child.mount, ino: child.ino, name: comp, dir: type === 'dir' });
    }
    const top = stack[stack.length - 1];
    const canon = stack.length === 1 ? '/' : stack.slice(1).map((f) => `/${f.name}`).join('');
    return { mount: top.mount, fs: top.mount.fs, ino: top.ino, path: canon };
  }

  /** Whether a path exists (following symlinks unless follow is false). Never throws NOT_FOUND/NOT_DIR/LOOP. */
  exists(path: string, opts: ResolveOptions = {}): boolean {
    try {
      this.resolve(path, opts);
      return true;
    } catch (e) {
      if (e instanceof GuestkitError && (e.code === 'NOT_FOUND' || e.code === 'NOT_DIR' || e.code === 'LOOP')) return false;
      throw e;
    }
  }

  statOf(r: { mount: Mount; ino: number }): GuestStat {
    return { ...r.mount.fs.stat(r.ino), dev: r.mount.dev };
  }

  stat(path: string): GuestStat {
    return this.statOf(this.resolve(path, { follow: true }));
  }

  lstat(path: string): GuestStat {
    return this.statOf(this.resolve(path, { follow: false }));
  }

  /** The file type of a path without following a final symlink, or null when it does not exist. */
  typeOf(path: string, follow = false): FileType | null {
    try {
      const r = this.resolve(path, { follow });
      return fileTypeOfMode(r.fs.stat(r.ino).mode);
    } catch (e) {
      if (e instanceof GuestkitError && (e.code === 'NOT_FOUND' || e.code === 'NOT_DIR' || e.code === 'LOOP')) return null;
      throw e;
    }
  }

  private requireDir(r: Resolved, path: string): void {
    if (fileTypeOfMode(r.fs.stat(r.ino).mode) !== 'dir') throw new GuestkitError('NOT_DIR', `${path}: Not a directory`);
  }

  /**
   * Entries of a directory (following symlinks to it), without "." and "..", each with the
   * mount and inode it leads to once mountpoints are crossed.
   */
  readdir(path: string): { name: string; ino: number; type: FileType; mount: Mount }[] {
    const r = this.resolve(path, { follow: true });
    this.requireDir(r, path);
    return this.entriesOf(r.mount, r.ino);
  }

  /** Directory entries of (mount, ino), mountpoints crossed. */
  entriesOf(mount: Mount, ino: number): { name: string; ino: number; type: FileType; mount: Mount }[] {
    const out: { name: string; ino: number; type: FileType; mount: Mount }[] = [];
    this.eachEntry(mount, ino, (name, eino, emount, type) => {
      out.push({ name, ino: eino, mount: emount, type });
    });
    return out;
  }

  /** Call `fn` with each entry of (mount, ino) but "." and "..", mountpoints crossed. */
  private eachEntry(mount: Mount, ino: number, fn: (name: string, ino: number, mount: Mount, type: FileType) => void): void {
    const covered = this.covers.get(mount.id);
    let n = 0;
    const each = (name: string, eino: number, type: FileType) => {
      if (++n > LIMITS.maxDirEntries) {
        throw new GuestkitError('LIMIT', `directory inode ${ino} on ${mount.device ?? mount.fs.device.description}: more than ${LIMITS.maxDirEntries} entries`);
      }
      if (name === '.' || name === '..') return;
      // Fast path: nothing is mounted on this mount's directories.
      if (!covered || !covered.has(eino)) {
        fn(name, eino, mount, type);
        return;
      }
      const c = this.cross(mount, eino);
      fn(name, c.ino, c.mount, 'dir');
    };
    const fs = mount.fs;
    if (fs.forEachEntry) fs.forEachEntry(ino, each);
    else for (const e of fs.readdir(ino)) each(e.name, e.ino, e.type);
  }

  /**
   * Every path under directory `path` (following a symlink given as `path`), as `find` lists
   * them: `prefix` + the path relative to `path`, sorted by bytes (guestfs_find sorts the
   * whole list), given to `opts.emit` in that order or returned. The rules are walk()'s:
   * mountpoints are crossed; a directory is not entered twice on one branch, nor when its name
   * is bad or a duplicate; nesting stops at LIMITS.maxWalkDepth; an unreadable directory goes
   * to onError and is skipped. More than `opts.maxPaths` paths is a LIMIT error.
   *
   * Made for recursive listings of whole guests: one string per entry, no sort of the whole
   * list (12,000 paths sharing long prefixes: ~10 ms) and nothing kept when `emit` takes the
   * paths. Each directory's names are sorted instead, with each subdirectory's subtree as one
   * more key, its name + "/": all the paths of a subtree start with that key, so they sort as
   * one block at its place, and the listing comes out in order as the directories are
   * visited (depth first, in key order). A name holding '/' (hostile: "a/b") whose head names
   * a subtree listed here is listed inside that subtree, as "b" (where its path sorts).
   */
  listTree(
    path: string,
    prefix: string,
    onError: (dirPath: string, e: GuestkitError) => void,
    opts: { emit?: (path: string) => void; maxPaths?: number } = {},
  ): string[] {
    const r = this.resolve(path, { follow: true });
    this.requireDir(r, path);
    const maxPaths = opts.maxPaths ?? LIMITS.maxDirEntries;
    const out: string[] = [];
    let count = 0;
    const emit = opts.emit ?? ((p: string) => void out.push(p));
    /** A subtree to list: where, and the hostile names of its parent that fall inside it. */
    interface Sub { mount: Mount; ino: number; extra: string[] | null }
    /** A directory being listed: its sorted keys, the next one, the subtrees keys lead to. */
    interface Level { base: string; keys: string[]; i: number; subs: Map<string, Sub> | null; mount: Mount; ino: number }
    const levels: Level[] = [];
    const guestPath = (base: string) => (base === prefix ? path : joinGuestPath(path, base.slice(prefix.length, -1)));
    const put = (p: string) => {
      if (++count > maxPaths) throw new GuestkitError('LIMIT', `${path}: more than ${maxPaths} paths`);
      emit(p);
    };
    /** Names that could not go into their subtree (it is not listed): in order, here. */
    const putAll = (base: string, names: string[] | null) => {
      if (names) for (const n of sortStringsByBytes(names)) put(base + n);
    };
    // A directory's keys (its names, with `extra` as more names, and its subtrees), or
    // `null` (and onError) when it cannot be read.
    const open = (mount: Mount, ino: number, base: string, extra: string[] | null, twins = false): Level | null => {
      const keys: string[] = [];
      let dirs: number[] | null = null;
      let subMounts: { mount: Mount; ino: number }[] | null = null;
      try {
        this.eachEntry(mount, ino, (name, eino, emount, etype) => {
          let type = etype;
          if (type === 'unknown') {
            try {
              type = fileTypeOfMode(emount.fs.stat(eino).mode);
            } catch { /* left unknown, as walk() leaves it */ }
          }
          if (type === 'dir') {
            (dirs ??= []).push(keys.length);
            (subMounts ??= []).push({ mount: emount, ino: eino });
          }
          keys.push(name);
        });
      } catch (e) {
        if (!(e instanceof GuestkitError)) throw e;
        onError(guestPath(base), e);
        return null;
      }
      const n = keys.length;
      if (extra) for (const x of extra) keys.push(x);
      let subs: Map<string, Sub> | null = null;
      if (dirs !== null) {
        const at = dirs as number[];
        const to = subMounts as unknown as { mount: Mount; ino: number }[];
        // Subtrees; a name given a second time (a corrupt or hostile directory) is not
        // descended into (walk() marks it `duplicate`), nor is a bad name. Twins are rare:
        // they are looked for in the sorted keys (as neighbours), and only then (`twins`) is
        // the directory read again to tell the first of them by readdir order.
        let second: Set<number> | null = null;
        if (twins) {
          second = new Set();
          const seen = new Set<string>();
          for (let i = 0; i < n; i++) {
            if (seen.has(keys[i])) second.add(i);
            seen.add(keys[i]);
          }
        }
        subs = new Map<string, Sub>();
        for (let k = 0; k < at.length; k++) {
          const name = keys[at[k]];
          if (!isBadName(name) && !second?.has(at[k])) subs.set(`${name}/`, { mount: to[k].mount, ino: to[k].ino, extra: null });
        }
        for (const key of subs.keys()) keys.push(key);
        // Hostile names holding '/' (of this directory, or passed down to it): inside the
        // subtree their head names, when it is listed here. Keys: names, extra, subtrees.
        const names = n + (extra ? extra.length : 0);
        let w = 0;
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i];
          const slash = i < names ? key.indexOf('/') : -1;
          const sub = slash >= 0 ? subs.get(key.slice(0, slash + 1)) : undefined;
          if (sub) (sub.extra ??= []).push(key.slice(slash + 1));
          else keys[w++] = key;
        }
        keys.length = w;
      }
      sortStringsByBytes(keys);
      if (subs !== null && !twins && hasNeighbourTwins(keys)) return open(mount, ino, base, extra, true);
      return { base, keys, i: 0, subs, mount, ino };
    };
    const first = open(r.mount, r.ino, prefix, null);
    if (first) levels.push(first);
    while (levels.length > 0) {
      const lv = levels[levels.length - 1];
      if (lv.i >= lv.keys.length) {
        levels.pop();
        continue;
      }
      const key = lv.keys[lv.i++];
      // Subtree keys end in '/' (a name does only when hostile, and then has no subtree).
      const sub = lv.subs !== null && key.charCodeAt(key.length - 1) === 0x2f ? lv.subs.get(key) : undefined;
      if (sub === undefined) {
        put(lv.base + key);
        continue;
      }
      const base = lv.base + key;
      // walk()'s checks, where walk() makes them: when about to descend.
      if (levels.some((a) => a.ino === sub.ino && a.mount === sub.mount)) {
        onError(guestPath(base), new GuestkitError('LOOP', 'directory is its own ancestor (hard-linked directory loop); not descending'));
        putAll(base, sub.extra);
        continue;
      }
      if (levels.length >= LIMITS.maxWalkDepth) {
        onError(guestPath(base), new GuestkitError('LIMIT', `directories nested deeper than ${LIMITS.maxWalkDepth}; not descending`));
        putAll(base, sub.extra);
        continue;
      }
      const next = open(sub.mount, sub.ino, base, sub.extra);
      if (next) levels.push(next);
      else putAll(base, sub.extra);
    }
    return out;
  }

  readlink(path: string): string {
    const r = this.resolve(path, { follow: false });
    if (fileTypeOfMode(r.fs.stat(r.ino).mode) !== 'symlink') {
      throw new GuestkitError('NOT_FOUND', `${path}: Invalid argument (not a symbolic link)`);
    }
    return r.fs.readlink(r.ino);
  }

  statfs(path: string): StatFs {
    return this.resolve(path, { follow: true }).fs.statfs();
  }

  listxattr(path: string, follow = false): string[] {
    const r = this.resolve(path, { follow });
    return r.fs.listxattr(r.ino);
  }

  getxattr(path: string, name: string, follow = false): Uint8Array | null {
    const r = this.resolve(path, { follow });
    return r.fs.getxattr(r.ino, name);
  }

  /** Resolve a path that must be a regular file (following symlinks). */
  openFile(path: string): Resolved & { stat: Stat } {
    const r = this.resolve(path, { follow: true });
    const st = r.fs.stat(r.ino);
    const t = fileTypeOfMode(st.mode);
    if (t === 'dir') throw new GuestkitError('IS_DIR', `${path}: Is a directory`);
    if (t !== 'file') throw new GuestkitError('UNSUPPORTED', `${path}: not a regular file (${t})`);
    return { ...r, stat: st };
  }

  /** Read up to `length` bytes at `pos` of a regular file. */
  readFile(path: string, pos = 0, length?: number): Uint8Array {
    const f = this.openFile(path);
    const want = Math.max(0, Math.min(length ?? f.stat.size - pos, f.stat.size - pos));
    if (want > LIMITS.maxAlloc) {
      throw new GuestkitError('LIMIT', `${path}: reading ${want} bytes at once exceeds ${LIMITS.maxAlloc}; use a stream`);
    }
    const buf = new Uint8Array(want);
    let done = 0;
    while (done < want) {
      const n = f.fs.read(f.ino, buf.subarray(done), pos + done);
      if (n <= 0) break;
      done += n;
    }
    return done === want ? buf : buf.subarray(0, done);
  }

  /** A regular file's bytes in READ_CHUNK pieces, read as they are asked for (fileChunks). */
  readChunks(path: string, opts: { start?: number; end?: number } = {}): Generator<Buffer> {
    const f = this.openFile(path);
    return fileChunks(f.fs, f.ino, f.stat.size, opts);
  }

  /** A Readable over a regular file, read in READ_CHUNK pieces (never the whole file in memory). */
  createReadStream(path: string, opts: { start?: number; end?: number } = {}): Readable {
    const f = this.openFile(path);
    return fileReadStream(f.fs, f.ino, f.stat.size, opts);
  }

  /**
   * Depth-first walk under directory `path` (following a symlink given as `path`), in the
   * order virt-ls -lR visits: each directory's entries (sorted), each followed by its own
   * subtree. Mountpoints are crossed. A directory is never entered twice on one branch
   * (hard-linked directory loops), nor entered when its name is bad; unreadable directories
   * are reported to onError and skipped.
   */
  *walk(path: string, opts: WalkOptions = {}): Generator<WalkEntry> {
    const r = this.resolve(path, { follow: true });
    this.requireDir(r, path);
    const sort = opts.sort ?? true;
    // onError gets the path and an error whose message does not repeat it.
    const onError = opts.onError ?? ((d: string, e: GuestkitError) => { throw new GuestkitError(e.code, `${d}: ${e.message}`, { cause: e }); });
    // Paths of entries are built from `path` as given (libguestfs's full_path: "/etc/" gives
    // "/etc//x"); callers normalise first if they want canonical paths.
    const startPath = path;
    interface Level { entries: WalkEntry[]; i: number; key: string }
    const ancestors = new Set<string>();
    const levels: Level[] = [];
    const open = (mount: Mount, ino: number, dirPath: string, depth: number): Level | null => {
      const key = `${mount.id}:${ino}`;
      // One entry object per name, built as readdir gives them (a recursive listing makes
      // tens of thousands); sorted afterwards (stable: of two equal names the one readdir
      // gave second is the duplicate either way).
      const entries: WalkEntry[] = [];
      const names = new Set<string>();
      try {
        this.eachEntry(mount, ino, (name, eino, emount, etype) => {
          const duplicate = names.has(name);
          names.add(name);
          let type = etype;
          if (type === 'unknown') {
            try {
              type = fileTypeOfMode(emount.fs.stat(eino).mode);
            } catch { /* left unknown: reported when the tool stats it */ }
          }
          entries.push({
            path: joinGuestPath(dirPath, name), dir: dirPath, name, depth, mount: emount, ino: eino, type,
            badName: isBadName(name), duplicate,
          });
        });
      } catch (e) {
        if (e instanceof GuestkitError) {
          onError(dirPath, e);
          return null;
        }
        throw e;
      }
      if (sort) sortByBytes(entries, entryName);
      return { entries, i: 0, key };
    };
    const first = open(r.mount, r.ino, startPath, 1);
    if (!first) return;
    ancestors.add(first.key);
    levels.push(first);
    while (levels.length > 0) {
      const lv = levels[levels.length - 1];
      if (lv.i >= lv.entries.length) {
        ancestors.delete(lv.key);
        levels.pop();
        continue;
      }
      const e = lv.entries[lv.i++];
      yield e;
      if (e.type !== 'dir' || e.badName || e.duplicate) continue;
      if (opts.descend && !opts.descend(e)) continue;
      const key = `${e.mount.id}:${e.ino}`;
      if (ancestors.has(key)) {
        onError(e.path, new GuestkitError('LOOP', 'directory is its own ancestor (hard-linked directory loop); not descending'));
        continue;
      }
      if (levels.length >= LIMITS.maxWalkDepth) {
        onError(e.path, new GuestkitError('LIMIT', `directories nested deeper than ${LIMITS.maxWalkDepth}; not descending`));
        continue;
      }
      const next = open(e.mount, e.ino, e.path, e.depth + 1);
      if (!next) continue;
      ancestors.add(next.key);
      levels.push(next);
    }
  }
}

/**
 * The bytes of (fs, ino), `size` bytes long, from opts.start to opts.end (inclusive), in
 * READ_CHUNK pieces read synchronously: a tool that writes them out as they come never holds a
 * whole file, and needs no stream machinery (`guestkit cat` of a small file).
 */
export function* fileChunks(fs: Filesystem, ino: number, size: number, opts: { start?: number; end?: number } = {}): Generator<Buffer> {
  let pos = opts.start ?? 0;
  const end = Math.min(size, opts.end === undefined ? size : opts.end + 1);
  while (pos < end) {
    const want = Math.min(READ_CHUNK, end - pos);
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = fs.read(ino, buf.subarray(got), pos + got);
      if (n <= 0) break;
      got += n;
    }
    // The inode says `size` but the data ends early: the file is truncated on disk.
    if (got === 0) throw new GuestkitError('CORRUPT', `inode ${ino}: data ends at ${pos}, before its size ${size}`);
    pos += got;
    yield got === want ? buf : buf.subarray(0, got);
  }
}

/** A Readable over (fs, ino) of `size` bytes, in READ_CHUNK reads (fileChunks). */
export function fileReadStream(fs: Filesystem, ino: number, size: number, opts: { start?: number; end?: number } = {}): Readable {
  const chunks = fileChunks(fs, ino, size, opts);
  return new Readable({
    highWaterMark: READ_CHUNK,
    read() {
      try {
        const r = chunks.next();
        this.push(r.done ? null : r.value);
      } catch (e) {
        this.destroy(e as Error);
      }
    },
  });
}

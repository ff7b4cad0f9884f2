// The FUSE server: fuse-native's path-based operations answered from the worker pool.
// Read-only: the mount carries the "ro" option (the kernel answers writes with EROFS) and
// every write operation answers EROFS too.
//
// fuse-native limits what reaches the kernel, documented in the README:
//  - times are passed in milliseconds (nanoseconds below 1 ms are lost, times before 1970
//    show as 1970);
//  - st_ino is 32 bits; "use_ino" is added to the mount options so the guest's inode
//    numbers are shown. Inodes of filesystems other than the one on "/" (and inode numbers
//    that do not fit) are renumbered from 0xffffffff down, as st_dev cannot be set per file;
//  - readdir hands all names of a directory to the kernel at once (FUSE 2.9 high-level API).

import { createRequire } from 'node:module';
import { GuestkitError } from '@guestkit/core';
import { WorkerPool } from './pool.js';
import {
  EIO, EROFS, STAT_FIELDS, type DirReply, type Reply, type WireStat,
} from './protocol.js';

const require = createRequire(import.meta.url);

type Cb = (err: number, ...rest: unknown[]) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type FuseClass = any;

/** An id mapping GUEST:HOST:COUNT (--uid-map / --gid-map). */
export interface IdMap { guest: number; host: number; count: number }

export function parseIdMap(s: string, what: string): IdMap {
  const m = /^(\d+):(\d+)(?::(\d+))?$/.exec(s);
  if (!m) throw new GuestkitError('USAGE', `--${what}-map '${s}': expected GUEST:HOST[:COUNT]`);
  return { guest: Number(m[1]), host: Number(m[2]), count: m[3] === undefined ? 1 : Number(m[3]) };
}

function mapId(id: number, maps: readonly IdMap[]): number {
  for (const m of maps) if (id >= m.guest && id < m.guest + m.count) return m.host + (id - m.guest);
  return id;
}

export interface ServerOptions {
  mountpoint: string;
  pool: WorkerPool;
  /** Mount id whose inode numbers are shown as they are (the filesystem on "/"). */
  rootMountId: number;
  /** Extra FUSE -o options (allow_other, ...). */
  fuseOptions: string[];
  fsname: string;
  uidMap: IdMap[];
  gidMap: IdMap[];
  log: (msg: string) => void;
  debug?: boolean;
  /** Kernel cache time (s) for entries and attributes (--dir-cache-timeout). */
  cacheTimeout?: number;
}

export interface Server {
  fuse: FuseClass;
  mount(): Promise<void>;
  unmount(): Promise<void>;
}

const MAX_INO = 0xffffffff;
/** Paths whose stat the server keeps (a read-only guest never changes). */
const STAT_CACHE_MAX = 200_000;
/** Names kept in the directory-listing cache (all directories together). */
const DIR_CACHE_NAMES_MAX = 200_000;
/** Bytes a worker reads ahead at once for the kernel's (at most 128 KiB) reads. */
export const READ_CHUNK = 1 << 20;
/** Read-ahead pieces kept (READ_CHUNK each): 32 MiB at most. */
const READ_CHUNKS_MAX = 32;
/** Kernel cache times (s) for entries and attributes: nothing changes under a read-only mount. */
export const CACHE_TIMEOUT = 60;

export function createServer(o: ServerOptions): Server {
  const Fuse = require('fuse-native') as FuseClass;
  const { pool } = o;

  // (mountId, ino) → shown inode number, for the mounts that are not shown as they are.
  const inoMap = new Map<string, number>();
  let nextIno = MAX_INO;
  const inoOf = (mountId: number, ino: number): number => {
    if (mountId === o.rootMountId && ino > 0 && ino < MAX_INO - 0x1000000) return ino;
    const k = `${mountId}:${ino}`;
    let v = inoMap.get(k);
    if (v === undefined) {
      v = nextIno--;
      inoMap.set(k, v);
    }
    return v;
  };

  const loggedEio = new Set<string>();
  const failed = (path: string, r: Reply): number => {
    const errno = r.errno ?? EIO;
    if (errno === EIO && !loggedEio.has(path)) {
      loggedEio.add(path);
      o.log(`${path}: input/output error: ${r.message ?? 'unknown error'}`);
    }
    return errno;
  };

  const toStat = (w: WireStat) => ({
    mode: w.mode, uid: mapId(w.uid, o.uidMap), gid: mapId(w.gid, o.gidMap), size: w.size,
    dev: 0, nlink: w.nlink, ino: inoOf(w.mountId, w.ino), rdev: w.rdev, blksize: w.blksize, blocks: w.blocks,
    atime: w.atime, mtime: w.mtime, ctime: w.ctime,
  });

  // The guest does not change under a read-only mount: stats are cached by path (from getattr
  // and from readdir, which stats every entry), so find/ls -l/du do not come back to a worker
  // for each name. Bounded: cleared when full.
  type FuseStat = ReturnType<typeof toStat>;
  const statCache = new Map<string, FuseStat>();
  const cacheStat = (path: string, st: FuseStat) => {
    if (statCache.size >= STAT_CACHE_MAX) statCache.clear();
    statCache.set(path, st);
  };

  // Directory listings by path (names and the filler's stats), bounded by the names they hold.
  const dirCache = new Map<string, { names: string[]; stats: object[] }>();
  let dirCacheNames = 0;

  // Read-ahead pieces by (path, index): a read-only guest never changes. Bounded, oldest out.
  const chunks = new Map<string, Promise<Reply>>();
  const chunkKey = (path: string, i: number) => `${i}\0${path}`;
  const chunk = (path: string, i: number): Promise<Reply> => {
    const k = chunkKey(path, i);
    let p = chunks.get(k);
    if (p) return p;
    p = pool.request({ op: 'read', path, pos: i * READ_CHUNK, len: READ_CHUNK });
    if (chunks.size >= READ_CHUNKS_MAX) chunks.delete(chunks.keys().next().value as string);
    chunks.set(k, p);
    return p;
  };
  const readExact = (path: string, buf: Buffer, len: number, pos: number, cb: Cb) => {
    pool.request({ op: 'read', path, pos, len }).then((r) => {
      if (r.errno) return cb(failed(path, r));
      const data = r.result as Uint8Array;
      buf.set(data);
      cb(data.length);
    });
  };

  const rofs = (...args: unknown[]) => (args[args.length - 1] as Cb)(EROFS);

  const ops = {
    getattr(path: string, cb: Cb) {
      const c = statCache.get(path);
      if (c) return cb(0, c);
      pool.request({ op: 'getattr', path }).then((r) => {
        if (r.errno) return cb(failed(path, r));
        const st = toStat(r.result as WireStat);
        cacheStat(path, st);
        cb(0, st);
      });
    },
    readdir(path: string, cb: Cb) {
      // The kernel (libfuse 2.9) asks again at every opendir: answered from the cache.
      const c = dirCache.get(path);
      if (c) return cb(0, c.names, c.stats);
      pool.request({ op: 'readdir', path }).then((r) => {
        if (r.errno) return cb(failed(path, r));
        const d = r.result as DirReply;
        // Stats for the filler carry only what FUSE 2.9 uses there: st_ino and the type bits.
        const stats = new Array(d.names.length + 2);
        stats[0] = { mode: 0o040000, mtime: 0, atime: 0, ctime: 0 };
        stats[1] = stats[0];
        const m = d.meta;
        const dir = path === '/' ? '' : path;
        for (let i = 0; i < d.names.length; i++) {
          const k = i * STAT_FIELDS;
          stats[i + 2] = { ino: inoOf(m[k], m[k + 1]), mode: m[k + 2], mtime: 0, atime: 0, ctime: 0 };
          if (!Number.isNaN(m[k + 3])) {
            cacheStat(`${dir}/${d.names[i]}`, toStat({
              mountId: m[k], ino: m[k + 1], mode: m[k + 2], nlink: m[k + 3], uid: m[k + 4], gid: m[k + 5], size: m[k + 6],
              blocks: m[k + 7], blksize: m[k + 8], rdev: m[k + 9], atime: m[k + 10], mtime: m[k + 11], ctime: m[k + 12],
            }));
          }
        }
        const names = ['.', '..', ...d.names];
        if (dirCacheNames + names.length > DIR_CACHE_NAMES_MAX) {
          dirCache.clear();
          dirCacheNames = 0;
        }
        if (names.length <= DIR_CACHE_NAMES_MAX) {
          dirCache.set(path, { names, stats });
          dirCacheNames += names.length;
        }
        cb(0, names, stats);
      });
    },
    readlink(path: string, cb: Cb) {
      pool.request({ op: 'readlink', path }).then((r) => (r.errno ? cb(failed(path, r)) : cb(0, r.result as string)));
    },
    open(path: string, flags: number, cb: Cb) {
      if ((flags & 3) !== 0 || (flags & 0o1000) /* O_TRUNC */) return cb(EROFS);
      // A cached regular file needs no worker to open: reads resolve it themselves.
      if (((statCache.get(path)?.mode ?? 0) & 0o170000) === 0o100000) return cb(0, 0);
      pool.request({ op: 'open', path }).then((r) => (r.errno ? cb(failed(path, r)) : cb(0, 0)));
    },
    read(path: string, _fd: number, buf: Buffer, len: number, pos: number, cb: Cb) {
      // Served from READ_CHUNK-sized pieces read ahead by a worker (one worker round trip
      // for many of the kernel's 128 KiB reads); a piece that fails is read again exactly,
      // so that EIO stays with the bytes that cannot be read.
      const first = Math.floor(pos / READ_CHUNK);
      const last = Math.floor((pos + Math.max(len, 1) - 1) / READ_CHUNK);
      if (len > READ_CHUNK || last - first > 1) return readExact(path, buf, len, pos, cb);
      const pieces = first === last ? [chunk(path, first)] : [chunk(path, first), chunk(path, last)];
      Promise.all(pieces).then((rs) => {
        if (rs.some((r) => r.errno)) {
          for (let i = 0; i < rs.length; i++) if (rs[i].errno) chunks.delete(chunkKey(path, first + i));
          return readExact(path, buf, len, pos, cb);
        }
        let done = 0;
        for (let i = 0; i < rs.length && done < len; i++) {
          const data = rs[i].result as Uint8Array;
          const base = (first + i) * READ_CHUNK;
          const from = pos + done - base;
          if (from >= data.length) break;
          const n = Math.min(len - done, data.length - from);
          buf.set(data.subarray(from, from + n), done);
          done += n;
          if (data.length < READ_CHUNK) break; // end of file
        }
        cb(done);
      });
    },
    release(_path: string, _fd: number, cb: Cb) {
      cb(0);
    },
    statfs(path: string, cb: Cb) {
      pool.request({ op: 'statfs', path }).then((r) => {
        if (r.errno) return cb(failed(path, r));
        const s = r.result as { bsize: number; frsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number; favail: number; namemax: number };
        // fuse-native passes 32-bit counts: scale big filesystems to a larger fragment size.
        let { frsize, blocks, bfree, bavail } = s;
        while (blocks > 0xffffffff) { frsize *= 2; blocks = Math.floor(blocks / 2); bfree = Math.floor(bfree / 2); bavail = Math.floor(bavail / 2); }
        const c32 = (n: number) => Math.min(n, 0xffffffff);
        cb(0, { bsize: s.bsize, frsize, blocks, bfree, bavail, files: c32(s.files), ffree: c32(s.ffree), favail: c32(s.favail), namemax: s.namemax, flag: 1 /* ST_RDONLY */ });
      });
    },
    listxattr(path: string, cb: Cb) {
      pool.request({ op: 'listxattr', path }).then((r) => (r.errno ? cb(failed(path, r)) : cb(0, r.result as string[])));
    },
    getxattr(path: string, name: string, _pos: number, cb: Cb) {
      pool.request({ op: 'getxattr', path, name }).then((r) => {
        if (r.errno) return cb(failed(path, r));
        const v = r.result as Uint8Array | null;
        cb(0, v === null ? null : Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      });
    },
    access(path: string, mode: number, cb: Cb) {
      if (mode & 2 /* W_OK */) return cb(EROFS);
      pool.request({ op: 'access', path }).then((r) => (r.errno ? cb(failed(path, r)) : cb(0)));
    },
    // Writes: read-only filesystem.
    write: rofs, create: rofs, truncate: rofs, ftruncate: rofs, utimens: rofs, chown: rofs, chmod: rofs,
    mknod: rofs, setxattr: rofs, removexattr: rofs, unlink: rofs, rename: rofs, link: rofs, symlink: rofs,
    mkdir: rofs, rmdir: rofs,
  };

  // "ro" and "use_ino" are not among fuse-native's options: add them to the option string.
  const FuseBase = Fuse as new (mnt: string, ops: object, opts: object) => {
    _fuseOptions(): string;
    mount(cb: (e: Error | null) => void): void;
    unmount(cb: (e: Error | null) => void): void;
  };
  class GuestFuse extends FuseBase {
    override _fuseOptions(): string {
      const base = super._fuseOptions();
      const t = o.cacheTimeout ?? CACHE_TIMEOUT;
      const extra = ['ro', 'use_ino', 'kernel_cache', `entry_timeout=${t}`, `attr_timeout=${t}`,
        `negative_timeout=${t}`, ...o.fuseOptions].join(',');
      return base ? `${base},${extra}` : `-o${extra}`;
    }
  }
  const fuse = new GuestFuse(o.mountpoint, ops, {
    fsname: o.fsname, subtype: 'guestkit', debug: !!o.debug, timeout: false,
  });

  return {
    fuse,
    mount: () => new Promise<void>((resolve, reject) => fuse.mount((e: Error | null) => (e ? reject(e) : resolve()))),
    unmount: () => new Promise<void>((resolve, reject) => fuse.unmount((e: Error | null) => (e ? reject(e) : resolve()))),
  };
}

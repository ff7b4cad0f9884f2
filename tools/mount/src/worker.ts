// A guest-I/O worker: opens the guest itself (same drives and mounts as the server) and
// answers the server's requests synchronously with the core readers. Several run at once,
// so many FUSE reads are in flight while the main thread keeps answering callbacks.

import { parentPort, workerData } from 'node:worker_threads';
import { GuestkitError, fileTypeOfMode, isBadName, warnOnce, type Filesystem, type Timespec } from '@guestkit/core';
import { openGuestFromArgs, type CommonArgs } from '@guestkit/clikit';
import {
  EIO, EISDIR, ELOOP, ENOENT, ENOTDIR, EINVAL,
  STAT_FIELDS, type DirReply, type Reply, type Request, type WireStat, type WorkerInit,
} from './protocol.js';

const init = workerData as WorkerInit;
const guest = openGuestFromArgs(init.argv as unknown as CommonArgs, init.rawArgs);
const view = guest.view;

/** Resolved regular files by path: a read-only guest never changes, so this never goes stale. */
const FILE_CACHE_MAX = 1024;
const files = new Map<string, { fs: Filesystem; ino: number; size: number }>();

function fileOf(path: string): { fs: Filesystem; ino: number; size: number } {
  let f = files.get(path);
  if (f) return f;
  const r = view.openFile(path);
  f = { fs: r.fs, ino: r.ino, size: r.stat.size };
  if (files.size >= FILE_CACHE_MAX) files.delete(files.keys().next().value as string);
  files.set(path, f);
  return f;
}

const ms = (t: Timespec): number => Math.max(0, t.sec * 1000 + Math.floor(t.nsec / 1e6));

const TYPE_MODE: Record<string, number> = {
  file: 0o100000, dir: 0o040000, symlink: 0o120000, chardev: 0o020000, blockdev: 0o060000,
  fifo: 0o010000, socket: 0o140000, unknown: 0,
};

function handle(req: Request): { result?: unknown; transfer?: ArrayBuffer[] } {
  switch (req.op) {
    case 'getattr': {
      const r = view.resolve(req.path, { follow: false });
      const st = r.fs.stat(r.ino);
      const w: WireStat = {
        mountId: r.mount.id, ino: r.ino, mode: st.mode, nlink: st.nlink, uid: st.uid, gid: st.gid,
        size: st.size, blocks: st.blocks, blksize: st.blksize, rdev: st.rdev,
        atime: ms(st.atime), mtime: ms(st.mtime), ctime: ms(st.ctime),
      };
      return { result: w };
    }
    case 'readdir': {
      // One pass over the directory's entries (the fs streams them), each entry's inode
      // stat'ed here so the server can answer the getattr calls that follow (find, ls -l, du)
      // without coming back: names, and a flat array of STAT_FIELDS numbers per entry
      // (NaN where the inode could not be read), transferred rather than copied.
      const r = view.resolve(req.path, { follow: true });
      if (fileTypeOfMode(r.fs.stat(r.ino).mode) !== 'dir') throw new GuestkitError('NOT_DIR', `${req.path}: Not a directory`);
      // Names the kernel cannot take ('/', NUL, '.', '..': it fails the whole readdir with
      // EIO) and second entries of one name are left out, and said (issue 7).
      const seen = new Set<string>();
      const entries = view.entriesOf(r.mount, r.ino).filter((e) => {
        if (isBadName(e.name)) warnOnce(`${req.path}: refusing entry named ${JSON.stringify(e.name)} (not a usable file name)`);
        else if (seen.has(e.name)) warnOnce(`${req.path}: second entry named ${JSON.stringify(e.name)} left out (corrupt or hostile directory)`);
        else return seen.add(e.name);
        return false;
      });
      const names: string[] = new Array(entries.length);
      const meta = new Float64Array(entries.length * STAT_FIELDS).fill(Number.NaN);
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        names[i] = e.name;
        const o = i * STAT_FIELDS;
        meta[o] = e.mount.id;
        meta[o + 1] = e.ino;
        meta[o + 2] = TYPE_MODE[e.type] ?? 0;
        try {
          const st = e.mount.fs.stat(e.ino);
          meta.set([st.mode, st.nlink, st.uid, st.gid, st.size, st.blocks, st.blksize, st.rdev, ms(st.atime), ms(st.mtime), ms(st.ctime)], o + 2);
        } catch (err) {
          if (!(err instanceof GuestkitError)) throw err;
          meta[o + 3] = Number.NaN; // stat failed: getattr will ask again and report it
        }
      }
      const d: DirReply = { names, meta };
      return { result: d, transfer: [meta.buffer as ArrayBuffer] };
    }
    case 'readlink': {
      const r = view.resolve(req.path, { follow: false });
      if (fileTypeOfMode(r.fs.stat(r.ino).mode) !== 'symlink') throw new GuestkitError('INVALID', `${req.path}: not a symbolic link`);
      return { result: r.fs.readlink(r.ino) };
    }
    case 'open': {
      const f = fileOf(req.path);
      return { result: f.size };
    }
    case 'read': {
      const f = fileOf(req.path);
      const want = Math.max(0, Math.min(req.len, f.size - req.pos));
      const buf = new Uint8Array(want);
      let done = 0;
      while (done < want) {
        const n = f.fs.read(f.ino, buf.subarray(done), req.pos + done);
        if (n <= 0) break;
        done += n;
      }
      if (done < want && done === 0) {
        throw new GuestkitError('CORRUPT', `inode ${f.ino}: data ends at ${req.pos}, before its size ${f.size}`);
      }
      return { result: buf.subarray(0, done), transfer: [buf.buffer as ArrayBuffer] };
    }
    case 'statfs':
      return { result: view.statfs(req.path) };
    case 'listxattr':
      return { result: view.listxattr(req.path, false) };
    case 'getxattr': {
      const v = view.getxattr(req.path, req.name, false);
      return { result: v === null ? null : v };
    }
    case 'access':
      view.resolve(req.path, { follow: false });
      return { result: 0 };
  }
}

function errnoOf(e: GuestkitError): number {
  switch (e.code) {
    case 'NOT_FOUND': return ENOENT;
    case 'NOT_DIR': return ENOTDIR;
    case 'IS_DIR': return EISDIR;
    case 'LOOP': return ELOOP;
    case 'INVALID': return EINVAL;
    default: return EIO;
  }
}

parentPort!.on('message', (req: Request) => {
  let reply: Reply;
  let transfer: ArrayBuffer[] | undefined;
  try {
    const out = handle(req);
    reply = { id: req.id, result: out.result };
    transfer = out.transfer;
  } catch (e) {
    if (e instanceof GuestkitError) {
      const errno = errnoOf(e);
      reply = { id: req.id, errno };
      if (errno === EIO) reply.message = e.message;
    } else {
      reply = { id: req.id, errno: EIO, message: `internal error: ${(e as Error)?.message ?? String(e)}` };
    }
  }
  parentPort!.postMessage(reply, transfer ?? []);
});

parentPort!.postMessage({ id: 0, result: 'ready' } satisfies Reply);

// A guest directory as a tar stream, as `tar -C /sysroot/DIR -cf - .` makes it in the
// libguestfs appliance (daemon/tar.c do_tar_out, GNU tar): entries "./", "./etc/",
// "./etc/fstab"...; numeric uid/gid and no owner names (the appliance has no /etc/passwd);
// whole-second mtimes; symlinks; hard links as links to the first
// name of the inode; device nodes and fifos; sockets skipped (GNU tar: "socket ignored");
// xattrs as SCHILY.xattr.* pax records with --xattrs. Files stream through in 1 MiB reads
// (sparse files are read hole by hole as zeros, never whole). Names a hostile filesystem
// could use to escape ('/', NUL, ".", "..") are refused with a warning.

import type { Pack } from 'tar-stream';

/** tar-stream's header argument (its typings leave out the 'pax-header' type it supports). */
type Headers = Omit<Parameters<Pack['entry']>[0], 'type'> & { type?: string };
type Entry = Parameters<Pack['entry']>[0];
import {
  GuestkitError, fileTypeOfMode, major, minor, fileReadStream, warn,
  type GuestView, type Filesystem, type Stat, type Mount,
} from '@guestkit/core';
import { paxHeader, paxEntryBlocks, isPlainAscii } from './pax.js';

export interface TarOptions {
  /** guestfish tar-out numericowner:true; no names are written either way (see below). */
  numericOwner?: boolean;
  xattrs?: boolean;
  /** Glob patterns (tar --exclude): matched against each entry's name and its "./path". */
  excludes?: string[];
}

export interface TarStats {
  entries: number;
  bytes: number;
  /** Entries left out (bad names, sockets, excluded). */
  skipped: number;
}

/** ustar's limits: 100-byte name (+155 prefix), 100-byte link name, 7 octal digits of id, 11 of mtime. */
const USTAR_NAME = 100;
const USTAR_ID_MAX = 0o7777777;
const USTAR_TIME_MAX = 0o77777777777;

/** Wait until a writable wants more, or is gone (then the next write reports why). */
function drained(w: NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      w.off('error', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
    w.on('error', done);
  });
}

/** A simplified fnmatch: *, ? and [...] (no '/' special-casing: tar's default --wildcards-match-slash). */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const j = glob.indexOf(']', i + 2);
      if (j < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, j);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/**
 * Write the tree under guest directory `dir` into `pack` (tar-stream's pack(), which the
 * caller pipes somewhere) and finalize it. Resolves when the last entry is queued; the
 * caller waits for its pipeline to finish.
 */
export async function writeGuestTar(view: GuestView, dir: string, pack: Pack, opts: TarOptions = {}): Promise<TarStats> {
  const top = view.resolve(dir, { follow: true });
  const topSt = top.fs.stat(top.ino);
  if (fileTypeOfMode(topSt.mode) !== 'dir') throw new GuestkitError('NOT_DIR', `${dir}: not a directory`);
  const excludes = (opts.excludes ?? []).map(globToRegExp);
  const stats: TarStats = { entries: 0, bytes: 0, skipped: 0 };
  let placeholder = 0;

  let failure: unknown;
  pack.on('error', (e: unknown) => { failure = e; });

  // GNU tar in the appliance finds no /etc/passwd or /etc/group there: no names, ever, so
  // tar -x maps owners by number. (--numeric-owner is accepted and changes nothing.)
  const owner = (_id: number): string | undefined => undefined;

  /** Emit one entry; file data is streamed from (fs, ino). */
  const emit = async (name: string, st: Stat, fs: Filesystem, ino: number, extra: { type: string; linkname?: string }) => {
    if (failure) throw failure;
    const records: [string, Uint8Array | string][] = [];
    let headerName = name;
    if (!isPlainAscii(name) || Buffer.byteLength(name) > USTAR_NAME) {
      records.push(['path', name]);
      headerName = `./@PaxHeader-name-${++placeholder}${extra.type === 'directory' ? '/' : ''}`;
    }
    let linkname = extra.linkname;
    if (linkname !== undefined && (!isPlainAscii(linkname) || Buffer.byteLength(linkname) > USTAR_NAME || linkname.includes('\0'))) {
      records.push(['linkpath', linkname]);
      linkname = `@PaxHeader-link-${++placeholder}`;
    }
    let uid = st.uid;
    let gid = st.gid;
    if (uid > USTAR_ID_MAX) { records.push(['uid', String(uid)]); uid = 0; }
    if (gid > USTAR_ID_MAX) { records.push(['gid', String(gid)]); gid = 0; }
    let mtime = st.mtime.sec;
    if (mtime < 0 || mtime > USTAR_TIME_MAX) { records.push(['mtime', String(mtime)]); mtime = 0; }
    if (opts.xattrs) {
      for (const x of fs.listxattr(ino)) {
        if (x.startsWith('system.posix_acl_') || x === 'security.selinux') continue; // tar's --acls / --selinux
        const v = fs.getxattr(ino, x);
        if (v !== null) records.push([`SCHILY.xattr.${x}`, v]);
      }
    }
    if (records.length) {
      // tar-stream's own pax encoder takes strings only; xattr values are bytes. Between
      // entries (the previous one is finished) the pack's queue is ours: the 'x' entry goes
      // straight in, before the header of the entry it describes.
      pack.push(paxEntryBlocks(paxHeader(records), mtime));
    }
    const isFile = extra.type === 'file';
    const h: Headers = {
      // The whole st_mode: tar-stream masks it to 07777, but would replace a 0 (a file with
      // no permission bits) by its default 0644.
      name: headerName, type: extra.type, mode: st.mode,
      uid, gid, uname: owner(st.uid), gname: owner(st.gid), mtime: new Date(mtime * 1000),
      size: isFile ? st.size : 0,
    };
    if (linkname !== undefined) h.linkname = linkname;
    if (extra.type === 'character-device' || extra.type === 'block-device') {
      h.devmajor = major(st.rdev);
      h.devminor = minor(st.rdev);
    }
    if (isFile && st.size > 0) {
      await streamEntry(h, fs, ino, st.size, name);
      stats.bytes += st.size;
    } else {
      await entry(h);
    }
    stats.entries++;
  };

  const entry = (h: Headers) =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      // A 'file' entry ends when its body does: give an empty file its (empty) body.
      const sink = h.type === 'file' ? pack.entry(h as Entry, Buffer.alloc(0), cb) : pack.entry(h as Entry, cb);
      sink.on('error', () => { /* reported through the callback */ });
    });

  const streamEntry = async (h: Headers, fs: Filesystem, ino: number, size: number, name: string) => {
    const sink = pack.entry(h as Entry);
    const finished = new Promise<void>((resolve, reject) => {
      sink.on('error', (e: unknown) => { failure ??= e; reject(e); });
      sink.on('finish', resolve);
    });
    finished.catch(() => { /* surfaced through `failure` */ });
    try {
      for await (const chunk of fileReadStream(fs, ino, size)) {
        if (!sink.write(chunk)) await drained(sink);
        if (failure) throw failure;
      }
    } catch (e) {
      // The header promised `size` bytes that cannot be read: the archive is unusable and the
      // caller removes it.
      sink.destroy(e as Error);
      throw new GuestkitError(e instanceof GuestkitError ? e.code : 'IO', `${name}: ${(e as Error).message}`, { cause: e });
    }
    sink.end(undefined);
    await finished;
  };

  const excluded = (rel: string, name: string) => excludes.some((re) => re.test(name) || re.test(rel) || re.test(rel.slice(2)));

  // Hard links: inode (per mount instance) → first archive name.
  const seen = new Map<string, string>();
  await emit('./', topSt, top.fs, top.ino, { type: 'directory' });
  const rel = (p: string) => `.${p.slice(dir.length === 1 ? 0 : dir.length)}`;
  const walkErrors: GuestkitError[] = [];
  for (const e of view.walk(dir, {
    onError: (p, err) => {
      // A directory loop is left out like GNU tar leaves out what it has already archived;
      // a directory that cannot be read makes the archive incomplete: an error.
      if (err.code !== 'LOOP') walkErrors.push(err);
      warn(`${p}: ${err.message}`);
    },
    descend: (d) => !excluded(rel(d.path), d.name),
  })) {
    const name = rel(e.path);
    if (e.badName) {
      warn(`${e.dir}: refusing entry named ${JSON.stringify(e.name)} (not a usable file name)`);
      stats.skipped++;
      continue;
    }
    if (e.duplicate) {
      warn(`${e.dir}: second entry named ${JSON.stringify(e.name)} left out (corrupt or hostile directory)`);
      stats.skipped++;
      continue;
    }
    if (excluded(name, e.name)) {
      stats.skipped++;
      continue;
    }
    const fs = e.mount.fs;
    const st = fs.stat(e.ino);
    const type = fileTypeOfMode(st.mode);
    const key = `${(e.mount as Mount).id}:${e.ino}`;
    if (type !== 'dir' && st.nlink > 1) {
      const first = seen.get(key);
      if (first !== undefined) {
        await emit(name, st, fs, e.ino, { type: 'link', linkname: first });
        continue;
      }
      seen.set(key, name);
    }
    switch (type) {
      case 'dir': await emit(`${name}/`, st, fs, e.ino, { type: 'directory' }); break;
      case 'file': await emit(name, st, fs, e.ino, { type: 'file' }); break;
      case 'symlink': await emit(name, st, fs, e.ino, { type: 'symlink', linkname: fs.readlink(e.ino) }); break;
      case 'chardev': await emit(name, st, fs, e.ino, { type: 'character-device' }); break;
      case 'blockdev': await emit(name, st, fs, e.ino, { type: 'block-device' }); break;
      case 'fifo': await emit(name, st, fs, e.ino, { type: 'fifo' }); break;
      default:
        warn(`${e.path}: ${type === 'socket' ? 'socket' : 'unknown file type'} ignored`);
        stats.skipped++;
    }
  }
  pack.finalize();
  if (walkErrors.length) {
    throw new GuestkitError(walkErrors[0].code, `${walkErrors.length} director${walkErrors.length === 1 ? 'y' : 'ies'} could not be read (first: ${walkErrors[0].message})`);
  }
  return stats;
}

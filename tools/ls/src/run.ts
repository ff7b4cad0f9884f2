// guestkit ls, as virt-ls (guestfs-tools ls/ls.c) in its four modes:
//   plain  guestfs_ls: the names in the directory, sorted (strcmp);
//   -l     guestfs_ll: `ls -la` of the directory's real path, as GNU ls prints it;
//   -R     guestfs_find: every path below, relative to the directory, sorted as a whole;
//   -lR    visit(): the directory itself, then each entry (sorted) followed by its subtree,
//          one show_file line each, with --csv, -h, --uids, --times..., --extra-stats and
//          --checksum[=TYPE] (which only -lR accepts, as virt-ls).
// A directory that cannot be read is reported as a warning and the listing goes on; the exit
// status is then 1. --json: one JSON object per line and entry.
// GUESTKIT_NOW (seconds since the epoch) fixes "now" for --time-relative/--time-days and -l.

import { createHash, type Hash } from 'node:crypto';
import { hideBin } from 'yargs/helpers';
import {
  GuestkitError, fileTypeOfMode, sortByBytes, sortStringsByBytes, warn, S_IFMT, S_IFREG, S_IFLNK,
  type GuestView, type GuestStat, type Filesystem,
} from '@guestkit/core';
import { openGuestFromArgs, runTool, writeOut, reportError, isVerbose } from '@guestkit/clikit';
import type { LsArgs } from './command.js';
import { lsLrLine, formatLl, type LsLrOptions, type LlEntry } from './format.js';
import { cksumCrc } from './cksum.js';

export const CHECKSUM_TYPES = ['crc', 'md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;

/** --checksum[=TYPE] / --checksums[=TYPE] as getopt reads an optional argument: only with '='. */
export function checksumArg(rawArgs: readonly string[]): string | undefined {
  let v: string | undefined;
  for (const a of rawArgs) {
    if (a === '--') break;
    const m = /^--checksums?(?:=(.*))?$/.exec(a);
    if (m) v = m[1] === undefined || m[1] === '' ? 'md5' : m[1];
  }
  return v;
}

/**
 * Output buffered into large writes (a listing may have millions of lines). line() and raw()
 * return a promise only when the buffer was written out (callers await it then), so a
 * listing does not pay an await per line.
 */
class Out {
  private parts: string[] = [];
  private size = 0;
  line(s: string): Promise<void> | undefined {
    this.parts.push(s, '\n');
    this.size += s.length + 1;
    return this.size >= 256 * 1024 ? this.flush() : undefined;
  }
  raw(s: string): Promise<void> | undefined {
    this.parts.push(s);
    this.size += s.length;
    return this.size >= 256 * 1024 ? this.flush() : undefined;
  }
  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const s = this.parts.join('');
    this.parts = [];
    this.size = 0;
    await writeOut(s);
  }
}

export function nowSeconds(): number {
  const env = process.env.GUESTKIT_NOW;
  if (env !== undefined && /^-?\d+$/.test(env)) return Number(env);
  return Math.floor(Date.now() / 1000);
}

export async function run(argv: LsArgs, rawArgs: readonly string[] = hideBin(process.argv)): Promise<void> {
  await runTool(argv, async () => {
    const long = !!argv.long;
    const recursive = !!argv.recursive;
    const checksum = checksumArg(rawArgs);
    const times: LsLrOptions['times'] = argv['time-days'] ? 'days' : argv['time-relative'] ? 'relative' : argv['time-t'] ? 't' : argv.times ? 'local' : false;
    const o: LsLrOptions = {
      csv: !!argv.csv, human: !!argv['human-readable'], uids: !!argv.uids, times,
      extraStats: !!argv['extra-stats'], checksum: checksum !== undefined, now: nowSeconds(),
    };
    if (!(long && recursive) && (o.csv || o.human || o.uids || o.times || o.extraStats || o.checksum)) {
      throw new GuestkitError('USAGE', 'used a flag which can only be combined with -lR mode (see virt-ls(1))');
    }
    if (o.human && o.csv) throw new GuestkitError('USAGE', 'you cannot use -h and --csv options together');
    if (checksum !== undefined && !(CHECKSUM_TYPES as readonly string[]).includes(checksum)) {
      throw new GuestkitError('USAGE', `--checksum=${checksum}: unknown checksum type (expecting ${CHECKSUM_TYPES.join(', ')})`);
    }
    const g = openGuestFromArgs(argv, rawArgs, { implyInspector: true });
    const out = new Out();
    let failed = 0;
    const fail = (e: unknown) => {
      if (!(e instanceof GuestkitError)) throw e;
      failed++;
      reportError(e, isVerbose(argv));
    };
    try {
      for (const dir of argv.dirs) {
        try {
          if (long && recursive) await lsLR(g.view, dir, o, checksum, out, !!argv.json, (m) => { failed++; warn(m); }, fail);
          else if (recursive) await lsR(g.view, dir, out, !!argv.json);
          else if (long) await lsL(g.view, dir, o.now, out, !!argv.json);
          else await lsPlain(g.view, dir, out, !!argv.json);
        } catch (e) {
          await out.flush();
          fail(e);
        }
      }
      await out.flush();
    } finally {
      g.close();
    }
    if (failed) process.exitCode = 1;
  });
}

/** guestfs_ls: names in a directory (following symlinks to it), sorted by bytes. */
async function lsPlain(view: GuestView, dir: string, out: Out, json: boolean): Promise<void> {
  const names = sortStringsByBytes(view.readdir(dir).map((e) => e.name));
  for (const n of names) { const w = out.line(json ? JSON.stringify({ name: n }) : n); if (w) await w; }
}

/**
 * guestfs_find: `find /sysroot$dir -print0` with the "/sysroot$dir" prefix cut off each path,
 * then sorted as a whole. So "/" gives "etc", "etc/fstab"; "/etc" gives "/fstab"; and a
 * symlink to a directory gives nothing (find does not follow it).
 */
async function lsR(view: GuestView, dir: string, out: Out, json: boolean): Promise<void> {
  const r = view.resolve(dir, { follow: true });
  if (fileTypeOfMode(r.fs.stat(r.ino).mode) !== 'dir') throw new GuestkitError('NOT_DIR', `${dir}: Not a directory`);
  // find's start point, "/sysroot" + dir: not followed when it is a symlink (unless "dir/").
  if (view.typeOf(dir, false) === 'symlink') return;
  // find prints start + "/" + relative path, but start + relative when start ends in '/'.
  const prefix = dir.endsWith('/') ? '' : '/';
  const walkRoot = dir.endsWith('/') ? dir.replace(/\/+$/, '') || '/' : dir;
  // Sorted by bytes as a whole, as guestfs_find sorts; written as they come, in slices of
  // lines joined at once (not a buffer push per line).
  const pending: Promise<void>[] = [];
  const lines: string[] = [];
  const write = () => {
    const w = json ? out.raw(lines.map((p) => `${JSON.stringify({ path: p })}\n`).join('')) : out.raw(`${lines.join('\n')}\n`);
    if (w) pending.push(w);
    lines.length = 0;
  };
  view.listTree(walkRoot, prefix, (p, err) => warn(`${p}: ${err.message}`), {
    emit: (p) => {
      if (lines.push(p) === LINES_PER_WRITE) write();
    },
  });
  if (lines.length > 0) write();
  await Promise.all(pending);
}

const LINES_PER_WRITE = 4096;

/** The -l listing: `ls -la` of the directory's real path (or the file itself). */
async function lsL(view: GuestView, dir: string, now: number, out: Out, json: boolean): Promise<void> {
  const r = view.resolve(dir, { follow: true });
  const st = view.statOf(r);
  const names = ownerNames(view);
  const o = { now, user: names.user, group: names.group };
  if (fileTypeOfMode(st.mode) !== 'dir') {
    const e: LlEntry = { name: `/sysroot${r.path}`, st };
    if (json) { const w = out.line(JSON.stringify(jsonEntry(r.path, st, undefined, undefined))); if (w) await w; }
    else { const w = out.raw(formatLl([e], o, false)); if (w) await w; }
    return;
  }
  const parent = view.resolve(r.path === '/' ? '/' : `${r.path}/..`, { follow: true });
  const entries: LlEntry[] = [
    { name: '.', st },
    { name: '..', st: view.statOf(parent) },
  ];
  for (const e of view.entriesOf(r.mount, r.ino)) {
    const est = { ...e.mount.fs.stat(e.ino), dev: e.mount.dev };
    const link = (est.mode & S_IFMT) === S_IFLNK ? e.mount.fs.readlink(e.ino) : undefined;
    entries.push({ name: e.name, st: est, link });
  }
  sortByBytes(entries, (e) => e.name);
  if (json) {
    for (const e of entries) { const w = out.line(JSON.stringify(jsonEntry(e.name, e.st, e.link, undefined))); if (w) await w; }
  } else {
    { const w = out.raw(formatLl(entries, o, true)); if (w) await w; }
  }
}

/**
 * uid/gid → name, as GNU ls in the libguestfs appliance resolves them: the appliance has no
 * /etc/passwd or /etc/group, so every owner is numeric (the guest's own files are not used).
 */
function ownerNames(_view: GuestView): { user: (uid: number) => string | undefined; group: (gid: number) => string | undefined } {
  return { user: () => undefined, group: () => undefined };
}

function jsonEntry(path: string, st: GuestStat, link: string | undefined, checksum: string | undefined): Record<string, unknown> {
  const j: Record<string, unknown> = {
    path, type: fileTypeOfMode(st.mode), mode: (st.mode & 0o7777).toString(8).padStart(4, '0'),
    size: st.size, uid: st.uid, gid: st.gid,
    atime: st.atime.sec, mtime: st.mtime.sec, ctime: st.ctime.sec,
    ino: st.ino, nlink: st.nlink, blocks: st.blocks, dev: st.dev, rdev: st.rdev,
  };
  if (link !== undefined) j.link = link;
  if (checksum !== undefined) j.checksum = checksum;
  return j;
}

/** guestfs_checksum of a regular file, read in 1 MiB pieces. */
export function fileChecksum(fs: Filesystem, ino: number, size: number, type: string): string {
  const buf = Buffer.allocUnsafe(1024 * 1024);
  const crc = type === 'crc' ? cksumCrc() : null;
  const h: Hash | null = crc ? null : createHash(type);
  let pos = 0;
  while (pos < size) {
    const n = fs.read(ino, buf.subarray(0, Math.min(buf.length, size - pos)), pos);
    if (n <= 0) throw new GuestkitError('CORRUPT', `inode ${ino}: data ends at ${pos}, before its size ${size}`);
    const piece = buf.subarray(0, n);
    if (crc) crc.update(piece);
    else h!.update(piece);
    pos += n;
  }
  return crc ? String(crc.digest()) : h!.digest('hex');
}

/** virt-ls -lR: the directory, then everything under it in visit order. */
async function lsLR(
  view: GuestView, dir: string, o: LsLrOptions, checksum: string | undefined, out: Out, json: boolean,
  onDirError: (m: string) => void, fail: (e: unknown) => void,
): Promise<void> {
  // Synchronous per entry (no promise per line): returns a promise only when the output
  // buffer was written out.
  const show = (path: string, fs: Filesystem, ino: number, dev: number): Promise<void> | undefined => {
    const st: GuestStat = { ...fs.stat(ino), dev };
    const isLink = (st.mode & S_IFMT) === S_IFLNK;
    const link = isLink ? fs.readlink(ino) : undefined;
    let sum: string | undefined;
    if (checksum && (st.mode & S_IFMT) === S_IFREG) sum = fileChecksum(fs, ino, st.size, checksum);
    return out.line(json ? JSON.stringify(jsonEntry(path, st, link, sum)) : lsLrLine(path, st, link, sum, o));
  };
  const top = view.resolve(dir, { follow: false });
  { const w = show(dir, top.fs, top.ino, top.mount.dev); if (w) await w; }
  for (const e of view.walk(dir, { onError: (p, err) => onDirError(`${p}: ${err.message}`) })) {
    try {
      const w = show(e.path, e.mount.fs, e.ino, e.mount.dev);
      if (w) await w;
    } catch (err) {
      await out.flush();
      fail(err);
    }
  }
}


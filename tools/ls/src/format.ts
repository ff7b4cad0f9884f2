// Formatters of guestkit ls, byte for byte as virt-ls prints (guestfs-tools ls/ls.c):
//  - -lR lines (show_file): type letter, %04o permissions, %10 size (or -h), optional %4 uid
//    and gid, times, extra stats, checksum, path, "-> target"; fields joined by ' ' or ',';
//  - -l (guestfs_ll: GNU `ls -la` run in the appliance on /sysroot + realpath), rendered as
//    GNU coreutils ls -l renders it in the C locale.

import { humanSize, virtCsvField } from '@guestkit/clikit';
import { S_IFMT, S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK, major, minor, type GuestStat } from '@guestkit/core';

export interface LsLrOptions {
  csv: boolean;
  human: boolean;
  uids: boolean;
  /** 0: off; 'local': %F %T local time; 't': time_t; 'relative': seconds ago; 'days': days ago. */
  times: false | 'local' | 't' | 'relative' | 'days';
  extraStats: boolean;
  checksum: boolean;
  /** Seconds since the epoch for --time-relative / --time-days. */
  now: number;
}

/** ls.c's file type letter. */
export function typeLetter(mode: number): string {
  switch (mode & S_IFMT) {
    case S_IFREG: return '-';
    case S_IFDIR: return 'd';
    case S_IFCHR: return 'c';
    case S_IFBLK: return 'b';
    case S_IFIFO: return 'p';
    case S_IFLNK: return 'l';
    case S_IFSOCK: return 's';
    default: return 'u';
  }
}

/** %04o of the permission bits, from a table made on first use. */
let mode4Table: string[] | undefined;
const mode4 = (mode: number) => (mode4Table ??= Array.from({ length: 0o10000 }, (_, m) => m.toString(8).padStart(4, '0')))[mode & 0o7777];

const pad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

/** strftime("%F %T", localtime(t)) in the process's time zone (TZ). */
export function localTimeString(sec: number): string {
  const d = new Date(sec * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

/** C's integer division toward zero (for --time-days of future times). */
const cdiv = (a: number, b: number) => Math.trunc(a / b);

/** One -lR line (without the newline). `checksum` is the hex digest for regular files. */
export function lsLrLine(path: string, st: GuestStat, link: string | undefined, checksum: string | undefined, o: LsLrOptions): string {
  if (!o.csv && !o.human && !o.uids && !o.times && !o.extraStats && !o.checksum) {
    // The default -lR line, without the field list (most listings).
    const line = `${typeLetter(st.mode)} ${mode4(st.mode)} ${pad(String(st.size), 10)} ${path}`;
    return link === undefined ? line : `${line} -> ${link}`;
  }
  const f: string[] = [];
  const str = (s: string) => f.push(o.csv ? virtCsvField(s) : s);
  str(typeLetter(st.mode));
  f.push(mode4(st.mode));
  if (o.csv) f.push(o.human ? humanSize(st.size) : String(st.size));
  else f.push(pad(o.human ? humanSize(st.size) : String(st.size), 10));
  if (o.uids) {
    f.push(pad(String(st.uid), 4));
    f.push(pad(String(st.gid), 4));
  }
  if (o.times) {
    for (const t of [st.atime, st.mtime, st.ctime]) {
      switch (o.times) {
        case 't': f.push(pad(String(t.sec), 10)); break;
        case 'relative': f.push(pad(String(o.now - t.sec), 8)); break;
        case 'days': f.push(pad(String(cdiv(o.now - t.sec, 86400)), 3)); break;
        default: f.push(localTimeString(t.sec));
      }
    }
  }
  if (o.extraStats) {
    f.push(`${major(st.dev)}:${minor(st.dev)}`);
    f.push(String(st.ino));
    f.push(String(st.nlink));
    f.push(`${major(st.rdev)}:${minor(st.rdev)}`);
    f.push(String(st.blocks));
  }
  if (o.checksum) {
    if ((st.mode & S_IFMT) === S_IFREG) str(checksum ?? '');
    else if (o.csv) str('');
  }
  str(path);
  if (link !== undefined) {
    if (o.csv) str(link);
    else f.push(`-> ${link}`);
  }
  return f.join(o.csv ? ',' : ' ');
}

// ---- GNU ls -la ---------------------------------------------------------------------------

export interface LlEntry {
  /** Name as ls prints it (for the argument itself: the /sysroot path). */
  name: string;
  st: GuestStat;
  link?: string;
}

/** GNU ls's mode string (filemode.c): type, rwx with s/S t/T. */
export function modeString(mode: number): string {
  const t = typeLetter(mode);
  const typeChar = t === 'u' ? '?' : t;
  const b = (bit: number, c: string) => (mode & bit ? c : '-');
  let s = typeChar;
  s += b(0o400, 'r') + b(0o200, 'w');
  s += mode & 0o4000 ? (mode & 0o100 ? 's' : 'S') : b(0o100, 'x');
  s += b(0o040, 'r') + b(0o020, 'w');
  s += mode & 0o2000 ? (mode & 0o010 ? 's' : 'S') : b(0o010, 'x');
  s += b(0o004, 'r') + b(0o002, 'w');
  s += mode & 0o1000 ? (mode & 0o001 ? 't' : 'T') : b(0o001, 'x');
  return s;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * GNU ls's long-format time: "%b %e %H:%M" when within six months before now (and not in
 * the future), else "%b %e  %Y" (C locale), in UTC (the appliance's time zone).
 */
export function llTime(sec: number, nsec: number, now: number): string {
  const d = new Date(sec * 1000);
  const mon = MONTHS[d.getUTCMonth()];
  const day = String(d.getUTCDate()).padStart(2, ' ');
  // coreutils: six months ago = now - 31556952/2 seconds; recent when not older and not newer than now.
  const sixMonths = 31556952 / 2;
  const recent = (sec > now - sixMonths || (sec === now - sixMonths && nsec > 0)) && (sec < now || (sec === now && nsec <= 0));
  if (recent) {
    const hh = String(d.getUTCHours()).padStart(2, '0');
    const mm = String(d.getUTCMinutes()).padStart(2, '0');
    return `${mon} ${day} ${hh}:${mm}`;
  }
  const y = d.getUTCFullYear();
  return `${mon} ${day} ${String(y).padStart(5, ' ')}`;
}

export interface LlOptions {
  now: number;
  /** uid → name; gid → name (null/undefined: numeric). */
  user: (uid: number) => string | undefined;
  group: (gid: number) => string | undefined;
}

/** `ls -la` output: "total N", then one line per entry with columns aligned as GNU ls aligns them. */
export function formatLl(entries: LlEntry[], o: LlOptions, withTotal: boolean): string {
  const rows = entries.map((e) => {
    const st = e.st;
    const typ = st.mode & S_IFMT;
    const isDev = typ === S_IFCHR || typ === S_IFBLK;
    return {
      mode: modeString(st.mode),
      nlink: String(st.nlink),
      owner: o.user(st.uid) ?? String(st.uid),
      ownerNumeric: o.user(st.uid) === undefined,
      group: o.group(st.gid) ?? String(st.gid),
      groupNumeric: o.group(st.gid) === undefined,
      major: isDev ? `${major(st.rdev)},` : '',
      minor: isDev ? String(minor(st.rdev)) : '',
      size: isDev ? '' : String(st.size),
      time: llTime(st.mtime.sec, st.mtime.nsec, o.now),
      name: e.name + (e.link !== undefined ? ` -> ${e.link}` : ''),
      isDev,
    };
  });
  const w = (k: 'nlink' | 'owner' | 'group' | 'size' | 'major' | 'minor') => Math.max(0, ...rows.map((r) => r[k].length));
  const nlinkW = w('nlink');
  const ownerW = w('owner');
  const groupW = w('group');
  const majorW = w('major');
  const minorW = w('minor');
  // GNU ls: the size column is at least as wide as "major, minor" when devices are listed.
  const anyDev = rows.some((r) => r.isDev);
  const sizeW = Math.max(w('size'), anyDev ? majorW + 1 + minorW : 0);
  const lines: string[] = [];
  if (withTotal) {
    let blocks = 0;
    for (const e of entries) blocks += e.st.blocks;
    lines.push(`total ${Math.ceil((blocks * 512) / 1024)}`);
  }
  for (const r of rows) {
    const sizeCol = r.isDev
      ? `${pad(r.major, sizeW - minorW - 1)} ${pad(r.minor, minorW)}`
      : pad(r.size, sizeW);
    // GNU ls left-aligns names but right-aligns numeric ids.
    const owner = r.ownerNumeric ? pad(r.owner, ownerW) : r.owner.padEnd(ownerW);
    const group = r.groupNumeric ? pad(r.group, groupW) : r.group.padEnd(groupW);
    lines.push(`${r.mode} ${pad(r.nlink, nlinkW)} ${owner} ${group} ${sizeCol} ${r.time} ${r.name}`);
  }
  return lines.map((l) => `${l}\n`).join('');
}

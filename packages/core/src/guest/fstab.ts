// /etc/fstab as fstab(5) defines it: one filesystem per line, fields separated by blanks
// (fs_spec fs_file fs_vfstype fs_mntops fs_freq fs_passno), '#' starts a comment line, and
// blanks inside a field are written as octal escapes (\040), which mount(8) decodes.
// libguestfs reads the same file with Augeas's fstab lens; a line that lens would reject
// (fewer than three fields) is skipped here with a note instead of discarding the file.

import { LIMITS } from '../limits.js';

/** Lines longer than this are not fstab lines (bounds the work on a hostile file). */
export const MAX_FSTAB_LINE = LIMITS.maxFstabLine;
/** Entries read from one fstab. */
export const MAX_FSTAB_ENTRIES = LIMITS.maxFstabEntries;

export interface FstabEntry {
  /** fs_spec: device, UUID=..., LABEL=..., PARTUUID=..., server:/path, tmpfs... */
  spec: string;
  /** fs_file: the mountpoint (or "none"/"swap" for swap). */
  file: string;
  vfstype: string;
  /** fs_mntops split on ',' (["defaults"] when absent). */
  options: string[];
  freq: number;
  passno: number;
  /** 1-based line number. */
  line: number;
}

export interface FstabParse {
  entries: FstabEntry[];
  /** Lines that are not valid entries: [line number, reason]. */
  skipped: [number, string][];
}

/** Decode fstab's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
export function unescapeFstabField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8) & 0xff));
}

/**
 * The value of a TAG=value spec with shell quotes removed, as libguestfs's shell_unquote
 * does for UUID=, LABEL=, PARTUUID= and PARTLABEL= ("..." and '...' around the value).
 */
export function shellUnquote(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === "'") {
      const j = s.indexOf("'", i + 1);
      if (j < 0) return out + s.slice(i + 1);
      out += s.slice(i + 1, j);
      i = j + 1;
    } else if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length && '$`"\\\n'.includes(s[i + 1])) i++;
        out += s[i++];
      }
      i++;
    } else if (c === '\\' && i + 1 < s.length) {
      out += s[i + 1];
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

export function parseFstab(text: string): FstabParse {
  const entries: FstabEntry[] = [];
  const skipped: [number, string][] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    const lineNo = i + 1;
    if (raw.length > MAX_FSTAB_LINE) {
      skipped.push([lineNo, 'line too long']);
      continue;
    }
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) continue;
    const f = t.split(/[ \t]+/);
    if (f.length < 3) {
      skipped.push([lineNo, `${f.length} field${f.length === 1 ? '' : 's'}, fstab needs at least 3`]);
      continue;
    }
    if (entries.length >= MAX_FSTAB_ENTRIES) {
      skipped.push([lineNo, `more than ${MAX_FSTAB_ENTRIES} entries`]);
      break;
    }
    const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : 0);
    entries.push({
      spec: unescapeFstabField(f[0]),
      file: unescapeFstabField(f[1]),
      vfstype: unescapeFstabField(f[2]),
      options: f[3] === undefined ? ['defaults'] : unescapeFstabField(f[3]).split(','),
      freq: num(f[4]),
      passno: num(f[5]),
      line: lineNo,
    });
  }
  return { entries, skipped };
}

/** "///usr//local//" → "/usr/local" (libguestfs's unix_canonical_path). */
export function canonicalMountpoint(mp: string): string {
  const abs = mp.startsWith('/');
  const parts = mp.split('/').filter((p) => p !== '');
  const s = parts.join('/');
  return abs ? `/${s}` : s;
}

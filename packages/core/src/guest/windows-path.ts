// Paths of a Windows guest as virt-cat takes them (libguestfs-common windows/windows.c
// windows_path): an optional drive letter, backslashes or slashes, any letter case. The
// drive letter must be the system drive (C:, mounted at "/"; other letters need the
// registry's drive mappings, which inspect-lite does not read); then each component is
// matched case-insensitively as guestfs case_sensitive_path does, an exact match first,
// and whatever is not found is kept as given (so the error names it).

import { GuestkitError } from '../errors.js';
import type { GuestView } from './view.js';

export function windowsPath(view: GuestView, path: string, systemDrive = 'c'): string {
  let p = path;
  const m = /^([A-Za-z]):/.exec(p);
  if (m) {
    if (m[1].toLowerCase() !== systemDrive) {
      throw new GuestkitError('NOT_FOUND', `${path}: drive ${m[1].toUpperCase()}: is not known (only the system drive ${systemDrive.toUpperCase()}: is mounted)`);
    }
    p = p.slice(2);
  }
  if (p === '') p = '/';
  p = p.replace(/\\/g, '/');
  if (!p.startsWith('/')) p = `/${p}`;
  let cur = '/';
  const comps = p.split('/').filter((c) => c !== '');
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i];
    let next: string | undefined;
    if (c === '.' || c === '..') next = c;
    else if (view.typeOf(cur, true) === 'dir') {
      const names = view.readdir(cur).map((e) => e.name);
      next = names.includes(c) ? c : names.find((n) => n.toLowerCase() === c.toLowerCase());
    }
    if (next === undefined) return (cur === '/' ? '/' : `${cur}/`) + comps.slice(i).join('/');
    cur = cur === '/' ? `/${next}` : `${cur}/${next}`;
  }
  return cur;
}

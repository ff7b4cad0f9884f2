// Where a Windows guest keeps its hives, and how a registry path maps to a hive and a key path
// inside it, as virt-win-reg's map_path_to_hive does (guestfs-tools win-reg/virt-win-reg):
//   HKLM\SAM, SECURITY, SOFTWARE, SYSTEM -> %SystemRoot%\system32\config\<name>
//   HKU\.DEFAULT                         -> %SystemRoot%\system32\config\default
//   HKU\<SID>, LocalSystem, LocalService, NetworkService
//                                        -> <ProfileImagePath from the SOFTWARE hive's ProfileList>\ntuser.dat
//   HKU\<user>                           -> \Users\<user>\ntuser.dat or \Documents and Settings\<user>\ntuser.dat
// plus two guestkit additions: HKLM\BCD (or BCD00000000) -> the boot configuration store (\Boot\BCD on
// BIOS layouts, \EFI\Microsoft\Boot\BCD on the EFI system partition), and HKLM\SYSTEM\CurrentControlSet
// -> ControlSet%03d named by the SYSTEM hive's \Select "Current" value.
//
// The guest is reached only through WindowsGuestFiles (guest path -> bytes), so the same code works
// on an image's guest view and on a directory of hive files in tests.

import { GuestkitError } from '@guestkit/core';
import { Hive, type HiveOptions } from './hive.js';
import { parseBaseBlock } from './base-block.js';
import type { LogFile } from './transaction-log.js';
import { decodeDword, decodeString } from './value-types.js';

export interface WindowsGuestFiles {
  /** %SystemRoot% as a guest path ("/Windows"), as libguestfs's inspect_get_windows_systemroot gives it. */
  readonly systemRoot: string;
  /** Contents of a guest file, or null if there is none. Paths are matched case-insensitively (like case_sensitive_path). */
  readFile(path: string): Uint8Array | null;
  /** Is `path` a directory (case-insensitive)? */
  isDir(path: string): boolean;
  /** Where to look for the BCD store, in order. Default: DEFAULT_BCD_PATHS. */
  readonly bcdPaths?: readonly string[];
}

export const DEFAULT_BCD_PATHS = ['/Boot/BCD', '/EFI/Microsoft/Boot/BCD'] as const;

export interface HiveLocation {
  /** virt-win-reg's short name: sam, security, software, system, default, the SID, user_NAME; bcd. */
  shortName: string;
  /** Guest path of the hive file. */
  file: string;
  /** Key path inside the hive ("\\" for its root). */
  path: string;
  /** Printed before key paths in .reg output ("HKEY_LOCAL_MACHINE\\SOFTWARE"). */
  prefix: string;
  /** Keys under `hivePath` are shown under `shownAs` instead (CurrentControlSet -> ControlSetNNN). */
  alias?: { hivePath: string; shownAs: string };
}

/** The path to print for a key (its path in the hive, with an alias applied). */
export function shownPath(loc: HiveLocation, hivePath: string): string {
  const a = loc.alias;
  if (!a) return hivePath;
  if (hivePath.toLowerCase() === a.hivePath.toLowerCase()) return a.shownAs;
  if (hivePath.toLowerCase().startsWith(a.hivePath.toLowerCase() + '\\')) return a.shownAs + hivePath.slice(a.hivePath.length);
  return hivePath;
}

const PROFILE_LIST = '\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList';
const WELL_KNOWN: Record<string, string> = {
  localsystem: 'S-1-5-18',
  localservice: 'S-1-5-19',
  networkservice: 'S-1-5-20',
};

/** Whether a hive's base block says it is dirty (so that its logs are worth reading). */
function isDirty(bytes: Uint8Array): boolean {
  try {
    const bb = parseBaseBlock(bytes, 'hive');
    return bb.sequenceMismatch || !bb.checksumValid;
  } catch {
    return false;
  }
}

/** Registry access to a Windows guest: maps paths to hives and opens (and caches) them. */
export class GuestRegistry {
  readonly guest: WindowsGuestFiles;
  private readonly opts: Omit<HiveOptions, 'name' | 'logs'>;
  private readonly hives = new Map<string, Hive>();

  constructor(guest: WindowsGuestFiles, opts: Omit<HiveOptions, 'name' | 'logs'> = {}) {
    this.guest = guest;
    this.opts = opts;
  }

  private config(name: string): string {
    return `${this.guest.systemRoot.replace(/\/+$/, '')}/system32/config/${name}`;
  }

  /** The hive at guest path `file` (with its .LOG1/.LOG2 replayed when dirty), cached. */
  hive(file: string): Hive {
    const key = file.toLowerCase();
    const cached = this.hives.get(key);
    if (cached) return cached;
    const bytes = this.guest.readFile(file);
    if (!bytes) throw new GuestkitError('NOT_FOUND', `${file}: registry hive not found in the guest`);
    const logs: LogFile[] = [];
    if (this.opts.replay !== false && isDirty(bytes)) {
      for (const sfx of ['.LOG1', '.LOG2', '.LOG']) {
        const b = this.guest.readFile(file + sfx);
        if (b && b.length > 0) logs.push({ name: file + sfx, bytes: b });
      }
    }
    const h = Hive.open(bytes, { ...this.opts, name: file, logs });
    this.hives.set(key, h);
    return h;
  }

  /** Map a registry path ("HKLM\\SOFTWARE\\Microsoft") to its hive and the key path inside it. */
  locate(regPath: string): HiveLocation {
    const rest = (m: RegExpExecArray, i: number) => (m[i] !== undefined ? m[i] : '\\');
    let m: RegExpExecArray | null;
    if ((m = /^\\?(?:HKEY_LOCAL_MACHINE|HKLM)\\(SAM|SECURITY|SOFTWARE|SYSTEM)(\\.*)?$/is.exec(regPath))) {
      const which = m[1].toUpperCase();
      const loc: HiveLocation = { shortName: which.toLowerCase(), file: this.config(which.toLowerCase()), path: rest(m, 2), prefix: `HKEY_LOCAL_MACHINE\\${which}` };
      return which === 'SYSTEM' ? this.currentControlSet(loc) : loc;
    }
    if ((m = /^\\?(?:HKEY_LOCAL_MACHINE|HKLM)\\(BCD|BCD00000000)(\\.*)?$/is.exec(regPath))) {
      const paths = this.guest.bcdPaths ?? DEFAULT_BCD_PATHS;
      const file = paths.find((p) => this.guest.readFile(p) !== null);
      if (!file) throw new GuestkitError('NOT_FOUND', `${regPath}: no BCD store in the guest (looked for ${paths.join(', ')})`);
      return { shortName: 'bcd', file, path: rest(m, 2), prefix: 'HKEY_LOCAL_MACHINE\\BCD00000000' };
    }
    // virt-win-reg prints HKU\.DEFAULT exports as HKEY_LOCAL_MACHINE\.DEFAULT; accept that back too.
    if ((m = /^\\?(?:HKEY_USERS|HKU|HKEY_LOCAL_MACHINE|HKLM)\\\.DEFAULT(\\.*)?$/is.exec(regPath))) {
      return { shortName: 'default', file: this.config('default'), path: rest(m, 1), prefix: 'HKEY_LOCAL_MACHINE\\.DEFAULT' };
    }
    if ((m = /^\\?(?:HKEY_USERS|HKU)\\(S-1-5-[-\d]+)(\\.*)?$/is.exec(regPath))) {
      const sid = m[1];
      return { shortName: sid, file: `${this.profileDir(sid, regPath)}/ntuser.dat`, path: rest(m, 2), prefix: `HKEY_USERS\\${sid}` };
    }
    if ((m = /^\\?(?:HKEY_USERS|HKU)\\(LocalSystem|LocalService|NetworkService)(\\.*)?$/is.exec(regPath))) {
      const sid = WELL_KNOWN[m[1].toLowerCase()];
      return { shortName: sid, file: `${this.profileDir(sid, regPath)}/ntuser.dat`, path: rest(m, 2), prefix: `HKEY_USERS\\${sid}` };
    }
    if ((m = /^\\?(?:HKEY_USERS|HKU)\\(.*?)(\\.*)?$/is.exec(regPath))) {
      const user = m[1];
      let file: string;
      if (this.guest.isDir(`/Users/${user}`)) file = `/Users/${user}/ntuser.dat`;
      else if (this.guest.isDir(`/Documents and Settings/${user}`)) file = `/Documents and Settings/${user}/ntuser.dat`;
      else throw new GuestkitError('NOT_FOUND', `${user}: cannot find user directory`);
      return { shortName: `user_${user}`, file, path: rest(m, 2), prefix: `HKEY_USERS\\${user}` };
    }
    throw new GuestkitError('USAGE', `${regPath}: not a supported Windows Registry path`);
  }

  /** The user's profile directory from ProfileList\<SID>\ProfileImagePath, as a guest path. */
  private profileDir(sid: string, regPath: string): string {
    const sw = this.hive(this.config('software'));
    const key = sw.get(`${PROFILE_LIST}\\${sid}`);
    const v = key?.value('ProfileImagePath');
    if (!key || !v) {
      throw new GuestkitError('NOT_FOUND', `${regPath}: no profile for ${sid} in HKLM\\SOFTWARE${PROFILE_LIST}`);
    }
    let p = decodeString(v.data()).split('\n')[0];
    p = p.replace(/%systemroot%/i, this.guest.systemRoot);
    p = p.replace(/%systemdrive%/i, '');
    p = p.replace(/^c:/i, '');
    return p.replace(/\\/g, '/');
  }

  /** HKLM\SYSTEM\CurrentControlSet[\...] -> \ControlSetNNN[\...] by \Select "Current". */
  private currentControlSet(loc: HiveLocation): HiveLocation {
    const m = /^\\CurrentControlSet(\\.*)?$/is.exec(loc.path);
    if (!m) return loc;
    const sys = this.hive(loc.file);
    const v = sys.get('\\Select')?.value('Current');
    const n = v ? decodeDword(v.data(), v.type) : null;
    if (n === null || n < 0 || n > 999) {
      throw new GuestkitError('NOT_FOUND', `HKLM\\SYSTEM\\CurrentControlSet: the SYSTEM hive has no usable \\Select "Current" value`);
    }
    const set = `ControlSet${String(n).padStart(3, '0')}`;
    const tail = m[1] ?? '';
    return { ...loc, path: `\\${set}${tail}`, alias: { hivePath: `\\${set}`, shownAs: '\\CurrentControlSet' } };
  }

  /** Hives opened so far (guest path -> hive). */
  opened(): Map<string, Hive> {
    return this.hives;
  }
}

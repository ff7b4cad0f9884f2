// inspect_list_applications2: by package format (Linux) or the Uninstall keys (Windows),
// sorted by name (byte order) as libguestfs's sort_applications does.

import type { GuestView } from '@guestkit/core';
import { GuestkitError } from '@guestkit/core';
import type { TreeAccess } from '../access.js';
import type { Application, OperatingSystem } from '../types.js';
import { parseDpkgStatus, MAX_DPKG_STATUS } from './dpkg.js';
import { parsePacmanDesc, MAX_PACMAN_DESC } from './pacman.js';
import { parseApkInstalled, MAX_APK_INSTALLED } from './apk.js';
import { parseRpmHeader, applicationOfHeader } from './rpm-header.js';
import { sqliteHeaderBlobs } from './rpmdb-sqlite.js';
import { bdbHeaderBlobs } from '../rpm-bdb.js';
import { ndbHeaderBlobs } from '../rpm-ndb.js';
import { windowsApplications } from './windows-apps.js';

export * from './dpkg.js';
export * from './pacman.js';
export * from './apk.js';
export * from './rpm-header.js';
export * from './rpmdb-sqlite.js';

/** rpmdb.sqlite files larger than this are not read. */
export const MAX_RPMDB_SIZE = 1024 * 1024 * 1024;

const RPMDB_DIRS = ['/var/lib/rpm', '/usr/lib/sysimage/rpm'];

/** Header blobs → applications; one warning for the first bad header, one count for the rest. */
function rpmBlobApplications(blobs: Uint8Array[], file: string, warn: (m: string) => void): Application[] {
  const apps: Application[] = [];
  let bad = 0;
  blobs.forEach((b, i) => {
    try {
      const a = applicationOfHeader(parseRpmHeader(b, `${file}: package ${i + 1}`));
      if (a) apps.push(a);
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      if (bad++ === 0) warn(e.message);
    }
  });
  if (bad > 1) warn(`${file}: ${bad} package headers could not be read`);
  return apps;
}

/** The rpm database of the guest: rpmdb.sqlite, else Berkeley DB Packages, else ndb Packages.db. */
async function rpmApplications(t: TreeAccess, warn: (m: string) => void): Promise<Application[]> {
  const readers: [string, (db: Uint8Array, file: string) => Promise<Uint8Array[]> | Uint8Array[]][] = [
    ['rpmdb.sqlite', (db) => sqliteHeaderBlobs(db)],
    ['Packages', (db, file) => bdbHeaderBlobs(db, file)],
    ['Packages.db', (db, file) => {
      // A damaged blob drops its package (as rpm -qa does): one warning, then a count.
      let bad = 0;
      const blobs = ndbHeaderBlobs(db, file, (e) => {
        if (bad++ === 0) warn(e.message);
      });
      if (bad > 1) warn(`${file}: ${bad} package blobs could not be read`);
      return blobs;
    }],
  ];
  for (const dir of RPMDB_DIRS) {
    for (const [name, read] of readers) {
      const file = `${dir}/${name}`;
      if (!t.isFile(file)) continue;
      const db = t.readFile(file, MAX_RPMDB_SIZE);
      if (!db) {
        warn(`${file}: cannot read the rpm database`);
        return [];
      }
      let blobs: Uint8Array[];
      try {
        blobs = await read(db, file);
      } catch (e) {
        if (!(e instanceof GuestkitError)) throw e;
        warn(e.message.startsWith(file) ? e.message : `${file}: ${e.message}`);
        return [];
      }
      // SQLite in WAL mode: changes not yet checkpointed live in rpmdb.sqlite-wal (not read).
      const wal = name === 'rpmdb.sqlite' ? t.size(`${file}-wal`) : null;
      if (wal) warn(`${file}-wal: ${wal} bytes of database changes not yet checkpointed are not read`);
      return rpmBlobApplications(blobs, file, warn);
    }
  }
  return [];
}

function dpkgApplications(t: TreeAccess, warn: (m: string) => void): Application[] {
  const text = t.readText('/var/lib/dpkg/status', MAX_DPKG_STATUS);
  if (text === null) {
    if (t.isFile('/var/lib/dpkg/status')) warn('/var/lib/dpkg/status: cannot read it (too large?)');
    return [];
  }
  return parseDpkgStatus(text, warn);
}

function pacmanApplications(t: TreeAccess): Application[] {
  const apps: Application[] = [];
  for (const e of t.readdir('/var/lib/pacman/local')) {
    if (e.type !== 'dir') continue;
    const text = t.readText(`/var/lib/pacman/local/${e.name}/desc`, MAX_PACMAN_DESC);
    if (text === null) continue;
    const a = parsePacmanDesc(text);
    if (a) apps.push(a);
  }
  return apps;
}

function apkApplications(t: TreeAccess): Application[] {
  const text = t.readText('/lib/apk/db/installed', MAX_APK_INSTALLED);
  return text === null ? [] : parseApkInstalled(text);
}

export async function listApplications(t: TreeAccess, os: OperatingSystem, _view: GuestView, warn: (m: string) => void): Promise<Application[]> {
  let apps: Application[] = [];
  if (os.type === 'linux' || os.type === 'hurd') {
    switch (os.packageFormat) {
      case 'rpm': apps = await rpmApplications(t, warn); break;
      case 'deb': apps = dpkgApplications(t, warn); break;
      case 'pacman': apps = pacmanApplications(t); break;
      case 'apk': apps = apkApplications(t); break;
      default: break;
    }
  } else if (os.type === 'windows' && os.windowsSystemroot) {
    apps = windowsApplications(t, os.windowsSystemroot, warn);
  }
  return apps.map((a, i) => ({ a, i })).sort((x, y) => (x.a.name < y.a.name ? -1 : x.a.name > y.a.name ? 1 : x.i - y.i)).map((x) => x.a);
}

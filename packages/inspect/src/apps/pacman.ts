// pacman's local database: /var/lib/pacman/local/<name-ver-rel>/desc, "%KEY%" lines each
// followed by value lines (libguestfs list_applications_pacman: first value line only).

import type { Application } from '../types.js';
import { clean } from './dpkg.js';

/** libguestfs reads at most 8 KiB of each desc file. */
export const MAX_PACMAN_DESC = 8192;

export function parsePacmanDesc(text: string): Application | null {
  const f: Record<string, string> = {};
  let key: string | null = null;
  for (const line of text.split('\n')) {
    if (line === '') {
      key = null;
      continue;
    }
    if (key !== null) {
      f[key] = line;
      key = null;
      continue;
    }
    if (['%NAME%', '%VERSION%', '%DESC%', '%URL%', '%ARCH%'].includes(line)) key = line;
  }
  const name = f['%NAME%'], version = f['%VERSION%'], arch = f['%ARCH%'];
  if (!name || version === undefined || arch === undefined) return null;
  let epoch = 0;
  let ver = version;
  const colon = version.indexOf(':');
  if (colon >= 0) {
    const e = version.slice(0, colon);
    epoch = /^\d+$/.test(e) ? Number(e) : -1;
    ver = version.slice(colon + 1);
  }
  const dash = ver.indexOf('-');
  if (dash < 0) return null;
  const rel = ver.slice(dash + 1);
  ver = ver.slice(0, dash);
  if (epoch < 0 || ver === '' || rel === '') return null;
  return clean({ name, epoch, version: ver, release: rel, arch, url: f['%URL%'], description: f['%DESC%'] });
}

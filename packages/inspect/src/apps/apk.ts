// Alpine's /lib/apk/db/installed: "X:value" lines, packages separated by blank lines
// (libguestfs list_applications_apk; the 'r' of revisions is dropped from the release).

import type { Application } from '../types.js';
import { clean } from './dpkg.js';

export const MAX_APK_INSTALLED = 10 * 1000 * 1000;

export function parseApkInstalled(text: string): Application[] {
  const apps: Application[] = [];
  let p: { name?: string; version?: string; release?: string; arch?: string; url?: string; description?: string; epoch: number } = { epoch: 0 };
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (line.length > 1 && line[1] !== ':') continue;
    switch (line[0]) {
      case undefined:
        if (p.name && p.version !== undefined && p.epoch >= 0) apps.push(clean({ ...p, name: p.name }));
        p = { epoch: p.epoch };
        break;
      case 'A': p.arch = line.slice(2); break;
      case 'P': p.name = line.slice(2); break;
      case 'T': p.description = line.slice(2); break;
      case 'U': p.url = line.slice(2); break;
      case 'V': {
        let v = line.slice(2);
        const colon = v.indexOf(':');
        if (colon >= 0) {
          const e = v.slice(0, colon);
          p.epoch = /^\d+$/.test(e) ? Number(e) : -1;
          v = v.slice(colon + 1);
        } else p.epoch = 0;
        const dash = v.indexOf('-');
        if (dash >= 0) {
          let r = v.slice(dash + 1);
          if (r.startsWith('r')) r = r.slice(1);
          p.release = r;
          v = v.slice(0, dash);
        } else p.release = undefined;
        p.version = v;
        break;
      }
      default: break;
    }
  }
  return apps;
}

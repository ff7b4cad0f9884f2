// Where a running server leaves its PID for `guestkit unmount` to wait on: one small file
// per mountpoint (by the hash of its real path) in $XDG_RUNTIME_DIR or the temp directory.

import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

export function stateFile(realMountpoint: string): string {
  const dir = process.env.XDG_RUNTIME_DIR || tmpdir();
  const h = createHash('sha256').update(realMountpoint).digest('hex').slice(0, 16);
  return join(dir, `guestkit-mount-${h}.pid`);
}

/** Octal escapes of /proc/self/mountinfo (\040 for a space). */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The mount entries at `mountpoint` (mount point, fs type, source), newest last. */
export function mountsAt(mountpoint: string): { fstype: string; source: string }[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: { fstype: string; source: string }[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 10) continue;
    if (unescapeMountinfo(f[4]) !== mountpoint) continue;
    const dash = f.indexOf('-', 6);
    if (dash < 0) continue;
    out.push({ fstype: f[dash + 1], source: unescapeMountinfo(f[dash + 2] ?? '') });
  }
  return out;
}

export function isMounted(mountpoint: string): boolean {
  return mountsAt(mountpoint).length > 0;
}

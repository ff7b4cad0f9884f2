// Temporary names for outputs written by the write tools (copy-out, tar-out, win-reg --merge
// --hive): an output is written under a temporary name beside its final one and renamed when
// complete, so nothing half-written ever carries the final name (issue 7, nothing lost). A
// writer killed with SIGKILL leaves its temporary file behind; the next writer of the same
// output removes it, when it can prove that its writer is gone:
//
//   .NAME.guestkit-HOST-PID.tmp     the temporary file of output NAME (tar-out, win-reg)
//   .guestkit-HOST-PID-N.tmp        copy-out's N-th file in a directory
//
// HOST is 8 hex digits hashed from this machine's host name, PID the writer's process ID. A
// file is removed only when its name matches the pattern for that output exactly, HOST is this
// machine's (a PID from another machine, e.g. over NFS, says nothing about its writer), no
// process with that PID exists (kill(PID, 0) fails with ESRCH; EPERM means it is alive under
// another user) or it is this process's own PID (the sweep runs before this process writes
// there, so such a file is a killed earlier holder of the same PID's), and lstat shows a regular file owned by this user: a
// symlink, a directory or another user's file is never touched. A PID reused by an unrelated
// process keeps the file (a leftover, never a loss).

import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

let hostTag: string | undefined;

/** 8 hex digits of FNV-1a over the host name: which machine's PIDs a temporary name carries. */
export function tempHostTag(): string {
  if (hostTag === undefined) {
    let h = 0x811c9dc5;
    for (const c of Buffer.from(hostname(), 'utf8')) h = Math.imul(h ^ c, 0x01000193) >>> 0;
    hostTag = h.toString(16).padStart(8, '0');
  }
  return hostTag;
}

/** The temporary name beside `path` that this process writes it under. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.guestkit-${tempHostTag()}-${process.pid}.tmp`);
}

/** The temporary name of this process's `seq`-th file in `dir` (copy-out). */
export function tempPathIn(dir: string, seq: number): string {
  return join(dir, `.guestkit-${tempHostTag()}-${process.pid}-${seq}.tmp`);
}

/** Whether a process with this PID exists (on this machine, in this PID namespace). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

const TMP_FILE_DIR = /^\.guestkit-([0-9a-f]{8})-([1-9]\d{0,9})-[1-9]\d{0,15}\.tmp$/;

/**
 * Call before writing `path`. Remove the temporary files that killed writers of `path` left beside it (names
 * `.NAME.guestkit-HOST-PID.tmp` of this host whose PID is gone). Best effort: a file that
 * cannot be checked or removed stays. Returns the paths removed.
 */
export function removeStaleTemps(path: string): string[] {
  const prefix = `.${basename(path)}.guestkit-`;
  return sweep(dirname(path), (n) => {
    if (!n.startsWith(prefix) || !n.endsWith('.tmp')) return null;
    const m = /^([0-9a-f]{8})-([1-9]\d{0,9})\.tmp$/.exec(n.slice(prefix.length));
    return m ? { host: m[1], pid: Number(m[2]) } : null;
  });
}

/** Call before writing into `dir`. Remove copy-out's temporary files (`.guestkit-HOST-PID-N.tmp`) of dead writers in `dir`. */
export function removeStaleTempsIn(dir: string): string[] {
  return sweep(dir, (n) => {
    const m = TMP_FILE_DIR.exec(n);
    return m ? { host: m[1], pid: Number(m[2]) } : null;
  });
}

function sweep(dir: string, parse: (name: string) => { host: string; pid: number } | null): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const uid = process.getuid?.();
  for (const n of names) {
    const t = parse(n);
    if (!t || t.host !== tempHostTag() || (t.pid !== process.pid && processAlive(t.pid))) continue;
    const p = join(dir, n);
    try {
      const st = lstatSync(p);
      if (!st.isFile() || (uid !== undefined && st.uid !== uid)) continue;
      unlinkSync(p);
      removed.push(p);
    } catch {
      /* gone meanwhile, or not ours to remove */
    }
  }
  return removed;
}

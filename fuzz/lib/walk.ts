// What a fuzz target does with a parsed object: use it the way the tools do (walk, stat,
// read, statfs), bounded so one input costs milliseconds. A GuestkitError from one step is
// a clean answer and the walk goes on with the next; any other exception escapes: a finding.

import { GuestkitError, SliceDevice, probe, type BlockDevice, type Filesystem } from '@guestkit/core';

/** Run `f`; a GuestkitError gives undefined, anything else is rethrown. */
export function guarded<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof GuestkitError) return undefined;
    throw e;
  }
}

export interface WalkBudget {
  /** Directory entries visited in all. */
  entries: number;
  /** Bytes read from files in all. */
  bytes: number;
  /** Bytes read from one file. */
  perFile: number;
}

const DEFAULT_BUDGET: WalkBudget = { entries: 300, bytes: 1 << 20, perFile: 128 << 10 };

/** ls -lR + cat + getfattr + statfs over a filesystem, as the read tools do. */
export function walkFilesystem(fs: Filesystem, budget: WalkBudget = DEFAULT_BUDGET): number {
  let entries = 0;
  let bytes = 0;
  guarded(() => fs.statfs());
  const seenDirs = new Set<number>();
  const queue: number[] = [fs.rootIno];
  const buf = new Uint8Array(64 << 10);
  const visit = (ino: number, type: string) => {
    const st = guarded(() => fs.stat(ino));
    const names = guarded(() => fs.listxattr(ino)) ?? [];
    for (const n of names.slice(0, 8)) guarded(() => fs.getxattr(ino, n));
    if (fs.extraInfo) guarded(() => fs.extraInfo!(ino));
    if (type === 'symlink') guarded(() => fs.readlink(ino));
    if (type === 'file') {
      const size = st?.size ?? 0;
      let pos = 0;
      while (pos < Math.min(size, budget.perFile) && bytes < budget.bytes) {
        const n = guarded(() => fs.read(ino, buf, pos));
        if (!n) break;
        pos += n;
        bytes += n;
      }
      // The tail too: sparse ends and last extents.
      if (size > budget.perFile) guarded(() => fs.read(ino, buf.subarray(0, 4096), Math.max(0, size - 4096)));
    }
  };
  visit(fs.rootIno, 'dir');
  while (queue.length && entries < budget.entries) {
    const dir = queue.shift()!;
    if (seenDirs.has(dir)) continue;
    seenDirs.add(dir);
    guarded(() => {
      let inDir = 0;
      for (const e of fs.readdir(dir)) {
        if (++entries > budget.entries) break;
        // lookup() takes its own path through the directory (hash trees, B-trees).
        if (inDir++ < 3) guarded(() => fs.lookup(dir, e.name));
        visit(e.ino, e.type);
        if (e.type === 'dir') queue.push(e.ino);
      }
    });
    guarded(() => fs.lookup(dir, 'no-such-name-in-this-dir'));
  }
  return entries;
}

/** Probe (blkid) each partition of a table, as virt-filesystems does. */
export function probeSlices(dev: BlockDevice, parts: { start: number; size: number }[], max = 16): void {
  for (const p of parts.slice(0, max)) {
    guarded(() => {
      const slice = new SliceDevice(dev, p.start, p.size, `partition at ${p.start}`);
      probe(slice);
    });
  }
}

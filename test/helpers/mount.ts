// Shared by test/mount*.test.ts: temp mountpoints, and an afterAll that unmounts whatever a
// test file mounted (lazily if anything went wrong: a leftover FUSE mount would hang other
// people's `find`s) and removes the empty directories.

import { afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUESTKIT } from './images';

export function isMounted(mp: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mp);
}

/** Call at a test file's top level: `mounted` is what afterAll unmounts. */
export function mountScratch(prefix: string): { mounted: string[]; tempDir: () => string } {
  const mounted: string[] = [];
  const dirs: string[] = [];
  afterAll(() => {
    for (const mp of mounted) {
      if (isMounted(mp)) spawnSync(GUESTKIT, ['unmount', '--no-retry', '-q', mp], { timeout: 60_000 });
      if (isMounted(mp)) spawnSync('fusermount', ['-u', '-z', mp]);
    }
    for (const d of dirs) {
      if (!isMounted(d)) try { rmdirSync(d); } catch { /* not empty: leave it */ }
    }
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
  return { mounted, tempDir };
}

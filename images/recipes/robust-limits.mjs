// robust-limits: an ext4 filesystem whose structures sit exactly at guestkit's limits and one
// past them, for test/robustness/limits.test.ts (made by mke2fs -d from a host tree):
//   /chain40/l0  a chain of 40 symlinks (LIMITS.maxSymlinks, Linux's MAXSYMLINKS) to /target
//   /chain41/l0  the same chain with 41 links
//   /dir300      300 entries (tests lower LIMITS.maxDirEntries to 300 and to 299)
import { join } from 'node:path';
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { run } from '../lib.mjs';
import { setTreeTimes } from '../fixtures/sample-tree.mjs';

export const ROBUST_LIMITS = { time: 1600000000, uuid: '7a3c0b5e-0000-4000-8000-0000000011e7', dirEntries: 300 };

export default {
  name: 'robust-limits',
  inputs: ['fixtures/sample-tree.mjs'],
  tools: ['mke2fs'],
  async build({ out }) {
    const tree = join(out, 'tree');
    mkdirSync(tree);
    writeFileSync(join(tree, 'target'), 'the end of the chain\n');
    for (const n of [40, 41]) {
      const d = join(tree, `chain${n}`);
      mkdirSync(d);
      // l0 → l1 → ... → l(n-1) → /target: n symlinks followed to resolve l0.
      for (let i = 0; i < n; i++) symlinkSync(i === n - 1 ? '/target' : `l${i + 1}`, join(d, `l${i}`));
    }
    mkdirSync(join(tree, 'dir300'));
    for (let i = 0; i < ROBUST_LIMITS.dirEntries; i++) writeFileSync(join(tree, 'dir300', `e${i}`), '');
    setTreeTimes(tree, ROBUST_LIMITS.time);
    const env = { ...process.env, E2FSPROGS_FAKE_TIME: String(ROBUST_LIMITS.time) };
    run('mke2fs', ['-q', '-t', 'ext4', '-U', ROBUST_LIMITS.uuid, '-E', `root_owner=0:0,hash_seed=${ROBUST_LIMITS.uuid}`,
      '-L', 'robust-limits', '-d', tree, join(out, 'limits.ext4'), '4M'], { env });
  },
};

// NTFS image for the walk benchmark (bench/ntfs-ls.mjs): the 20,000-file benchmark tree of the
// XFS images (tree/dNNN/file-NNN.txt, 200 directories × 100 empty files, XFS_TREE.benchDirs ×
// benchFilesPerDir, fixed mtimes) plus a 5,000-entry folder, made by mkntfs -T (4 KiB clusters,
// 1 KiB MFT records) and filled through ntfs-3g (FUSE) under a frozen clock.
// Benchmark-only (explicit): built when named.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib.mjs';
import { NTFS } from '../fixtures/ntfs-tree.mjs';
import { XFS_TREE } from '../fixtures/xfs-tree.mjs';

export const NTFS_BENCH = { label: 'GkNtfsBench', sizeMiB: 256, mtime: '@1600000000', manyFiles: 5000 };

export default {
  name: 'ntfs-bench',
  explicit: true,
  inputs: ['fixtures/ntfs-tree.mjs', 'fixtures/xfs-tree.mjs'],
  tools: ['mkntfs', 'ntfs-3g', 'cp', 'faketime'],
  async build({ out }) {
    const host = join(out, 'tree');
    for (let d = 0; d < XFS_TREE.benchDirs; d++) {
      const dp = join(host, 'tree', `d${String(d).padStart(3, '0')}`);
      mkdirSync(dp, { recursive: true });
      for (let f = 0; f < XFS_TREE.benchFilesPerDir; f++) writeFileSync(join(dp, `file-${String(f).padStart(3, '0')}.txt`), '');
    }
    mkdirSync(join(host, 'many'), { recursive: true });
    for (let i = 0; i < NTFS_BENCH.manyFiles; i++) writeFileSync(join(host, 'many', `f${String(i).padStart(5, '0')}.txt`), `file ${i}\n`);
    run('bash', ['-c', `find ${JSON.stringify(host)} -exec touch -h -d ${NTFS_BENCH.mtime} {} +`]);

    const img = join(out, 'ntfs.img');
    run('truncate', ['-s', `${NTFS_BENCH.sizeMiB}M`, img]);
    run('mkntfs', ['-q', '-F', '-f', '-T', '-c', '4096', '-L', NTFS_BENCH.label, img]);
    const lib = run('bash', ['-c', 'ls /usr/lib/*/faketime/libfaketime.so.1 | head -1']).trim();
    const env = { ...process.env, LD_PRELOAD: lib, FAKETIME: NTFS.fakeTime, TZ: 'UTC' };
    const mnt = join(out, 'mnt');
    mkdirSync(mnt, { recursive: true });
    const daemon = spawn('ntfs-3g', ['-o', 'no_detach', img, mnt], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    daemon.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((res) => daemon.on('exit', (code) => res(code)));
    try {
      for (let i = 0; ; i++) {
        if (run('bash', ['-c', `grep -qs " ${mnt} " /proc/mounts && echo y || true`]).trim() === 'y') break;
        if (i === 100) throw new Error(`ntfs-3g did not mount: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      run('bash', ['-euo', 'pipefail', '-c', `cp -a ${JSON.stringify(host)}/. .`], { env, cwd: mnt });
    } finally {
      try {
        run('fusermount', ['-u', mnt]);
      } catch (e) {
        daemon.kill('SIGTERM');
        throw e;
      } finally {
        const code = await exited;
        rmSync(mnt, { recursive: true, force: true });
        if (code !== 0) throw new Error(`ntfs-3g exited with ${code}: ${stderr}`);
      }
    }
  },
};

// mount-bigfile: a bare ext4 filesystem holding /big.bin, 1 GiB of pseudo-random bytes
// (AES-256-CTR of zeros under a fixed key: deterministic, incompressible, no holes), for
// bench/mount.mjs: sequential read through `guestkit mount` vs `guestkit cat` vs `cat` of
// the same bytes from the plain file, which is kept next to the image (tree/big.bin).

import { join } from 'node:path';
import { mkdirSync, openSync, writeSync, closeSync, utimesSync } from 'node:fs';
import { createCipheriv } from 'node:crypto';
import { run } from '../lib.mjs';

export const MOUNT_BIGFILE = {
  size: 1024 * 1024 * 1024,
  time: 1700000000,
  uuid: '6d6f756e-7400-4000-8000-000062696731',
};

export default {
  name: 'mount-bigfile',
  tools: ['mke2fs'],
  async build({ out }) {
    const tree = join(out, 'tree');
    mkdirSync(tree, { recursive: true });
    const file = join(tree, 'big.bin');
    const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 0x6b), Buffer.alloc(16, 0));
    const zeros = Buffer.alloc(8 << 20);
    const fd = openSync(file, 'w');
    for (let done = 0; done < MOUNT_BIGFILE.size; done += zeros.length) writeSync(fd, cipher.update(zeros));
    closeSync(fd);
    for (const p of [file, tree]) utimesSync(p, MOUNT_BIGFILE.time, MOUNT_BIGFILE.time);
    run('mke2fs', ['-q', '-t', 'ext4', '-U', MOUNT_BIGFILE.uuid, '-E', `root_owner=0:0,hash_seed=${MOUNT_BIGFILE.uuid}`,
      '-d', tree, join(out, 'big.ext4'), '1100M'], { env: { ...process.env, E2FSPROGS_FAKE_TIME: String(MOUNT_BIGFILE.time) } });
  },
};

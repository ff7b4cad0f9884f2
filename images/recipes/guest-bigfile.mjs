// guest-bigfile: a bare ext4 filesystem holding one 2 GiB sparse file, /big.bin, with markers
// at its start, its middle and its end: `guestkit cat` must stream it (peak memory far below
// its size) and get every byte, holes as zeros. mke2fs -d keeps the holes, so the image is small.

import { join } from 'node:path';
import { mkdirSync, openSync, ftruncateSync, writeSync, closeSync } from 'node:fs';
import { run } from '../lib.mjs';
import { setTreeTimes } from '../fixtures/sample-tree.mjs';

export const BIGFILE = {
  size: 2 * 1024 * 1024 * 1024,
  /** [offset, text] written into the otherwise empty file. */
  markers: [[0, 'START'], [1024 * 1024 * 1024, 'MIDDLE'], [2 * 1024 * 1024 * 1024 - 4, 'END!']],
  time: 1650000000,
};

export default {
  name: 'guest-bigfile',
  inputs: ['fixtures/sample-tree.mjs'],
  tools: ['mke2fs'],
  async build({ out }) {
    const tree = join(out, 'tree');
    mkdirSync(tree, { recursive: true });
    const fd = openSync(join(tree, 'big.bin'), 'w');
    ftruncateSync(fd, BIGFILE.size);
    for (const [off, text] of BIGFILE.markers) writeSync(fd, Buffer.from(text), 0, text.length, off);
    closeSync(fd);
    setTreeTimes(tree, BIGFILE.time);
    run('mke2fs', ['-q', '-t', 'ext4', '-U', '2b16f11e-0000-4000-8000-000000000b16', '-E', 'root_owner=0:0',
      '-d', tree, join(out, 'big.ext4'), '32M'], { env: { ...process.env, E2FSPROGS_FAKE_TIME: String(BIGFILE.time) } });
  },
};

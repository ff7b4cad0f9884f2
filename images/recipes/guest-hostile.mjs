// guest-hostile: a bare ext4 filesystem (no partition table) with directory entries no sane
// tool makes, for the guest view, tar-out and copy-out escape tests. debugfs creates most:
//   /dir/a/b        a fifo whose name holds '/'
//   /dir/. /dir/..  extra entries literally named "." and ".." (fifos)
//   /dir/file twice a duplicate name (two entries, one inode)
//   /dir/sub/loop   a hard link to /dir: a directory that contains itself
//   /dir/x          a hard link to the directory /x-dir
//   /names/a/b, a/d/e, a/, a/d/   fifos whose names hold '/' next to a directory a (holding
//                  0, c, d/f), a-x and a0: where each sorts in a recursive listing
// and /attack holds the symlink-then-directory trick, made by renaming entries in place
// (hand-made bytes, as bad input may be): "q1" a symlink to an absolute host path, then a
// directory also named "q1" holding "pwned"; the same with "r1" and a ../../.. target.
// metadata_csum is off so the renamed entries are not checksum errors.

import { join } from 'node:path';
import { mkdirSync, writeFileSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { run } from '../lib.mjs';
import { setTreeTimes } from '../fixtures/sample-tree.mjs';

export const HOSTILE = {
  time: 1500000000,
  uuid: '4b1d0b5e-0000-4000-8000-00000000beef',
  /** Where the planted symlinks point: a test checks nothing appears there. */
  escapeAbs: '/tmp/guestkit-escape-abs',
  escapeRel: '../../../../../../../../tmp/guestkit-escape-rel',
};

/** Replace the entry name `from` by `to` (same length) in the directory block(s) of `dir`. */
function renameEntry(img, dir, from, to) {
  if (from.length !== to.length) throw new Error('renameEntry: names must have the same length');
  const stat = run('debugfs', ['-R', `stat ${dir}`, img]);
  const bs = Number(/Block size:\s+(\d+)/.exec(run('dumpe2fs', ['-h', img], { stdio: ['ignore', 'pipe', 'ignore'] }))[1]);
  const m = /EXTENTS:\s*\n\s*\(0\):(\d+)/.exec(stat) ?? /BLOCKS:\s*\n\s*\(0\):(\d+)/.exec(stat);
  if (!m) throw new Error(`renameEntry: no block for ${dir}`);
  const off = Number(m[1]) * bs;
  const fd = openSync(img, 'r+');
  try {
    const b = Buffer.alloc(bs);
    readSync(fd, b, 0, bs, off);
    // ext4_dir_entry_2: inode(4) rec_len(2) name_len(1) file_type(1) name
    for (let p = 0; p + 8 <= bs;) {
      const recLen = b.readUInt16LE(p + 4);
      const nameLen = b[p + 6];
      if (recLen < 8) break;
      if (b.toString('latin1', p + 8, p + 8 + nameLen) === from) {
        b.write(to, p + 8, 'latin1');
        writeSync(fd, b, 0, bs, off);
        return;
      }
      p += recLen;
    }
    throw new Error(`renameEntry: ${from} not found in ${dir}`);
  } finally {
    closeSync(fd);
  }
}

export default {
  name: 'guest-hostile',
  inputs: ['fixtures/sample-tree.mjs'],
  tools: ['mke2fs', 'debugfs'],
  async build({ out }) {
    const tree = join(out, 'tree');
    mkdirSync(join(tree, 'dir/sub'), { recursive: true });
    mkdirSync(join(tree, 'x-dir'), { recursive: true });
    mkdirSync(join(tree, 'attack'), { recursive: true });
    mkdirSync(join(tree, 'names/a/d'), { recursive: true });
    for (const f of ['names/a/0', 'names/a/c', 'names/a/d/f', 'names/a-x', 'names/a0']) writeFileSync(join(tree, f), `${f}\n`);
    writeFileSync(join(tree, 'dir/file'), 'data\n');
    writeFileSync(join(tree, 'x-dir/inside'), 'inside x-dir\n');
    writeFileSync(join(tree, 'plain.txt'), 'plain\n');
    setTreeTimes(tree, HOSTILE.time);
    const pwned = join(out, 'pwned');
    writeFileSync(pwned, 'if you can read this outside the target directory, copy-out escaped\n');
    const env = { ...process.env, E2FSPROGS_FAKE_TIME: String(HOSTILE.time) };
    const img = join(out, 'hostile.ext4');
    run('mke2fs', ['-q', '-t', 'ext4', '-O', '^metadata_csum', '-U', HOSTILE.uuid, '-E', `root_owner=0:0,hash_seed=${HOSTILE.uuid}`,
      '-L', 'hostile', '-d', tree, img, '8M'], { env });
    const script = [
      'cd /dir', 'mknod "a/b" p', 'mknod .. p', 'mknod . p', 'ln /dir/file .', 'ln /dir sub/loop', 'ln /x-dir x',
      'cd /names', 'mknod "a/b" p', 'mknod "a/d/e" p', 'mknod "a/" p', 'mknod "a/d/" p',
      'cd /attack',
      `symlink q1 ${HOSTILE.escapeAbs}`, 'mkdir q2', `write ${pwned} q2/pwned`,
      `symlink r1 ${HOSTILE.escapeRel}`, 'mkdir r2', `write ${pwned} r2/pwned`,
    ];
    run('debugfs', ['-w', '-f', '-', img], { input: script.join('\n') + '\n', env });
    renameEntry(img, '/attack', 'q2', 'q1');
    renameEntry(img, '/attack', 'r2', 'r1');
    // Sanity: the trick is in place (two q1 entries, symlink first).
    const ls = run('debugfs', ['-R', 'ls -l /attack', img]);
    if ((ls.match(/ q1\s*$/gm) ?? []).length !== 2) throw new Error(`guest-hostile: /attack is not as planned:\n${ls}`);
  },
};

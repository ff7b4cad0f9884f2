// ext filesystems whose journal holds transactions that were never replayed (the state
// after a crash), written with debugfs's journal writer (journal_open / journal_write /
// journal_close). Two images from the Linux fixture tree:
//   ext4/ext4-journal.img        4 KiB blocks, 64bit: 64-bit tags, journal checksum v3
//   ext4-1k/ext4-1k-journal.img  1 KiB blocks, ^64bit: 32-bit tags, journal checksum v2
//                                (16-bit tag checksums); directories indexed with TEA, signed
// (Journals without checksums are covered by e2fsprogs's f_jnl_64bit sample.)
// For each, "after.img" is the image the transactions describe (made by debugfs edits on a
// copy: a new file whose first block starts with the jbd2 magic, so its journal copy is
// escaped; a new directory; a removed file; a changed mode and owner), and "fsck.img" is the
// crashed image after `e2fsck -fy` replayed its journal. The transactions:
//   1: the first half of the changed blocks, plus garbage for a data block of
//      nested/top.txt, which
//   2: revokes (a revoke-only transaction), so it must not be replayed;
//   3: the other half of the changed blocks;
//   4: garbage for a data block of etc/fstab, never committed: not replayed.
// journal.json lists what a test needs: the changed blocks, the revoked and uncommitted
// blocks and the sha256 of their original contents.

import { join } from 'node:path';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { buildExtImage, debugfsScript, e2fsck } from './ext-ext4.mjs';
import { prngBytes } from '../fixtures/linux-tree.mjs';

const JBD2_MAGIC = Buffer.from([0xc0, 0x3b, 0x39, 0x98]);

function blockOf(img, path) {
  const out = debugfsScript(img, [`bmap ${path} 0`], { write: false });
  const m = /^(\d+)\s*$/m.exec(out.split('\n').filter((l) => !l.startsWith('debugfs')).join('\n'));
  if (!m) throw new Error(`bmap ${path} on ${img}: ${out}`);
  return Number(m[1]);
}

function readBlock(img, bs, n) {
  const fd = openSync(img, 'r');
  try {
    const b = Buffer.alloc(bs);
    readSync(fd, b, 0, bs, n * bs);
    return b;
  } finally {
    closeSync(fd);
  }
}

function crash(out, spec, { csumVersion }) {
  mkdirSync(out, { recursive: true });
  const { img } = buildExtImage(out, spec);
  const bs = spec.blockSize;

  // The state the transactions lead to.
  const after = join(out, 'after.img');
  copyFileSync(img, after);
  const added = join(out, 'added.bin');
  writeFileSync(added, Buffer.concat([JBD2_MAGIC, prngBytes('journal-added', 3 * bs)]));
  const note = join(out, 'note.txt');
  writeFileSync(note, 'written through the journal\n');
  debugfsScript(after, [
    `write ${added} /journal-added.bin`,
    'mkdir /journal-dir',
    `write ${note} /journal-dir/note.txt`,
    'rm /etc/os-release',
    'sif /etc/hostname mode 0100600',
    'sif /etc/hostname uid 4321',
  ]);

  const a = readFileSync(img);
  const b = readFileSync(after);
  const changed = [];
  for (let i = 0; i < a.length / bs; i++) if (!a.subarray(i * bs, (i + 1) * bs).equals(b.subarray(i * bs, (i + 1) * bs))) changed.push(i);
  const half = Math.ceil(changed.length / 2);
  const t1 = changed.slice(0, half);
  const t3 = changed.slice(half);
  const revoked = blockOf(img, '/nested/top.txt');
  const uncommitted = blockOf(img, '/etc/fstab');
  const garbage = (seed) => prngBytes(seed, bs);
  const blocksOf = (list) => Buffer.concat(list.map((n) => b.subarray(n * bs, (n + 1) * bs)));
  writeFileSync(join(out, 't1.bin'), Buffer.concat([blocksOf(t1), garbage('revoked')]));
  writeFileSync(join(out, 't3.bin'), blocksOf(t3));
  writeFileSync(join(out, 't4.bin'), garbage('uncommitted'));
  const sha = (buf) => createHash('sha256').update(buf).digest('hex');
  const original = { revoked: sha(readBlock(img, bs, revoked)), uncommitted: sha(readBlock(img, bs, uncommitted)) };

  debugfsScript(img, [
    `jo -c -v ${csumVersion}`,
    `jw -b ${[...t1, revoked].join(',')} ${join(out, 't1.bin')}`,
    `jw -r ${revoked} /dev/null`,
    `jw -b ${t3.join(',')} ${join(out, 't3.bin')}`,
    `jw -b ${uncommitted} -c ${join(out, 't4.bin')}`,
    'jc',
  ]);

  // Recovery is needed, and e2fsck's replay gives the intended state.
  const dump = spawnSync('dumpe2fs', ['-h', img], { encoding: 'utf8' }).stdout;
  if (!/needs_recovery/.test(dump)) throw new Error(`${img}: needs_recovery is not set after the journal writes`);
  if (!new RegExp(`journal_checksum_v${csumVersion}`).test(dump)) throw new Error(`${img}: the journal does not use checksum v${csumVersion}`);
  const fsck = join(out, 'fsck.img');
  copyFileSync(img, fsck);
  e2fsck(['-fy'], fsck);
  const cat = (image, path) => spawnSync('debugfs', ['-R', `cat ${path}`, image], { encoding: null }).stdout;
  if (!cat(fsck, '/journal-added.bin').equals(readFileSync(added))) throw new Error('e2fsck replay: /journal-added.bin differs');
  for (const p of ['/nested/top.txt', '/etc/fstab']) {
    if (!cat(fsck, p).equals(cat(after, p))) throw new Error(`e2fsck replay: ${p} differs from the intended state`);
  }
  writeFileSync(
    join(out, 'journal.json'),
    JSON.stringify({ blockSize: bs, changedBlocks: changed, revoked, uncommitted, original, transactions: 3, escapedFirstBlock: true }, null, 1),
  );
}

export default {
  name: 'ext-journal',
  inputs: ['fixtures/linux-tree.mjs', 'recipes/ext-ext4.mjs'],
  tools: ['mke2fs', 'e2fsck', 'debugfs', 'tune2fs', 'dumpe2fs', 'setfattr', 'setfacl'],
  async build({ out }) {
    crash(
      join(out, 'ext4'),
      {
        image: 'ext4-journal.img',
        type: 'ext4',
        sizeMiB: 32,
        blockSize: 4096,
        inodeSize: 256,
        inodes: 2048,
        uuid: 'e4e4e4e4-0a11-4000-8000-000000000007',
        hashSeed: 'e4e4e4e4-0a11-4000-8000-0000000000a7',
        label: 'ext4-journal',
        tree: {},
      },
      { csumVersion: 3 },
    );
    crash(
      join(out, 'ext4-1k'),
      {
        image: 'ext4-1k-journal.img',
        type: 'ext4',
        sizeMiB: 24,
        blockSize: 1024,
        inodeSize: 256,
        inodes: 2048,
        features: '^64bit',
        uuid: 'e4e4e4e4-1a11-4000-8000-000000000008',
        hashSeed: 'e4e4e4e4-1a11-4000-8000-0000000000a8',
        label: 'ext4-1k-journal',
        tree: {},
        hashAlg: 'tea',
      },
      { csumVersion: 2 },
    );
  },
};

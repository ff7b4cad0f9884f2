// robust-fs: small ext2/3/4, XFS v4/v5 and btrfs images of one small tree, for the bit-flip
// campaign (test/robustness): every mutant is opened, walked and read in milliseconds, so
// thousands of them fit a run. The tree still exercises the metadata that matters: a 300-entry
// directory (ext htree at 1 KiB blocks, XFS node directory, several btrfs leaves), a 600 KiB
// file (ext2/3 double-indirect blocks at 1 KiB, XFS/btrfs multi-extent), a deep path, short
// and long symlinks, a hard link (ext, btrfs) and a user xattr.
//   ext2.img ext3.img ext4.img   mke2fs -d, 1 KiB blocks, 8 MiB
//   xfs-v4.img xfs-v5.img        mkfs.xfs -p protofile, 300 MiB sparse (mkfs.xfs's minimum)
//   btrfs.img                    mkfs.btrfs --rootdir, 128 MiB sparse
import { join } from 'node:path';
import { mkdirSync, writeFileSync, symlinkSync, linkSync } from 'node:fs';
import { run } from '../lib.mjs';
import { setTreeTimes } from '../fixtures/sample-tree.mjs';

export const ROBUST = {
  time: 1600000000,
  uuid: '7a3c0b5e-0000-4000-8000-00000000f11b',
  images: ['ext2.img', 'ext3.img', 'ext4.img', 'xfs-v4.img', 'xfs-v5.img', 'btrfs.img'],
};

/** Deterministic bytes (xorshift), distinct in every sector, so no two data sectors are equal. */
function pattern(n, seed) {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

function makeTree(tree) {
  const sizes = [0, 1, 100, 511, 512, 4097, 9000, 70000];
  mkdirSync(join(tree, 'a/b/c/d'), { recursive: true });
  mkdirSync(join(tree, 'many'));
  mkdirSync(join(tree, 'small'));
  writeFileSync(join(tree, 'a/b/c/d/deep.txt'), 'deep\n');
  for (let i = 0; i < 24; i++) writeFileSync(join(tree, 'small', `f${String(i).padStart(2, '0')}`), pattern(sizes[i % sizes.length], i + 1));
  for (let i = 0; i < 300; i++) writeFileSync(join(tree, 'many', `entry-with-a-longish-name-${String(i).padStart(3, '0')}`), `${i}\n`);
  writeFileSync(join(tree, 'big.bin'), pattern(600 * 1024, 99));
  symlinkSync('a/b', join(tree, 'link-short'));
  symlinkSync(`${'x/'.repeat(100)}target`, join(tree, 'link-long'));
  setTreeTimes(tree, ROBUST.time);
}

/** mkfs.xfs protofile for the tree (no hard links, no xattrs: a protofile has neither). */
function protofile(tree) {
  const lines = ['robust', '0 0', 'd--755 0 0'];
  const add = (rel, depth) => {
    const fs = runList(join(tree, rel));
    for (const [name, type, target] of fs) {
      const p = rel ? `${rel}/${name}` : name;
      const ind = ' '.repeat(depth);
      if (type === 'd') {
        lines.push(`${ind}${name} d--755 0 0`);
        add(p, depth + 1);
        lines.push(`${ind}$`);
      } else if (type === 'l') lines.push(`${ind}${name} l--777 0 0 ${target}`);
      else lines.push(`${ind}${name} ---644 0 0 ${join(tree, p)}`);
    }
  };
  add('', 1);
  lines.push('$', '');
  return lines.join('\n');
}

/** Entries of a host directory: [name, d|l|f, link target]. */
function runList(dir) {
  const out = run('find', [dir, '-mindepth', '1', '-maxdepth', '1', '-printf', '%f\\t%y\\t%l\\n']);
  return out.split('\n').filter(Boolean).sort().map((l) => l.split('\t'));
}

export default {
  name: 'robust-fs',
  inputs: ['fixtures/sample-tree.mjs'],
  tools: ['mke2fs', 'mkfs.xfs', 'mkfs.btrfs', 'setfattr'],
  async build({ out }) {
    const tree = join(out, 'tree');
    makeTree(tree);
    const env = { ...process.env, E2FSPROGS_FAKE_TIME: String(ROBUST.time) };
    const extTree = join(out, 'ext-tree');
    run('cp', ['-a', tree, extTree]);
    linkSync(join(extTree, 'small/f05'), join(extTree, 'a/hardlink'));
    run('setfattr', ['-n', 'user.robust', '-v', 'value', join(extTree, 'small/f01')]);
    setTreeTimes(extTree, ROBUST.time);
    for (const t of ['ext2', 'ext3', 'ext4']) {
      run('mke2fs', ['-q', '-t', t, '-b', '1024', '-U', ROBUST.uuid, '-E', `root_owner=0:0,hash_seed=${ROBUST.uuid}`,
        '-L', `robust-${t}`, '-d', extTree, join(out, `${t}.img`), '8M'], { env });
    }
    writeFileSync(join(out, 'tree.proto'), protofile(tree));
    for (const [name, extra] of [['xfs-v4', ['-m', 'crc=0', '-n', 'ftype=0']], ['xfs-v5', []]]) {
      const img = join(out, `${name}.img`);
      run('truncate', ['-s', '300M', img]);
      run('mkfs.xfs', ['-f', '-q', '-m', `uuid=${ROBUST.uuid}`, '-L', 'robust', ...extra, '-p', join(out, 'tree.proto'), img]);
    }
    const btrfs = join(out, 'btrfs.img');
    run('truncate', ['-s', '128M', btrfs]);
    run('mkfs.btrfs', ['-q', '-f', '-U', ROBUST.uuid, '-L', 'robust', '--rootdir', extTree, btrfs]);
  },
};

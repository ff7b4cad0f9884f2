// XFS geometries the main images (xfs-images) do not cover, made by mkfs.xfs -p alone from the
// proto-file part of fixtures/xfs-tree.mjs (no appliance: hard links, xattrs, the fragmented
// file and the other appliance-made entries are absent):
//   v5-1k.img   v5, 1 KiB blocks, 8 KiB directory blocks (a directory block spans 8 fs blocks,
//               possibly several extents), classic extent counters (no nrext64);
//   v4-ftype.img v4 with ftype (features2 bit) and 512-byte inodes, 2 KiB blocks, 4 KiB
//               directory blocks.
// mkfs.xfs runs under a frozen clock (faketime) so every inode's times are FROZEN_TIME and the
// images are deterministic. Next to each: <name>.json with the directory forms xfs_db sees and
// the superblock counters.

import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { run } from '../lib.mjs';
import { XFS_TREE, writeXfsTree, xfsProtofile } from '../fixtures/xfs-tree.mjs';

export const XFS_GEOMETRY = {
  frozenTime: '2020-02-02 02:02:02',
  frozenEpoch: 1580608922,
  variants: [
    { name: 'v5-1k', variant: 'v5', uuid: '51c0ffee-0000-4000-8000-000000000001', mkfs: ['-b', 'size=1024', '-n', 'size=8192', '-i', 'nrext64=0'] },
    { name: 'v4-ftype', variant: 'v4', uuid: '41c0ffee-0000-4000-8000-000000000002', mkfs: ['-m', 'crc=0', '-b', 'size=2048', '-n', 'size=4096,ftype=1', '-i', 'size=512'] },
  ],
};

function dirForm(img, path, blocksize) {
  const out = run('xfs_db', ['-r', '-c', `path /${path}`, '-c', 'print core.format', '-c', 'bmap', img]);
  const fmt = /core\.format = (\d+)/.exec(out)[1];
  if (fmt === '1') return 'shortform';
  if (fmt === '3') return 'btree';
  const offs = [...out.matchAll(/data offset (\d+) startblock/g)].map((m) => Number(m[1]));
  if (offs.some((o) => o >= 2 ** 36 / blocksize)) return 'node';
  if (offs.some((o) => o >= 2 ** 35 / blocksize)) return 'leaf';
  return 'block';
}

export default {
  name: 'xfs-geometry',
  inputs: ['fixtures/xfs-tree.mjs'],
  tools: ['mkfs.xfs', 'xfs_db', 'xfs_repair', 'faketime'],
  async build({ out }) {
    const tree = writeXfsTree(join(out, 'tree'));
    for (const v of XFS_GEOMETRY.variants) {
      const img = join(out, `${v.name}.img`);
      const proto = join(out, `${v.name}.proto`);
      writeFileSync(proto, xfsProtofile(v.variant, tree));
      run('truncate', ['-s', `${XFS_TREE.sizeMiB}m`, img]);
      run('faketime', ['-f', XFS_GEOMETRY.frozenTime, 'mkfs.xfs', '-f', '-q', '-m', `uuid=${v.uuid}`, '-L', v.name, ...v.mkfs, '-p', proto, img], { env: { ...process.env, TZ: 'UTC' } });
      run('xfs_repair', ['-n', img]);
      const sb = run('xfs_db', ['-r', '-c', 'sb 0', '-c', 'print blocksize dirblklog dblocks logblocks icount ifree fdblocks', img]);
      const field = (n) => Number(new RegExp(`${n} = (\\d+)`).exec(sb)[1]);
      const blocksize = field('blocksize');
      const forms = {};
      for (const d of ['dirs/empty', 'dirs/sf', 'dirs/block', 'dirs/leaf', 'dirs/node', 'big', 'tree']) forms[d] = dirForm(img, d, blocksize);
      writeFileSync(join(out, `${v.name}.json`), JSON.stringify({
        ...v, blocksize, dirblklog: field('dirblklog'), dblocks: field('dblocks'), logblocks: field('logblocks'),
        icount: field('icount'), ifree: field('ifree'), fdblocks: field('fdblocks'), dirForms: forms,
      }, null, 2) + '\n');
    }
  },
};

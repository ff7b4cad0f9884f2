// FAT12, FAT16 (2048-byte sectors) and FAT32 images made with mkfs.fat and filled with mtools
// from fixtures/fat-tree.mjs, with a fragmented file (fillers written, later files written,
// fillers deleted, then the file written into the holes). Next to each image: <name>.json with
// what dosfstools and mtools say about it (fsck.fat -n -v cluster counts, mshowfat chains of the
// fragmented file), the oracle for statfs and for the fragmentation.
//
// Determinism: mkfs.fat --invariant -i SERIAL; mtools honours SOURCE_DATE_EPOCH for the times it
// makes up; TZ=UTC because mtools writes local time; file mtimes come from the tree (mcopy -m).

import { join } from 'node:path';
import { writeFileSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { run } from '../lib.mjs';
import { writeFatTree, writeFragFillers, FAT_TREE } from '../fixtures/fat-tree.mjs';

export const FAT_VARIANTS = [
  { name: 'fat12', bits: 12, kib: 4096, args: ['-F', '12'] },
  { name: 'fat16', bits: 16, kib: 32768, args: ['-F', '16', '-S', '2048', '-s', '1'] },
  { name: 'fat32', bits: 32, kib: 40960, args: ['-F', '32', '-s', '1'] },
];

const env = { ...process.env, LC_ALL: 'C.UTF-8', TZ: 'UTC', SOURCE_DATE_EPOCH: String(FAT_TREE.sourceDateEpoch), MTOOLS_SKIP_CHECK: '1' };

/** fsck.fat -n -v: "N files, USED/TOTAL clusters". */
function fsckCounts(img) {
  const out = run('fsck.fat', ['-n', '-v', img], { env });
  const m = /(\d+) files, (\d+)\/(\d+) clusters/.exec(out);
  if (!m) throw new Error(`fsck.fat output not understood:\n${out}`);
  return { files: Number(m[1]), used: Number(m[2]), total: Number(m[3]), free: Number(m[3]) - Number(m[2]) };
}

function sectorBytes(img) {
  return Number(/sector size: (\d+) bytes/.exec(run('minfo', ['-i', img, '::'], { env }))[1]);
}

function clusterBytes(img) {
  return Number(/cluster size: (\d+) sectors/.exec(run('minfo', ['-i', img, '::'], { env }))[1]) * sectorBytes(img);
}

function build1(out, v, tree, fillers) {
  const img = join(out, `${v.name}.img`);
  const meta = FAT_TREE[v.name];
  run('mkfs.fat', ['--invariant', '-C', ...v.args, '-n', meta.label, '-i', meta.serial, img, String(v.kib)], { env });
  const m = (cmd, ...a) => run(cmd, ['-i', img, ...a], { env });
  // 1. The fragmentation fixture's first half: filler, keep.bin, fillers.
  m('mmd', '::/frag');
  m('mcopy', '-m', join(fillers, FAT_TREE.fragFillers[0]), '::/frag/');
  m('mcopy', '-m', join(tree, 'frag', 'keep.bin'), '::/frag/');
  for (const f of FAT_TREE.fragFillers.slice(1)) m('mcopy', '-m', join(fillers, f), '::/frag/');
  // 2. Everything else in the tree (its clusters come after the fillers').
  for (const name of readdirSync(tree).sort()) {
    if (name === 'frag') continue;
    m('mcopy', '-s', '-m', join(tree, name), '::/');
  }
  // 3. A big filler over all the free space but the last few clusters, so that the next
  //    allocation wraps around even where mtools follows the FAT32 FSInfo next-free hint.
  const clusterSize = clusterBytes(img);
  const free = fsckCounts(img).free;
  const big = join(fillers, 'big.bin');
  writeFileSync(big, Buffer.alloc((free - 6) * clusterSize, 0xb5));
  utimesSync(big, FAT_TREE.sourceDateEpoch, FAT_TREE.sourceDateEpoch);
  m('mcopy', '-m', big, '::/frag/big.bin');
  // 4. Delete the fillers, then write the fragmented file into the holes they left.
  m('mdel', ...[...FAT_TREE.fragFillers, 'big.bin'].map((f) => `::/frag/${f}`));
  m('mcopy', '-m', join(tree, 'frag', 'fragmented.bin'), '::/frag/');
  // A read-only and a hidden file (attributes Linux shows as mode bits / ignores).
  m('mattrib', '+r', '::/UPPER.TXT');
  m('mattrib', '+h', '::/NOEXT');

  const counts = fsckCounts(img);
  const chain = run('mshowfat', ['-i', img, '::/frag/fragmented.bin'], { env }).trim();
  if (chain.split('<').length < 3) throw new Error(`${v.name}: fragmented.bin is not fragmented: ${chain}`);
  writeFileSync(join(out, `${v.name}.json`), JSON.stringify({
    fatBits: v.bits,
    label: meta.label,
    uuid: meta.uuid,
    sectorSize: sectorBytes(img),
    clusterSize,
    clusters: counts.total,
    usedClusters: counts.used,
    freeClusters: counts.free,
    files: counts.files,
    fragmentedChain: chain,
  }, null, 2) + '\n');
}

export default {
  name: 'fat-images',
  inputs: ['fixtures/fat-tree.mjs'],
  tools: ['mkfs.fat', 'mcopy', 'fsck.fat'],
  async build({ out }) {
    const tree = writeFatTree(join(out, 'tree'));
    const fillers = writeFragFillers(join(out, 'fillers'));
    for (const v of FAT_VARIANTS) build1(out, v, tree, fillers);
    rmSync(fillers, { recursive: true, force: true });
  },
};

// Tiny images for the fuzz targets' seed corpora (fuzz/seeds.ts): every filesystem type,
// partition tables and qcow2 variants, made by the real tools from an eight-file tree. They are
// small on purpose: a seed is the image's non-zero sectors (fuzz/lib/sparse-image.ts), and the
// fuzzer's mutations should land on metadata, not on file data.
//
//   ext2.img ext4.img     mke2fs -d (1 KiB blocks; ext4 with extents, metadata_csum, journal)
//   fat12.img fat32.img   mkfs.fat + mcopy -s
//   ntfs.img              mkntfs + ntfscp (root-folder files only: ntfscp makes no folders)
//   xfs.img               mkfs.xfs -p protofile, 16 MiB (below mkfs.xfs's 300 MB floor, which
//                         it lifts for test setups when TEST_DIR is set)
//   btrfs.img             mkfs.btrfs --rootdir, 128 MiB (its minimum), mostly holes
//   gpt.img mbr.img       sfdisk: GPT with 3 partitions; MBR with an extended partition and 3
//                         logical ones (an EBR chain); the FAT12 image in the first partition
//   *.qcow2               qemu-img/qemu-io: v2 and v3, 512 B / 4 KiB / 64 KiB clusters, zero
//                         clusters, zlib and zstd compressed clusters, extended L2, a snapshot

import { join } from 'node:path';
import { mkdirSync, writeFileSync, symlinkSync, utimesSync } from 'node:fs';
import { run, makePartitionedDisk } from '../lib.mjs';

const T = 1_600_000_000;

function writeTree(root) {
  const files = {
    'hello.txt': 'hello, fuzz\n',
    'dir/a.txt': 'a'.repeat(100),
    'dir/sub/deep.txt': 'deep\n',
    'big.bin': Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff)),
    'empty': '',
    'ünïcode-name.txt': 'u\n',
  };
  for (let i = 0; i < 40; i++) files[`many/file-with-a-longish-name-${String(i).padStart(3, '0')}`] = `${i}\n`;
  for (const [p, c] of Object.entries(files)) {
    const full = join(root, p);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, c);
  }
  symlinkSync('hello.txt', join(root, 'link'));
  for (const d of ['', 'dir', 'dir/sub', 'many']) utimesSync(join(root, d), T, T);
  for (const p of Object.keys(files)) utimesSync(join(root, p), T, T);
  return files;
}

/** mkfs.xfs protofile for the tree (regular files, folders, the symlink). */
function xfsProto(root, files) {
  const tree = {};
  for (const p of Object.keys(files)) {
    const parts = p.split('/');
    let t = tree;
    for (const d of parts.slice(0, -1)) t = t[d] ??= {};
    t[parts[parts.length - 1]] = join(root, p);
  }
  const lines = ['/dev/null', '0 0', 'd--755 0 0'];
  const emit = (t) => {
    for (const [name, v] of Object.entries(t)) {
      if (typeof v === 'string') lines.push(`${name} ---644 0 0 ${v}`);
      else {
        lines.push(`${name} d--755 0 0`);
        emit(v);
        lines.push('$');
      }
    }
  };
  emit(tree);
  lines.push('link l--777 0 0 hello.txt', '$');
  return lines.join('\n') + '\n';
}

export default {
  name: 'fuzz-seeds',
  inputs: [],
  tools: ['mke2fs', 'mkfs.fat', 'mcopy', 'mkntfs', 'ntfscp', 'mkfs.xfs', 'mkfs.btrfs', 'sfdisk', 'qemu-img', 'qemu-io'],
  async build({ out }) {
    const tree = join(out, 'tree');
    const files = writeTree(tree);
    const env = { ...process.env, E2FSPROGS_FAKE_TIME: String(T), SOURCE_DATE_EPOCH: String(T), TZ: 'UTC' };
    const img = (n) => join(out, n);

    run('mke2fs', ['-q', '-F', '-t', 'ext2', '-b', '1024', '-U', 'f0220000-0000-4000-8000-000000000002', '-E', 'hash_seed=f0220000-0000-4000-8000-000000000003', '-d', tree, img('ext2.img'), '1M'], { env });
    run('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '1024', '-U', 'f0240000-0000-4000-8000-000000000004', '-E', 'hash_seed=f0240000-0000-4000-8000-000000000005', '-d', tree, img('ext4.img'), '4M'], { env });

    run('mkfs.fat', ['--invariant', '-C', '-i', 'f0f00012', '-n', 'FUZZ12', img('fat12.img'), '1440'], { env });
    run('mkfs.fat', ['--invariant', '-C', '-F', '32', '-s', '1', '-i', 'f0f00032', '-n', 'FUZZ32', img('fat32.img'), String(34 * 1024)], { env });
    for (const f of ['fat12.img', 'fat32.img']) {
      run('mcopy', ['-s', '-m', '-i', img(f), join(tree, 'hello.txt'), join(tree, 'dir'), join(tree, 'many'), join(tree, 'big.bin'), join(tree, 'empty'), '::/'], { env });
    }

    run('truncate', ['-s', '4M', img('ntfs.img')]);
    run('mkntfs', ['-q', '-F', '-f', '-T', '-L', 'FUZZ', img('ntfs.img')], { env });
    for (const f of ['hello.txt', 'big.bin', 'empty']) run('ntfscp', ['-q', img('ntfs.img'), join(tree, f), f], { env });

    writeFileSync(join(out, 'xfs.proto'), xfsProto(tree, files));
    run('truncate', ['-s', '16M', img('xfs.img')]);
    run('mkfs.xfs', ['-f', '-q', '-m', 'uuid=f0e50000-0000-4000-8000-000000000006', '-L', 'fuzz', '-p', join(out, 'xfs.proto'), img('xfs.img')], { env: { ...env, TEST_DIR: '1', TEST_DEV: '1', QA_CHECK_FS: '1' } });

    run('truncate', ['-s', '128M', img('btrfs.img')]);
    run('mkfs.btrfs', ['-q', '-f', '-U', 'f0b70000-0000-4000-8000-000000000007', '-L', 'fuzz', '--rootdir', tree, img('btrfs.img')], { env });

    makePartitionedDisk(img('gpt.img'), {
      label: 'gpt', sizeMiB: 8, extra: 'label-id: F0000000-0000-4000-8000-000000000008',
      parts: [{ sizeMiB: 2, type: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', name: 'fat', image: img('fat12.img') }, { sizeMiB: 2, type: 'L', name: 'linux' }, { sizeMiB: 1, type: 'S' }],
    });
    makePartitionedDisk(img('mbr.img'), {
      label: 'dos', sizeMiB: 16, extra: 'label-id: 0xf0000009',
      parts: [{ sizeMiB: 2, type: 'c', bootable: true, image: img('fat12.img') }, { type: '5' }, { sizeMiB: 1, type: '83' }, { sizeMiB: 1, type: '82' }, { sizeMiB: 1, type: '8e' }],
    });

    // qcow2: a 4 MiB disk with data here and there, zeroes, and a snapshot.
    const raw = img('data.raw');
    run('truncate', ['-s', '4M', raw]);
    run('qemu-io', ['-f', 'raw', '-c', 'write -P 0x5a 0 64k', '-c', 'write -P 0x33 1M 4k', '-c', 'write -P 0x01 3M 1536', raw]);
    const variants = [
      ['v2-512.qcow2', ['-o', 'compat=0.10,cluster_size=512']],
      ['v3-4k.qcow2', ['-o', 'compat=1.1,cluster_size=4096']],
      ['v3-64k.qcow2', ['-o', 'compat=1.1,cluster_size=65536']],
      ['zlib-4k.qcow2', ['-c', '-o', 'compat=1.1,cluster_size=4096']],
      ['zstd-4k.qcow2', ['-c', '-o', 'compat=1.1,cluster_size=4096,compression_type=zstd']],
      ['extl2-16k.qcow2', ['-o', 'compat=1.1,cluster_size=16384,extended_l2=on']],
    ];
    for (const [name, args] of variants) run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', ...args, raw, img(name)]);
    run('qemu-io', ['-f', 'qcow2', '-c', 'write -z 1M 4k', '-c', 'write -P 0x77 2M 8k', img('v3-4k.qcow2')]);
    run('qemu-img', ['snapshot', '-c', 'snap1', img('v3-4k.qcow2')]);
    run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x88 0 4k', img('v3-4k.qcow2')]);
  },
};

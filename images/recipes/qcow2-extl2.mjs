// qcow2 images with extended L2 entries (extended_l2=on: 32 subclusters per cluster, each
// with an allocation bit and a zero bit): 64 KiB clusters (2 KiB subclusters), 16 KiB clusters
// (512 B subclusters, an L2 table maps 16 MiB, so writes cross L2 tables), 2 MiB clusters
// (64 KiB subclusters), and compressed clusters in an extended-L2 image. qemu-io writes at
// subcluster granularity and odd offsets, `write -z` over allocated and unallocated
// subclusters. `.raw` twins by qemu-img convert.

import { join } from 'node:path';
import { run } from '../lib.mjs';
import { randomFile, qemuIo, toRaw, qcow2Create } from './qcow2-basic.mjs';

const MiB = 1024 * 1024;
const KiB = 1024;

export default {
  name: 'qcow2-extl2',
  inputs: ['recipes/qcow2-basic.mjs'],
  tools: ['qemu-img', 'qemu-io'],
  async build({ out }) {
    const r = randomFile(join(out, 'random.bin'), 2 * MiB, 41);

    const a = join(out, 'extl2-64k.qcow2');
    qcow2Create(a, 24 * MiB, { extended_l2: 'on', cluster_size: 65536 });
    qemuIo(a, [
      `write -P 0x41 ${2 * KiB} ${2 * KiB}`,
      `write -P 0x42 ${10 * KiB} ${6 * KiB}`,
      `write -s ${r} ${64 * KiB + 1000} 5000`,
      `write -z ${70 * KiB} ${2 * KiB}`,
      `write -z ${200 * KiB} ${4 * KiB}`,
      `write -s ${r} ${1 * MiB} ${2 * MiB}`,
      `write -z ${2 * MiB} ${64 * KiB}`,
      `write -z ${2 * MiB + 128 * KiB + 6 * KiB} ${10 * KiB}`,
      `write -P 0x43 ${20 * MiB - 300} 700`,
    ]);
    toRaw(a, join(out, 'extl2-64k.raw'));

    const b = join(out, 'extl2-16k.qcow2');
    qcow2Create(b, 40 * MiB, { extended_l2: 'on', cluster_size: 16384 });
    qemuIo(b, [
      `write -s ${r} ${16 * MiB - 5000} 10000`,
      `write -P 0x51 ${32 * MiB - 1536} 2048`,
      `write -z ${16 * MiB - 512} 1024`,
      `write -P 0x52 ${100 * KiB + 512} 512`,
      `write -P 0x53 ${100 * KiB + 1536} 512`,
      `write -s ${r} ${5 * MiB} ${1 * MiB}`,
    ]);
    toRaw(b, join(out, 'extl2-16k.raw'));

    const c = join(out, 'extl2-2m.qcow2');
    qcow2Create(c, 16 * MiB, { extended_l2: 'on', cluster_size: 2 * MiB });
    qemuIo(c, [
      `write -P 0x61 ${64 * KiB} ${64 * KiB}`,
      `write -s ${r} ${2 * MiB + 100 * KiB} ${300 * KiB}`,
      `write -z ${2 * MiB + 192 * KiB} ${64 * KiB}`,
      `write -z ${8 * MiB} ${128 * KiB}`,
    ]);
    toRaw(c, join(out, 'extl2-2m.raw'));

    const d = join(out, 'extl2-compressed.qcow2');
    run('qemu-img', ['convert', '-c', '-O', 'qcow2', '-o', 'extended_l2=on', a, d]);
    qemuIo(d, [`write -P 0x71 ${4 * KiB} ${2 * KiB}`]);
    toRaw(d, join(out, 'extl2-compressed.raw'));
  },
};

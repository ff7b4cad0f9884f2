// qcow2 images with two internal snapshots that differ from each other and from the active
// state: data written, `qemu-img snapshot -c first`, more writes (patterns, zeroes, unmapped
// zeroes), `qemu-img snapshot -c second`, more writes. In version 3 (compat=1.1) and version 2
// (compat=0.10). `.raw` twins: the active state and each snapshot by
// `qemu-img convert -l snapshot.name=NAME`.

import { join } from 'node:path';
import { run } from '../lib.mjs';
import { randomFile, qemuIo, toRaw, qcow2Create } from './qcow2-basic.mjs';

const MiB = 1024 * 1024;

export const SNAPSHOT_IMAGES = [
  { name: 'snap-v3', compat: '1.1' },
  { name: 'snap-v2', compat: '0.10' },
];

export default {
  name: 'qcow2-snapshots',
  inputs: ['recipes/qcow2-basic.mjs'],
  tools: ['qemu-img', 'qemu-io'],
  async build({ out }) {
    const r = randomFile(join(out, 'random.bin'), 4 * MiB, 31);
    for (const im of SNAPSHOT_IMAGES) {
      const img = join(out, `${im.name}.qcow2`);
      qcow2Create(img, 16 * MiB, { compat: im.compat });
      qemuIo(img, [`write -s ${r} 0 ${4 * MiB}`, `write -P 0x41 ${8 * MiB} ${1 * MiB}`]);
      run('qemu-img', ['snapshot', '-c', 'first', img]);
      qemuIo(img, [
        `write -P 0x42 ${1 * MiB + 512} ${2 * MiB}`,
        `write -z ${3 * MiB} ${512 * 1024}`,
        `write -z -u ${8 * MiB} ${256 * 1024}`,
        `write -P 0x43 ${12 * MiB} 70000`,
      ]);
      run('qemu-img', ['snapshot', '-c', 'second snapshot', img]);
      qemuIo(img, [`write -P 0x44 0 ${1 * MiB}`, `write -z ${12 * MiB} 65536`, `write -P 0x45 ${15 * MiB} 4096`]);
      toRaw(img, join(out, `${im.name}.raw`));
      toRaw(img, join(out, `${im.name}.first.raw`), ['-l', 'snapshot.name=first']);
      toRaw(img, join(out, `${im.name}.second.raw`), ['-l', 'snapshot.name=second snapshot']);
    }
  },
};

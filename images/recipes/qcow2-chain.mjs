// qcow2 backing chains, every backing name relative:
//   chain/base/base.qcow2 (12 MiB, v3)  ←  chain/mid.qcow2 (16 MiB, v2, names "base/base.qcow2")
//     ←  chain/top.qcow2 (20 MiB, v3 512 B clusters, names "mid.qcow2")
// with writes at each level (qemu-io patterns, seeded random data, `write -z`), each layer
// longer than the one below (reads past a shorter backing file are zeros);
//   chain/raw-top.qcow2 over a fully written raw base (backing_fmt raw);
//   chain/extl2-top.qcow2 with extended L2 entries over base.qcow2 (subcluster writes: the
//     unallocated subclusters of an allocated cluster read from the backing file);
//   chain/sub/outside-top.qcow2 naming "../mid.qcow2": outside its own folder tree.
// `.raw` twins by qemu-img convert of each top (whole chain).

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { run } from '../lib.mjs';
import { randomFile, qemuIo, toRaw, qcow2Create } from './qcow2-basic.mjs';

const MiB = 1024 * 1024;

export default {
  name: 'qcow2-chain',
  inputs: ['recipes/qcow2-basic.mjs'],
  tools: ['qemu-img', 'qemu-io'],
  async build({ out }) {
    const dir = join(out, 'chain');
    mkdirSync(join(dir, 'base'), { recursive: true });
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const r = randomFile(join(out, 'random.bin'), 4 * MiB, 21);

    const base = join(dir, 'base', 'base.qcow2');
    qcow2Create(base, 12 * MiB, { compat: '1.1' });
    qemuIo(base, [
      `write -s ${r} 0 ${4 * MiB}`,
      `write -P 0x11 ${4 * MiB} ${4 * MiB}`,
      `write -s ${r} ${9 * MiB + 333} ${2 * MiB}`,
      `write -z ${6 * MiB} ${512 * 1024}`,
    ]);

    // The chain is created from inside its folder so that the names stored are relative.
    const inDir = { cwd: dir };
    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', '-b', 'base/base.qcow2', '-F', 'qcow2', 'mid.qcow2', String(16 * MiB)], inDir);
    const mid = join(dir, 'mid.qcow2');
    qemuIo(mid, [
      `write -P 0x22 ${1 * MiB + 512} ${300 * 1024}`,
      `write -z ${3 * MiB} ${1 * MiB}`,
      `write -P 0x23 ${13 * MiB} ${1 * MiB}`,
      `write -P 0x24 ${12 * MiB - 4096} 8192`,
    ]);

    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'compat=1.1,cluster_size=512', '-b', 'mid.qcow2', '-F', 'qcow2', 'top.qcow2', String(20 * MiB)], inDir);
    const top = join(dir, 'top.qcow2');
    qemuIo(top, [
      `write -P 0x33 ${2 * MiB - 1000} 5000`,
      `write -z ${5 * MiB} ${512 * 1024}`,
      `write -z ${3 * MiB + 4096} 4096`,
      `write -s ${r} ${17 * MiB} ${1 * MiB}`,
      `write -P 0x34 ${8 * MiB - 256} 512`,
    ]);

    // Raw base, fully written (no holes), so qemu-img map calls all of it data.
    const rawBase = join(dir, 'base.raw');
    run('dd', [`if=${r}`, `of=${rawBase}`, 'bs=1M', 'count=4', 'status=none']);
    run('truncate', ['-s', String(6 * MiB), rawBase]);
    qemuIo(rawBase, [`write -P 0x55 ${4 * MiB} ${2 * MiB}`], 'raw');
    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', 'raw-top.qcow2', String(8 * MiB)], inDir);
    qemuIo(join(dir, 'raw-top.qcow2'), [`write -P 0x66 ${1 * MiB} ${100 * 1024}`, `write -z ${5 * MiB} 65536`]);

    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'extended_l2=on', '-b', 'base/base.qcow2', '-F', 'qcow2', 'extl2-top.qcow2'], inDir);
    qemuIo(join(dir, 'extl2-top.qcow2'), [
      `write -P 0x77 2048 2048`,
      `write -P 0x78 ${64 * 1024 + 6144} 3000`,
      `write -z ${128 * 1024 + 2048} 4096`,
      `write -s ${r} ${4 * MiB - 10000} 20000`,
      `write -z ${7 * MiB} ${64 * 1024}`,
    ]);

    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', '../mid.qcow2', '-F', 'qcow2', 'outside-top.qcow2'], { cwd: join(dir, 'sub') });
    qemuIo(join(dir, 'sub', 'outside-top.qcow2'), [`write -P 0x99 ${1 * MiB} 65536`]);

    for (const t of ['top', 'mid', 'raw-top', 'extl2-top']) toRaw(join(dir, `${t}.qcow2`), join(out, `${t}.raw`));
    toRaw(join(dir, 'sub', 'outside-top.qcow2'), join(out, 'outside-top.raw'));
  },
};

// The qcow2 read benchmark's images (used only by bench/qcow2-read.mjs, not by tests):
// a 1 GiB disk with 64 KiB clusters, about half allocated: per 1 MiB region, chosen by a
// seeded generator, 45% random data, 10% compressible text, 5% data later zeroed with
// `qemu-io write -z` (zero clusters), 40% never written.
//   bench.qcow2       qemu-img convert from the raw disk, then the zero writes
//   bench-zlib.qcow2  the same with `qemu-img convert -c` (text regions become zlib-compressed
//                     clusters; random clusters do not shrink, so qemu stores them plain)
//   bench-full.raw    `qemu-img convert -O raw -S 0` of bench.qcow2: the equivalent raw image,
//                     fully allocated (for `cat`, the page-cache limit)

import { join } from 'node:path';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { run } from '../lib.mjs';
import { seededBytes, seededText, qemuIo } from './qcow2-basic.mjs';

const MiB = 1024 * 1024;
export const BENCH_SIZE = 1024 * MiB;

/** The layout: what each 1 MiB region holds. */
export function benchLayout() {
  const pick = seededBytes(BENCH_SIZE / MiB, 77);
  return [...pick].map((b) => {
    const x = b / 256;
    if (x < 0.45) return 'random';
    if (x < 0.55) return 'text';
    if (x < 0.6) return 'zeroed';
    return 'hole';
  });
}

export default {
  name: 'qcow2-bench',
  /** Built only when named (bench/qcow2-read.mjs does): 2.2 GB and a minute or two, no test uses it. */
  explicit: true,
  inputs: ['recipes/qcow2-basic.mjs'],
  tools: ['qemu-img', 'qemu-io'],
  async build({ out }) {
    const src = join(out, 'source.raw');
    const layout = benchLayout();
    const fd = openSync(src, 'w');
    const text = seededText(4 * MiB, 78);
    layout.forEach((kind, i) => {
      if (kind === 'random' || kind === 'zeroed') writeSync(fd, seededBytes(MiB, 1000 + i), 0, MiB, i * MiB);
      else if (kind === 'text') writeSync(fd, text, (i % 3) * MiB, MiB, i * MiB);
    });
    closeSync(fd);
    run('truncate', ['-s', String(BENCH_SIZE), src]);

    const zeroes = [];
    layout.forEach((kind, i) => {
      if (kind === 'zeroed') zeroes.push(`write -z ${i * MiB} ${MiB}`);
    });
    const plain = join(out, 'bench.qcow2');
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', '-o', 'cluster_size=65536', src, plain]);
    qemuIo(plain, zeroes);
    const zlib = join(out, 'bench-zlib.qcow2');
    run('qemu-img', ['convert', '-c', '-f', 'raw', '-O', 'qcow2', '-o', 'cluster_size=65536,compression_type=zlib', src, zlib]);
    qemuIo(zlib, zeroes);
    rmSync(src);
    run('qemu-img', ['convert', '-S', '0', '-O', 'raw', plain, join(out, 'bench-full.raw')]);
  },
};

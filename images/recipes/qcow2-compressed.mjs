// qcow2 images with compressed clusters, made by `qemu-img convert -c` from a raw disk of
// compressible text, seeded random data (which qemu stores uncompressed: it does not shrink)
// and zeroes: zlib (compression_type=zlib, also in a version 2 image) and zstd
// (compression_type=zstd), with 512 B, 64 KiB and 2 MiB clusters; then some clusters are
// overwritten (uncompressed) and some written compressed by qemu-io (`write -c`), so
// compressed and normal clusters interleave. Each image has a `.raw` twin (qemu-img convert).

import { join } from 'node:path';
import { openSync, writeSync, closeSync } from 'node:fs';
import { run } from '../lib.mjs';
import { seededBytes, seededText, qemuIo, toRaw } from './qcow2-basic.mjs';

const MiB = 1024 * 1024;
/** 12-16 MiB stays empty in the source, for compressed writes by qemu-io (only to unallocated clusters). */
const SIZE = 16 * MiB;

export const COMPRESSED_IMAGES = [
  { name: 'zlib-64k', opts: 'compat=1.1,cluster_size=65536,compression_type=zlib' },
  { name: 'zlib-v2-64k', opts: 'compat=0.10,cluster_size=65536' },
  { name: 'zlib-512', opts: 'compat=1.1,cluster_size=512,compression_type=zlib' },
  { name: 'zlib-2m', opts: 'compat=1.1,cluster_size=2097152,compression_type=zlib' },
  { name: 'zstd-64k', opts: 'compat=1.1,cluster_size=65536,compression_type=zstd' },
  { name: 'zstd-512', opts: 'compat=1.1,cluster_size=512,compression_type=zstd' },
  { name: 'zstd-2m', opts: 'compat=1.1,cluster_size=2097152,compression_type=zstd' },
];

export default {
  name: 'qcow2-compressed',
  inputs: ['recipes/qcow2-basic.mjs'],
  tools: ['qemu-img', 'qemu-io'],
  async build({ out }) {
    // The source disk: text, random, zero and text again, at odd boundaries.
    const src = join(out, 'source.raw');
    const fd = openSync(src, 'w');
    writeSync(fd, seededText(5 * MiB + 1234, 11), 0, undefined, 0);
    writeSync(fd, seededBytes(2 * MiB, 12), 0, undefined, 6 * MiB + 512);
    writeSync(fd, seededText(3 * MiB, 13), 0, undefined, 9 * MiB - 4096);
    closeSync(fd);
    run('truncate', ['-s', String(SIZE), src]);
    const text = join(out, 'text.bin');
    const tfd = openSync(text, 'w');
    writeSync(tfd, seededText(MiB, 14));
    closeSync(tfd);

    for (const im of COMPRESSED_IMAGES) {
      const img = join(out, `${im.name}.qcow2`);
      run('qemu-img', ['convert', '-c', '-f', 'raw', '-O', 'qcow2', '-o', im.opts, src, img]);
      const cs = /cluster_size=(\d+)/.exec(im.opts)[1] * 1;
      qemuIo(img, [
        // Overwrite part of a compressed range with normal data.
        `write -P 0x71 ${2 * MiB + 100} 70000`,
        // Compressed writes need whole clusters.
        `write -c -s ${text} ${12 * MiB} ${Math.max(cs, 131072)}`,
        `write -z ${4 * MiB} ${Math.max(cs, 65536)}`,
      ]);
      toRaw(img, join(out, `${im.name}.raw`));
    }
  },
};

// qcow2 images in both header versions (compat=0.10 → version 2, compat=1.1 → version 3) and
// the cluster sizes 512 B, 64 KiB and 2 MiB, written by qemu-io with patterns, seeded random
// data, zeroes (allocated and unmapped) and out-of-order writes (so host clusters are not in
// guest order); plus a sparse 64 KiB-cluster image whose data crosses the 512 MiB L2-table
// boundary, and a raw image. Every image has a `.raw` twin made by `qemu-img convert -O raw`
// (the oracle the tests compare against).
//
// Also exports the helpers the other qcow2-* recipes use (seeded random data, qemu-io).

import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { run } from '../lib.mjs';

/** Deterministic pseudo-random bytes (xorshift128, seeded): the same bytes on every machine. */
export function seededBytes(size, seed) {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = 0x9e3779b9 ^ seed;
  let y = 0x243f6a88 + seed * 7;
  let z = 0xb7e15162 ^ (seed << 3);
  let w = 0x12345678 + seed;
  for (let i = 0; i < 16; i++) [x, y, z, w] = step(x, y, z, w);
  for (let i = 0; i < words.length; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    words[i] = w;
  }
  return new Uint8Array(words.buffer, 0, size);
}

function step(x, y, z, w) {
  const t = x ^ (x << 11);
  return [y, z, w, (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0];
}

const WORDS = 'the quick brown fox jumps over lazy dog qcow2 cluster table backing snapshot guest disk image sector block zero data'.split(' ');

/** Compressible, text-like deterministic bytes (words picked by the seeded generator). */
export function seededText(size, seed) {
  const r = seededBytes(Math.ceil(size / 3) + 16, seed);
  const out = Buffer.alloc(size);
  let p = 0;
  for (let i = 0; p < size; i++) {
    const w = WORDS[r[i % r.length] % WORDS.length];
    p += out.write(i % 13 === 12 ? `${w}\n` : `${w} `, p);
  }
  return new Uint8Array(out.buffer, out.byteOffset, size);
}

/** Write seeded random data to a file (a qemu-io `write -s` source). */
export function randomFile(path, size, seed) {
  writeFileSync(path, seededBytes(size, seed));
  return path;
}

/** Run qemu-io commands (one process, in order) on an image. */
export function qemuIo(image, cmds, fmt = 'qcow2') {
  run('qemu-io', ['-f', fmt, ...cmds.flatMap((c) => ['-c', c]), image]);
}

/** The oracle: `qemu-img convert -O raw` of an image (and its backing chain). */
export function toRaw(image, out, extra = []) {
  run('qemu-img', ['convert', ...extra, '-O', 'raw', image, out]);
  return out;
}

export function qcow2Create(path, size, opts = {}, backing) {
  const o = Object.entries(opts).map(([k, v]) => `${k}=${v}`).join(',');
  const args = ['create', '-q', '-f', 'qcow2'];
  if (o) args.push('-o', o);
  if (backing) args.push('-b', backing.file, '-F', backing.fmt);
  args.push(path);
  if (size !== undefined) args.push(String(size));
  run('qemu-img', args);
}

const MiB = 1024 * 1024;
/** Virtual size: not a multiple of any cluster size, so the last cluster is partial. */
const SIZE = 24 * MiB + 3584;

/** The writes every basic image gets: same guest content whatever the cluster size. */
function basicWrites(r1, r2) {
  const cmds = [
    `write -s ${r1} 0 ${3 * MiB}`,
    `write -P 0xa5 ${5 * MiB + 1536} 100000`,
    `write -P 0x3c ${7 * MiB - 700} 1400`,
  ];
  // Out of order: host clusters end up in reverse guest order.
  for (let i = 7; i >= 0; i--) cmds.push(`write -s ${r2} ${12 * MiB + i * 256 * 1024 + 512} ${256 * 1024 - 1024}`);
  cmds.push(
    `write -z ${1 * MiB} ${512 * 1024}`, // zeroes over data (v3: zero flag, host cluster kept)
    `write -z -u ${2 * MiB} ${256 * 1024}`, // zeroes, unmapped
    `write -z ${20 * MiB} ${1 * MiB}`, // zeroes where nothing was
    `write -P 0x5e ${SIZE - 10001} 10001`, // the partial last cluster
    `write -s ${r2} ${16 * MiB + 4096} ${40000}`,
  );
  return cmds;
}

export const BASIC_IMAGES = [
  { name: 'v2-512', compat: '0.10', cluster: 512 },
  { name: 'v2-64k', compat: '0.10', cluster: 65536 },
  { name: 'v2-2m', compat: '0.10', cluster: 2 * MiB },
  { name: 'v3-512', compat: '1.1', cluster: 512 },
  { name: 'v3-64k', compat: '1.1', cluster: 65536 },
  { name: 'v3-2m', compat: '1.1', cluster: 2 * MiB },
];

export default {
  name: 'qcow2-basic',
  tools: ['qemu-img', 'qemu-io'],
  async build({ out }) {
    const r1 = randomFile(join(out, 'random1.bin'), 3 * MiB, 1);
    const r2 = randomFile(join(out, 'random2.bin'), 256 * 1024, 2);
    for (const im of BASIC_IMAGES) {
      const img = join(out, `${im.name}.qcow2`);
      qcow2Create(img, SIZE, { compat: im.compat, cluster_size: im.cluster });
      qemuIo(img, basicWrites(r1, r2));
      toRaw(img, join(out, `${im.name}.raw`));
    }

    // 64 KiB clusters: one L2 table maps 512 MiB; data straddles the 512 MiB and 1 GiB boundaries.
    const big = join(out, 'v3-64k-l2cross.qcow2');
    qcow2Create(big, 1100 * MiB, { compat: '1.1', cluster_size: 65536 });
    qemuIo(big, [
      `write -s ${r1} ${512 * MiB - 1 * MiB - 1000} ${2 * MiB}`,
      `write -P 0x61 ${1024 * MiB - 70000} 140001`,
      `write -s ${r2} ${4 * MiB} ${100000}`,
      `write -z ${512 * MiB - 65536} ${131072}`,
    ]);
    toRaw(big, join(out, 'v3-64k-l2cross.raw'));

    // A raw image: the same writes, read by the raw driver (format probe says raw).
    const raw = join(out, 'plain.img');
    run('truncate', ['-s', String(SIZE), raw]);
    qemuIo(raw, basicWrites(r1, r2), 'raw');
    toRaw(raw, join(out, 'plain.raw'), ['-f', 'raw']);
  },
};

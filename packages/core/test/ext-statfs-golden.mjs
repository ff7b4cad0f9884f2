#!/usr/bin/env node
// Regenerates ext-statfs.golden.json: statvfs(2) of each ext test image as the Linux
// kernel computes it (what virt-df reports), taken inside the libguestfs appliance in one
// launch. Run from the repository root:
//   node packages/core/test/ext-statfs-golden.mjs [RECIPE...]
// With recipe names, only those images are measured and merged into the existing file.

import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
export const STATFS_IMAGES = [
  ['ext-ext4', 'ext4.img'],
  ['ext-ext4-1k', 'ext4-1k.img'],
  ['ext-ext3', 'ext3.img'],
  ['ext-ext2', 'ext2.img'],
  ['ext-ext4-inline', 'ext4-inline.img'],
  ['ext-ext4-bigalloc', 'ext4-bigalloc.img'],
  // Journals that need recovery: the kernel replays them into libguestfs's overlay at mount.
  ['ext-journal', 'ext4/ext4-journal.img'],
  ['ext-journal', 'ext4-1k/ext4-1k-journal.img'],
];

const only = process.argv.slice(2);
const images = only.length ? STATFS_IMAGES.filter(([r]) => only.includes(r)) : STATFS_IMAGES;
if (only.some((r) => !STATFS_IMAGES.some(([x]) => x === r))) throw new Error(`unknown recipe among ${only.join(' ')}`);
execFileSync('node', [join(root, 'images', 'build.mjs'), ...new Set(images.map(([r]) => r))], { stdio: 'inherit' });
const hashes = Object.fromEntries(
  execFileSync('node', [join(root, 'images', 'build.mjs'), '--list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 2)
    .map((f) => [f[0], f[1]]),
);
const args = ['--ro'];
for (const [r, f] of images) args.push('-a', join(root, 'images', 'out', r, f));
const letters = 'abcdefghijklmnopqrstuvwxyz';
const script = ['run', ...images.flatMap((_, i) => [`mount-ro /dev/sd${letters[i]} /`, 'statvfs /', 'umount /'])].join('\n') + '\n';
const out = execFileSync('guestfish', args, {
  input: script,
  encoding: 'utf8',
  env: { ...process.env, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' },
});
const blocks = out.split(/(?=^bsize: )/m).filter((b) => b.startsWith('bsize:'));
if (blocks.length !== images.length) throw new Error(`expected ${images.length} statvfs results:\n${out}`);
const goldenPath = join(here, 'ext-statfs.golden.json');
const golden = only.length
  ? JSON.parse(readFileSync(goldenPath, 'utf8'))
  : { generator: 'packages/core/test/ext-statfs-golden.mjs (guestfish statvfs)', images: {} };
golden.libguestfs = execFileSync('guestfish', ['--version'], { encoding: 'utf8' }).trim();
images.forEach(([r, f], i) => {
  const v = Object.fromEntries([...blocks[i].matchAll(/^(\w+): (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  golden.images[`${r}/${f}`] = {
    recipeHash: hashes[r],
    bsize: v.bsize,
    frsize: v.frsize,
    blocks: v.blocks,
    bfree: v.bfree,
    bavail: v.bavail,
    files: v.files,
    ffree: v.ffree,
    favail: v.favail,
    namemax: v.namemax,
  };
});
writeFileSync(goldenPath, JSON.stringify(golden, null, 1) + '\n');
console.log(readFileSync(goldenPath, 'utf8'));

#!/usr/bin/env node
// guestkit inspector vs virt-inspector (libguestfs, TCG appliance), applications and icon
// listed (both tools' defaults), on the issue's two images: the debootstrapped Debian 12 guest
// (images/recipes/guest-debian.mjs: minbase + kernel, ext4 root + FAT ESP on GPT, raw) and the
// phony Fedora (images/recipes/phony-lvm.mjs: LVM, rpmdb.sqlite of 172 packages). guestkit runs
// RUNS times (median wall and CPU = user + sys, start-up included), virt-inspector once (the
// appliance launch dominates; a run is minutes here under TCG). Writes BENCHMARKS.md section
// "inspector". Target (issue 6): under 500 ms wall, at least 30× faster than libguestfs.
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSection } from './section.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.RUNS ?? 5);
const b = spawnSync('node', [join(root, 'images/build.mjs'), 'phony-lvm', 'guest-debian'], { stdio: 'inherit' });
if (b.status !== 0) throw new Error('image build failed');
const env = { ...process.env, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };

/** One run under /usr/bin/time: wall and user+sys seconds. */
function time(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', cmd, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr.slice(-500)}`);
  const [wall, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall: wall * 1000, cpu: (user + sys) * 1000, apps: (r.stdout.match(/<application>/g) ?? []).length };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const images = [
  { name: 'Debian 12 (debootstrap minbase + kernel; GPT, ext4 + ESP)', path: join(root, 'images/out/guest-debian/debian.raw') },
  { name: 'phony Fedora (LVM, rpmdb.sqlite)', path: join(root, 'images/out/phony-lvm/fedora.img') },
];
const rows = [];
for (const img of images) {
  const gk = [];
  for (let i = 0; i < RUNS; i++) gk.push(time(join(root, 'bin/guestkit'), ['inspector', '--format', 'raw', '-a', img.path]));
  const vi = time('virt-inspector', ['--format=raw', '-a', img.path]);
  const row = { ...img, wall: median(gk.map((r) => r.wall)), cpu: median(gk.map((r) => r.cpu)), apps: gk[0].apps, vi };
  rows.push(row);
  process.stderr.write(`${img.name}: guestkit ${row.wall.toFixed(0)} ms wall / ${row.cpu.toFixed(0)} ms CPU, virt-inspector ${vi.wall.toFixed(0)} ms wall / ${vi.cpu.toFixed(0)} ms CPU (${row.apps} applications; virt-inspector ${vi.apps})\n`);
}
const ms = (x) => `${x.toFixed(0)} ms`;
const md = [
  '## inspector: guestkit inspector vs virt-inspector (bench/inspector.mjs)',
  '',
  `Applications and icon listed (both tools' defaults), raw images in the page cache. guestkit: median of ${RUNS} runs; virt-inspector (libguestfs, TCG appliance: no KVM here): one run. Wall and CPU (user + sys of the process tree) include process start-up. Target (issue 6): guestkit under 500 ms wall, ≥ 30× faster than libguestfs.`,
  '',
  '| image | applications | guestkit wall | guestkit CPU | virt-inspector wall | virt-inspector CPU | wall ratio |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.name} | ${r.apps} | ${ms(r.wall)} | ${ms(r.cpu)} | ${ms(r.vi.wall)} | ${ms(r.vi.cpu)} | ${(r.vi.wall / r.wall).toFixed(1)}× |`),
  '',
  `Machine load at the run: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min load average, 2 cores).`,
  'Run: `node bench/inspector.mjs` (RUNS=N for more guestkit runs).',
].join('\n');
writeSection('inspector', md);

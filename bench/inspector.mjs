#!/usr/bin/env node
// guestkit inspector vs virt-inspector (libguestfs, TCG appliance) on the phony Debian and
// Fedora guests (images/recipes/phony-lvm.mjs), applications listed, one run each (the
// appliance launch dominates libguestfs; a run is ~a minute here). Writes the ratios to
// BENCHMARKS.md (section "inspector").
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSection } from './section.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync('node', [join(root, 'images/build.mjs'), 'phony-lvm'], { stdio: 'inherit' });
const env = { ...process.env, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };

function time(cmd, args) {
  const t0 = process.hrtime.bigint();
  execFileSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 28 });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const rows = [];
for (const name of ['debian', 'fedora']) {
  const img = join(root, 'images/out/phony-lvm', `${name}.img`);
  const gk = time(join(root, 'bin/guestkit'), ['inspector', '--format', 'raw', '-a', img]);
  const vi = time('virt-inspector', ['--format=raw', '-a', img]);
  rows.push({ name, gk, vi });
  process.stderr.write(`${name}: guestkit ${gk.toFixed(0)} ms, virt-inspector ${vi.toFixed(0)} ms\n`);
}
const md = [
  'guestkit inspector vs virt-inspector (libguestfs TCG appliance), applications listed, one run each, wall time including process start (machine shared with other jobs):',
  '',
  '| image | guestkit inspector | virt-inspector | ratio |',
  '|---|---:|---:|---:|',
  ...rows.map((r) => `| phony ${r.name} (${r.name === 'fedora' ? 'LVM, rpmdb.sqlite 172 packages' : 'LVM, dpkg'}) | ${r.gk.toFixed(0)} ms | ${r.vi.toFixed(0)} ms | ${(r.vi / r.gk).toFixed(1)}× |`),
  '',
  'Run: `node bench/inspector.mjs`.',
].join('\n');
writeSection('inspector', md);

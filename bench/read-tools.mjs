#!/usr/bin/env node
// The read tools on a real Debian 12 guest (images/out/guest-debian: debootstrap minbase,
// ext4 root + FAT ESP on GPT; raw and qcow2), in one run:
//   - guestkit cat /etc/os-release (CLI, start-up included) vs virt-cat and TSK icat;
//   - guestkit ls -R /usr and ls -R / vs virt-ls -R and TSK fls -r -p, with guestkit's peak
//     memory (/usr/bin/time -v);
//   - guestkit df vs virt-df.
// guestkit and TSK: median of BENCH_RUNS runs (default 5); libguestfs (one appliance launch
// per run, TCG here): BENCH_GUESTFS_RUNS (default 1). Writes its section of BENCHMARKS.md.
//
//   node bench/read-tools.mjs

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import './_lib.mjs'; // node processes run as bin/guestkit runs node (no NODE_EXTRA_CA_CERTS)
import { writeSection } from './section.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const dir = join(root, 'images', 'out', 'guest-debian');
const raw = join(dir, 'debian.raw');
const qcow2 = join(dir, 'debian.qcow2');
const GK = join(root, 'bin', 'guestkit');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GRUNS = Number(process.env.BENCH_GUESTFS_RUNS ?? 1);
const guestfsEnv = { LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };

if (!existsSync(join(dir, '.complete'))) {
  const r = spawnSync('node', [join(root, 'images', 'build.mjs'), 'guest-debian'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}

const OUT = '/tmp/gk-read-tools-bench.out';
const TIME = '/tmp/gk-read-tools-bench.time';

/**
 * Wall and CPU seconds, peak RSS (MiB) and output lines of one run. CPU and RSS from
 * /usr/bin/time; wall from the clock around it (time's %e has 10 ms steps, a tenth of a
 * recursive listing here), which adds the same ~1 ms exec of time to every case.
 */
function once(cmd, args, env = {}) {
  const fd = openSync(OUT, 'w');
  const t0 = process.hrtime.bigint();
  let r;
  try {
    r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', TIME, cmd, ...args], { stdio: ['ignore', fd, 'ignore'], env: { ...process.env, ...env } });
  } finally {
    closeSync(fd);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const [user, sys, rssKb] = readFileSync(TIME, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  const lines = Number(spawnSync('wc', ['-l', OUT], { encoding: 'utf8' }).stdout.trim().split(' ')[0]);
  return { wall, cpu: user + sys, rss: rssKb / 1024, lines, status: r.status };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function summarize(c, rs) {
  const bad = rs.find((r) => r.status !== 0);
  if (bad) console.error(`bench: ${c.name}: exit status ${bad.status}`);
  return { ...c, wall: median(rs.map((r) => r.wall)), cpu: median(rs.map((r) => r.cpu)), rss: Math.max(...rs.map((r) => r.rss)), lines: rs[0].lines };
}

// TSK needs the root partition's offset (sectors) and inode numbers.
const parts = JSON.parse(spawnSync('sfdisk', ['--json', raw], { encoding: 'utf8' }).stdout).partitiontable.partitions;
const off = String(parts[1].start);
const ifind = (p) => spawnSync('ifind', ['-o', off, '-n', p, raw], { encoding: 'utf8' }).stdout.trim();
const osReleaseIno = ifind('/etc/os-release');
const osReleaseTarget = spawnSync('icat', ['-o', off, raw, osReleaseIno], { encoding: 'utf8' }).stdout;
// /etc/os-release is a symlink to ../usr/lib/os-release on Debian: icat of the file itself.
const osLibIno = ifind('/usr/lib/os-release');
const usrIno = ifind('/usr');

const load0 = loadavg()[0];
const cases = [
  { group: 'start', name: 'node -e "" (node alone)', cmd: process.execPath, args: ['-e', ''], runs: RUNS },
  { group: 'start', name: 'guestkit --help (start-up floor: node + the CLI bundle)', cmd: GK, args: ['--help'], runs: RUNS },
  { group: 'cat', name: 'guestkit cat -a debian.qcow2 /etc/os-release', cmd: GK, args: ['cat', '-a', qcow2, '/etc/os-release'], runs: RUNS },
  { group: 'cat', name: 'guestkit cat -a debian.raw /etc/os-release', cmd: GK, args: ['cat', '-a', raw, '/etc/os-release'], runs: RUNS },
  { group: 'cat', name: `TSK icat (raw, inode ${osLibIno} of /usr/lib/os-release given)`, cmd: 'icat', args: ['-o', off, raw, osLibIno], runs: RUNS, ref: 'tsk' },
  { group: 'cat', name: 'virt-cat -a debian.qcow2 /etc/os-release', cmd: 'virt-cat', args: ['-a', qcow2, '/etc/os-release'], runs: GRUNS, env: guestfsEnv, ref: 'guestfs' },
  { group: 'ls /usr', name: 'guestkit ls -R -a debian.qcow2 /usr', cmd: GK, args: ['ls', '-R', '-a', qcow2, '/usr'], runs: RUNS },
  { group: 'ls /usr', name: `TSK fls -r -p (raw, /usr = inode ${usrIno})`, cmd: 'fls', args: ['-r', '-p', '-o', off, raw, usrIno], runs: RUNS, ref: 'tsk' },
  { group: 'ls /usr', name: 'virt-ls -R -a debian.qcow2 /usr', cmd: 'virt-ls', args: ['-R', '-a', qcow2, '/usr'], runs: GRUNS, env: guestfsEnv, ref: 'guestfs' },
  { group: 'ls /', name: 'guestkit ls -R -a debian.qcow2 /', cmd: GK, args: ['ls', '-R', '-a', qcow2, '/'], runs: RUNS },
  { group: 'ls /', name: 'guestkit ls -R -a debian.raw /', cmd: GK, args: ['ls', '-R', '-a', raw, '/'], runs: RUNS },
  { group: 'ls /', name: 'TSK fls -r -p (raw, root filesystem)', cmd: 'fls', args: ['-r', '-p', '-o', off, raw], runs: RUNS, ref: 'tsk' },
  { group: 'ls /', name: 'virt-ls -R -a debian.qcow2 /', cmd: 'virt-ls', args: ['-R', '-a', qcow2, '/'], runs: GRUNS, env: guestfsEnv, ref: 'guestfs' },
  { group: 'ls /', name: 'guestkit ls -lR -a debian.qcow2 / (stat of every entry)', cmd: GK, args: ['ls', '-lR', '-a', qcow2, '/'], runs: RUNS },
  { group: 'df', name: 'guestkit df -a debian.qcow2', cmd: GK, args: ['df', '-a', qcow2], runs: RUNS },
  { group: 'df', name: 'virt-df -a debian.qcow2', cmd: 'virt-df', args: ['-a', qcow2], runs: GRUNS, env: guestfsEnv, ref: 'guestfs' },
];
// BENCH_GUESTFS_RUNS=0: no appliance launches (a loaded machine); the section is then only
// printed, not written, so that BENCHMARKS.md keeps its libguestfs columns.
// guestkit and TSK runs of a group are interleaved (run 1 of each case, then run 2...): this
// machine's speed drifts over seconds (other guests share its host), and a ratio of two cases
// measured minutes apart would measure the drift too. libguestfs runs come after.
const chosen = cases.filter((c) => GRUNS > 0 || c.ref !== 'guestfs');
const runsOf = new Map(chosen.map((c) => [c, []]));
for (const group of [...new Set(chosen.map((c) => c.group))]) {
  const fast = chosen.filter((c) => c.group === group && c.ref !== 'guestfs');
  console.error(`bench: ${fast.map((c) => c.name).join(' / ')}`);
  for (let i = 0; i < RUNS; i++) for (const c of fast) runsOf.get(c).push(once(c.cmd, c.args, c.env));
}
for (const c of chosen.filter((c) => c.ref === 'guestfs')) {
  console.error(`bench: ${c.name}`);
  for (let i = 0; i < c.runs; i++) runsOf.get(c).push(once(c.cmd, c.args, c.env));
}
const results = chosen.map((c) => summarize(c, runsOf.get(c)));
const load1 = loadavg()[0];

const by = (group, ref) => results.find((r) => r.group === group && r.ref === ref);
const fmt = (x, d = 3) => (x === undefined || Number.isNaN(x) ? '' : x.toFixed(d));
const rows = results.map((r) => {
  const tsk = by(r.group, 'tsk');
  const gf = by(r.group, 'guestfs');
  return `| ${r.name} | ${fmt(r.wall)} | ${fmt(r.cpu)} | ${fmt(r.rss, 0)} | ${r.lines} | ${tsk && !r.ref ? `${fmt(r.wall / tsk.wall, 2)}×` : ''} | ${gf && !r.ref ? `${fmt(gf.wall / r.wall, 1)}×` : ''} |`;
});
const catQ = results.find((r) => r.group === 'cat');
const floor = results.find((r) => r.name.startsWith('guestkit --help'));
const nodeAlone = results.find((r) => r.group === 'start');
const lsRoot = results.find((r) => r.name.startsWith('guestkit ls -R -a debian.qcow2 /') && r.group === 'ls /');
const lsUsr = results.find((r) => r.group === 'ls /usr' && !r.ref);
const flsRoot = by('ls /', 'tsk');
const flsUsr = by('ls /usr', 'tsk');
const vlsRoot = by('ls /', 'guestfs');
const md = `
## Read tools: cat, ls, df on a Debian guest (bench/read-tools.mjs)

images/out/guest-debian: \`debootstrap --variant=minbase bookworm\` in a 1.5 GiB ext4 root (4 KiB
blocks) next to a FAT32 ESP on GPT, as raw and qcow2; ${results.find((r) => r.group === 'ls /' && r.ref === 'tsk').lines} entries listed by fls. Wall and
CPU seconds (user + sys) and peak RSS from /usr/bin/time (wall from the clock around it), start-up
included; guestkit and TSK runs of a group interleaved, median of ${RUNS} runs, libguestfs ${GRUNS} run (one appliance launch each, TCG: no KVM here).
"vs TSK" is guestkit's wall time over TSK's (below 1 is faster); "vs libguestfs" is how many
times faster guestkit is. Load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end,
on ${cpus().length} cores shared with other jobs: absolute times are noisy, ratios less so.

| case | wall s | CPU s | peak RSS MiB | lines | vs TSK | vs libguestfs |
|---|---|---|---|---|---|---|
${rows.join('\n')}

- cat: ${fmt(catQ.wall * 1000, 0)} ms wall for /etc/os-release from the qcow2 (target: under 150 ms). Of that,
  ${fmt(floor.wall * 1000, 0)} ms is the start-up floor (\`guestkit --help\`: node itself takes ${fmt(nodeAlone.wall * 1000, 0)} ms here, then
  loading the CLI bundle with its code cache), so opening the qcow2, finding the partitions,
  inspecting the guest, resolving the path and reading the file take ${catQ.wall - floor.wall > 0.002 ? `${fmt((catQ.wall - floor.wall) * 1000, 0)} ms` : 'no longer than --help takes to print its text'}. icat is given the
  inode (ifind not counted); guestkit resolves the path (through the /etc/os-release →
  ../usr/lib/os-release symlink).
- ls -R of the whole root: ${fmt(lsRoot.wall / flsRoot.wall, 2)}× fls -r -p's wall time (target: within 1.5×${lsRoot.wall / flsRoot.wall <= 1.5 ? ': met' : ': not met'}; without
  the start-up floor ${fmt((lsRoot.wall - floor.wall) / flsRoot.wall, 2)}×, without node's own start-up
  ${fmt((lsRoot.wall - nodeAlone.wall) / flsRoot.wall, 2)}×; CPU ${fmt(lsRoot.cpu / flsRoot.cpu, 2)}× fls's, guestkit's CPU including V8's
  background compiler and GC threads). Node alone takes ${fmt(nodeAlone.wall * 1000, 0)} ms (run as bin/guestkit runs it,
  without NODE_EXTRA_CA_CERTS: see the start-up section), ${fmt(nodeAlone.wall / flsRoot.wall, 2)}× fls's whole run
  (${fmt(flsRoot.wall * 1000, 0)} ms). ${vlsRoot ? `${fmt(vlsRoot.wall / lsRoot.wall, 0)}× faster than virt-ls` : 'virt-ls not run'} (target: at least 20×); peak memory ${fmt(lsRoot.rss, 0)} MiB
  (target: under 200). /usr alone: ${fmt(lsUsr.wall / flsUsr.wall, 2)}× fls (fls -r -p of the root also lists
  "$OrphanFiles", which makes it read every inode table; of a directory it does not).
- This host's speed drifts within seconds (other guests share it: up to 18% CPU steal measured
  during a run), which moves the ls -R ratio by about ±0.15 between whole runs (1.29× to 1.56×
  in the runs of 2026-11-26 after the listing work); the runs of a group are interleaved.
- Line counts differ by design: fls also prints deleted entries and "$OrphanFiles"; virt-ls -R
  prints paths relative to the directory as guestfs find does.
`;
if (GRUNS > 0) writeSection('read-tools', md);
console.log(md);

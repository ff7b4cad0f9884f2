#!/usr/bin/env node
// guestkit mount, in one run:
//   - sequential read of a 1 GiB file (images/out/mount-bigfile: ext4, incompressible data)
//     through a fresh `guestkit mount` (cat FILE > /dev/null) vs `guestkit cat` of the same
//     file vs `cat` of the same bytes from the plain file (the page cache holds the image and
//     the plain file alike); target: >= 60% of `guestkit cat` throughput;
//   - `find | wc -l` and then `du -s` over a tree with a 20,000-entry directory
//     (images/out/ext-ext4, the ext4 fixture tree) through `guestkit mount` vs libguestfs's
//     guestmount (one appliance launch, TCG here); target: tree walk >= 10x faster.
// Each guestkit mount is fresh (its kernel caches start empty); mount time is reported apart.
// guestkit: median of BENCH_RUNS runs (default 3); guestmount: one. Wall time and CPU time
// (user+sys of the reading command plus, for mounts, of the FUSE server process). Writes the
// `mount` section of BENCHMARKS.md.
//
//   node bench/mount.mjs

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSection } from './section.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const GK = join(root, 'bin', 'guestkit');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const guestfsEnv = { ...process.env, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };
const CLK_TCK = 100;

function ensure(recipe) {
  const dir = join(root, 'images', 'out', recipe);
  if (!existsSync(join(dir, '.complete'))) {
    const r = spawnSync('node', [join(root, 'images', 'build.mjs'), recipe], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(1);
  }
  return dir;
}

const bigDir = ensure('mount-bigfile');
const bigImg = join(bigDir, 'big.ext4');
const bigPlain = join(bigDir, 'tree', 'big.bin');
const treeDir = ensure('ext-ext4');
const treeImg = join(treeDir, 'ext4.img');
const BIG = 1024 * 1024 * 1024;

const TIME = '/tmp/gk-mount-bench.time';
const OUT = '/tmp/gk-mount-bench.out';

/** One shell command: wall and CPU seconds (time -f), its stdout. */
function timed(script, env = process.env) {
  const r = spawnSync('bash', ['-c', `/usr/bin/time -f '%e %U %S' -o ${TIME} bash -c ${JSON.stringify(script)} > ${OUT}`], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`bench: ${script}: status ${r.status}: ${r.stderr}`);
  const [wall, user, sys] = readFileSync(TIME, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys, out: readFileSync(OUT, 'utf8').trim() };
}

/** CPU seconds used so far by a process (utime + stime; children not counted). */
function cpuOf(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}

function isMounted(mp) {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mp);
}

/** A fresh guestkit mount around fn(mp, pid); returns fn's result plus mount time. */
function withGuestkitMount(args, fn) {
  const mp = mkdtempSync(join(tmpdir(), 'gk-bench-mnt-'));
  const pidFile = join(tmpdir(), `gk-bench-${process.pid}.pid`);
  try {
    const m = timed(`${JSON.stringify(GK)} mount ${args.map((a) => JSON.stringify(a)).join(' ')} --pid-file ${pidFile} ${mp}`);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    try {
      return { mount: m.wall, ...fn(mp, pid) };
    } finally {
      spawnSync(GK, ['unmount', mp]);
    }
  } finally {
    if (isMounted(mp)) spawnSync('fusermount', ['-u', '-z', mp]);
    try { rmdirSync(mp); } catch { /* busy */ }
  }
}

/** Run fn RUNS times, interleaved by the caller; median of each field. */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const med = (rs, k) => median(rs.map((r) => r[k]));

const load0 = loadavg()[0];

// ---- sequential read of 1 GiB ------------------------------------------------------------
spawnSync('cat', [bigPlain], { stdio: ['ignore', 'ignore', 'ignore'] }); // page cache: plain file
spawnSync('cat', [bigImg], { stdio: ['ignore', 'ignore', 'ignore'] }); // page cache: the image
const seq = { plain: [], gkcat: [], mount: [] };
for (let i = 0; i < RUNS; i++) {
  seq.plain.push(timed(`cat ${bigPlain} > /dev/null`));
  seq.gkcat.push(timed(`${GK} cat -a ${bigImg} -m /dev/sda /big.bin > /dev/null`));
  const m = withGuestkitMount(['-a', bigImg, '-m', '/dev/sda'], (mp, pid) => {
    const before = cpuOf(pid);
    const r = timed(`cat ${mp}/big.bin > /dev/null`);
    const server = cpuOf(pid) - before;
    // Once, not timed: the bytes read through the mount are the plain file's.
    if (i === 0) timed(`cmp ${mp}/big.bin ${bigPlain}`);
    return { ...r, server };
  });
  seq.mount.push({ ...m, cpu: m.cpu + m.server });
}
// Once, not timed: guestkit cat gives the plain file's bytes.
timed(`${GK} cat -a ${bigImg} -m /dev/sda /big.bin | cmp - ${bigPlain}`);
const mbps = (wall) => BIG / wall / (1 << 20);
const seqRows = [
  ['`cat` of the plain file (tree/big.bin)', seq.plain],
  ['`guestkit cat -a big.ext4 -m /dev/sda /big.bin`', seq.gkcat],
  ['`cat MOUNT/big.bin` through `guestkit mount` (fresh mount)', seq.mount],
].map(([name, rs]) => ({ name, wall: med(rs, 'wall'), cpu: med(rs, 'cpu'), mount: rs[0].mount === undefined ? undefined : med(rs, 'mount') }));
const ratioCat = seqRows[1].wall / seqRows[2].wall;

// ---- tree walk: find | wc -l, du -s ------------------------------------------------------
const walk = [];
for (let i = 0; i < RUNS; i++) {
  walk.push(withGuestkitMount(['-a', treeImg, '-m', '/dev/sda'], (mp, pid) => {
    const c0 = cpuOf(pid);
    const f = timed(`find ${mp} | wc -l`);
    const c1 = cpuOf(pid);
    const d = timed(`du -s ${mp}`);
    const c2 = cpuOf(pid);
    return { find: f.wall, findCpu: f.cpu + c1 - c0, files: Number(f.out), du: d.wall, duCpu: d.cpu + c2 - c1, duOut: d.out.split('\t')[0] };
  }));
}
const gk = { mount: med(walk, 'mount'), find: med(walk, 'find'), findCpu: med(walk, 'findCpu'), du: med(walk, 'du'), duCpu: med(walk, 'duCpu'), files: walk[0].files, duOut: walk[0].duOut };

// guestmount: one appliance launch; its daemon's CPU (qemu is a child of it) is not counted.
let gm = null;
if (spawnSync('sh', ['-c', 'command -v guestmount']).status === 0) {
  const mp = mkdtempSync(join(tmpdir(), 'gk-bench-gm-'));
  const pidFile = join(tmpdir(), `gk-bench-gm-${process.pid}.pid`);
  try {
    const m = timed(`guestmount --ro --format=raw -a ${treeImg} -m /dev/sda --pid-file ${pidFile} ${mp}`, guestfsEnv);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    try {
      const f = timed(`find ${mp} | wc -l`);
      const d = timed(`du -s ${mp}`);
      gm = { mount: m.wall, find: f.wall, findCpu: f.cpu, files: Number(f.out), du: d.wall, duCpu: d.cpu, duOut: d.out.split('\t')[0] };
    } finally {
      spawnSync('guestunmount', [mp]);
      for (let i = 0; i < 600; i++) {
        try { process.kill(pid, 0); } catch { break; }
        spawnSync('sleep', ['0.1']);
      }
    }
  } finally {
    if (isMounted(mp)) spawnSync('fusermount', ['-u', '-z', mp]);
    try { rmdirSync(mp); } catch { /* busy */ }
  }
  if (gm.files !== gk.files || gm.duOut !== gk.duOut) console.error(`bench: guestmount sees ${gm.files} entries, ${gm.duOut} KiB; guestkit ${gk.files}, ${gk.duOut}`);
}

const load1 = loadavg()[0];
const f2 = (x) => x.toFixed(2);
const lines = [];
lines.push(`Run ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), load average ${load0.toFixed(1)} → ${load1.toFixed(1)} (shared machine). `
  + `\`node bench/mount.mjs\`; guestkit: median of ${RUNS} runs, each mount fresh; guestmount (libguestfs ${spawnSync('sh', ['-c', "guestmount --version | awk '{print $2}'"], { encoding: 'utf8' }).stdout.trim() || '?'}, TCG): one launch.`);
lines.push('');
lines.push('**Sequential read of a 1 GiB file** (mount-bigfile: ext4, incompressible; `… > /dev/null`; the bytes are checked against the plain file with `cmp` once, outside the timings):');
lines.push('');
lines.push('| reader | wall s | MiB/s | CPU s (reader + FUSE server) |');
lines.push('|---|---:|---:|---:|');
for (const r of seqRows) lines.push(`| ${r.name} | ${f2(r.wall)} | ${mbps(r.wall).toFixed(0)} | ${f2(r.cpu)} |`);
lines.push('');
lines.push(`Through the mount: **${(ratioCat * 100).toFixed(0)}% of \`guestkit cat\`'s throughput** (target ≥ 60%); mount itself ${f2(seqRows[2].mount)} s (not in the read time).`);
lines.push('');
lines.push(`**Tree walk** (ext-ext4: the ext4 fixture tree, ${gk.files} entries with a 20,000-entry directory): \`find MOUNT | wc -l\`, then \`du -s MOUNT\` on the same mount:`);
lines.push('');
lines.push('| | mount s | find \\| wc -l s | du -s s | find CPU s | du CPU s |');
lines.push('|---|---:|---:|---:|---:|---:|');
lines.push(`| guestkit mount (FUSE server CPU included) | ${f2(gk.mount)} | ${f2(gk.find)} | ${f2(gk.du)} | ${f2(gk.findCpu)} | ${f2(gk.duCpu)} |`);
if (gm) {
  lines.push(`| guestmount (appliance CPU not counted) | ${f2(gm.mount)} | ${f2(gm.find)} | ${f2(gm.du)} | ${f2(gm.findCpu)} | ${f2(gm.duCpu)} |`);
  lines.push(`| ratio guestmount / guestkit | ${(gm.mount / gk.mount).toFixed(1)}× | ${(gm.find / gk.find).toFixed(1)}× | ${(gm.du / gk.du).toFixed(1)}× | | |`);
  lines.push('');
  lines.push(`Tree walk (find + du): **${((gm.find + gm.du) / (gk.find + gk.du)).toFixed(1)}× faster than guestmount** (target ≥ 10×); with the mount start-up: ${((gm.mount + gm.find + gm.du) / (gk.mount + gk.find + gk.du)).toFixed(1)}×. Entries seen: guestmount ${gm.files}, guestkit ${gk.files}; \`du -s\`: guestmount ${gm.duOut} KiB, guestkit ${gk.duOut} KiB.`);
  if (gm.duOut !== gk.duOut) lines.push('(guestmount mounts without `use_ino`: every path has its own inode number, so `du` counts a file with several hard links once per link; guestkit shows the guest\'s inode numbers and `du` counts it once, as on the host tree.)');
} else {
  lines.push('');
  lines.push('guestmount is not installed here: no comparison.');
}
const md = lines.join('\n');
writeSection('mount', md);
console.log(md);

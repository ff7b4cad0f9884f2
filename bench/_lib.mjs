// The shared timing harness of the benchmarks (walks: ntfs-ls, xfs-ls, btrfs-ls; timeQuick and
// median: qcow2-read, startup). run.mjs skips files whose name starts with "_":
//   - each case runs under /usr/bin/time (wall, user + sys CPU, peak RSS), output to a file
//     whose lines are counted;
//   - the cases run interleaved (run 1 of every case, then run 2...), so a load change on this
//     shared machine hits every case alike; the medians are reported;
//   - a `node -e 0` case measures node's own start-up, so ratios can be given without it;
//   - the load average at the start and end, and a machine line.
// Also the child side of the "core API" cases: a readdir walk (optionally with stat of every
// entry) of one filesystem opened in a fresh node process.

import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// Every node process a benchmark starts runs as bin/guestkit runs node: without
// NODE_EXTRA_CA_CERTS (parsing that file is ~70 ms of CPU per node start where it is set;
// bench/startup.mjs shows node with it too).
export const NODE_EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
delete process.env.NODE_EXTRA_CA_CERTS;
export const coreDist = (rel) => join(root, 'packages', 'core', 'dist', rel);
export const guestfsEnv = { LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };
export const RUNS = Number(process.env.BENCH_RUNS ?? 5);
export const GUESTFS_RUNS = Number(process.env.BENCH_GUESTFS_RUNS ?? 1);

/** The case that measures node's start-up alone. */
export const nodeStartupCase = () => ({ name: 'node -e 0 (node start-up alone)', cmd: process.execPath, args: ['-e', '0'], runs: RUNS, startup: true });

/** Median (the mean of the middle two for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Run `argv` once, stdout to /dev/null, under bash's `time` (getrusage of the children:
 * millisecond resolution, CPU of all threads): wall and CPU (user + sys) seconds.
 */
export function timeQuick(argv, env = {}) {
  const quote = (a) => `'${String(a).replace(/'/g, `'\\''`)}'`;
  const script = `TIMEFORMAT='%R %U %S'; time ${argv.map(quote).join(' ')} > /dev/null`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr || `exit ${r.status}`}`);
  const [real, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall: real, cpu: user + sys };
}


/** One run of a command: wall and CPU seconds, peak RSS (KiB), lines printed, exit status. */
export function timeOnce(cmd, args, env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gk-bench-'));
  const out = join(dir, 'out');
  const tf = join(dir, 'time');
  try {
    const quote = (a) => `'${String(a).replace(/'/g, `'\\''`)}'`;
    const r = spawnSync('bash', ['-c', `/usr/bin/time -f '%e %U %S %M' -o ${quote(tf)} ${[cmd, ...args].map(quote).join(' ')} > ${quote(out)} 2>${quote(join(dir, 'err'))}`], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    const t = readFileSync(tf, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    const text = readFileSync(out);
    let lines = 0;
    for (let i = 0; i < text.length; i++) if (text[i] === 10) lines++;
    return { wall: t[0], cpu: t[1] + t[2], rssKiB: t[3], lines, status: r.status, err: readFileSync(join(dir, 'err'), 'utf8').slice(0, 500) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Run the cases interleaved, `c.runs` times each (default RUNS); returns each case with the
 * medians of wall, cpu and rssKiB, its line count and run count. Progress goes to stderr.
 */
export function runCases(cases, label = '') {
  cases = cases.filter((c) => (c.runs ?? RUNS) > 0);
  const rs = cases.map(() => []);
  const most = Math.max(...cases.map((c) => c.runs ?? RUNS));
  for (let i = 0; i < most; i++) {
    cases.forEach((c, k) => {
      if (i >= (c.runs ?? RUNS)) return;
      const r = timeOnce(c.cmd, c.args, c.env);
      if (r.status !== 0) process.stderr.write(`${label}${c.name}: exit ${r.status}: ${r.err}\n`);
      rs[k].push(r);
    });
  }
  return cases.map((c, k) => {
    const res = { ...c, runs: rs[k].length, wall: median(rs[k].map((r) => r.wall)), cpu: median(rs[k].map((r) => r.cpu)), rssKiB: median(rs[k].map((r) => r.rssKiB)), lines: rs[k][0].lines };
    process.stderr.write(`${label}${c.name}: wall ${res.wall.toFixed(3)} s, CPU ${res.cpu.toFixed(3)} s, ${(res.rssKiB / 1024).toFixed(0)} MiB, ${res.lines} lines\n`);
    return res;
  });
}

/** CPU seconds of a case without node's start-up (for cases that are node processes). */
export const cpuNet = (r, startup) => Math.max(r.cpu - startup.cpu, 0.001);

/** The table of results: ratios of wall and CPU against a reference case and virt-ls. */
export function resultTable(results, { ref, virt, startup }) {
  const head = `| case | runs | wall s | CPU s | peak RSS MiB | lines | virt-ls ÷ this (wall) | this ÷ ${ref.short} (wall) | this ÷ ${ref.short} (CPU) |${startup ? ` this ÷ ${ref.short} (CPU, node start-up subtracted) |` : ''}`;
  const sep = `|${'---|'.repeat(9 + (startup ? 1 : 0))}`;
  const rows = results.map((r) => {
    const cells = [r.name, r.runs, r.wall.toFixed(3), r.cpu.toFixed(3), (r.rssKiB / 1024).toFixed(0), r.lines,
      virt ? `${(virt.wall / r.wall).toFixed(1)}×` : '–', `${(r.wall / ref.wall).toFixed(2)}×`, `${(r.cpu / ref.cpu).toFixed(2)}×`];
    if (startup) cells.push(r.node && !r.startup ? `${(cpuNet(r, startup) / ref.cpu).toFixed(2)}×` : '–');
    return `| ${cells.join(' | ')} |`;
  });
  return [head, sep, ...rows].join('\n');
}

/** Load average now (1 minute). */
export const load = () => loadavg()[0];

/** The closing line: machine, node version, load at start and end, date. */
export function machineLine(load0, load1) {
  return `Machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), node ${process.version}; load average ${load0.toFixed(1)}
at the start, ${load1.toFixed(1)} at the end (shared machine: read the ratios). ${new Date().toISOString().slice(0, 10)}.`;
}

/**
 * Child side of the core-API cases: open the filesystem with `open(dev)` (the module at
 * `distRel` under packages/core/dist, export `exportName`) and walk it depth-first with
 * readdir, calling stat() on every entry when mode is 'stat'. Prints the entry count.
 */
export async function walkChild(distRel, exportName, mode, image) {
  const mod = await import(pathToFileURL(coreDist(distRel)).href);
  const { RawFile } = await import(pathToFileURL(coreDist('block/raw.js')).href);
  const fs = mod[exportName](new RawFile(image));
  let n = 0;
  const stack = [fs.rootIno];
  // Depth-first in directory order, as ls -R visits them.
  while (stack.length) {
    const d = stack.pop();
    const sub = [];
    for (const e of fs.readdir(d)) {
      n++;
      if (mode === 'stat') fs.stat(e.ino);
      if (e.type === 'dir') sub.push(e.ino);
    }
    for (let i = sub.length - 1; i >= 0; i--) stack.push(sub[i]);
  }
  process.stdout.write(`${n}\n`);
}

/** The three guestkit cases of a walk benchmark: CLI ls -R, core-API walk, walk + stat. */
export function guestkitCases(script, image, runs = RUNS) {
  return [
    { name: 'guestkit ls -R (CLI)', cmd: join(root, 'bin', 'guestkit'), args: ['ls', '-R', '-a', image, '-m', '/dev/sda', '/'], runs, node: true, short: 'gk' },
    { name: 'guestkit core API: readdir walk', cmd: process.execPath, args: [script, '--child', 'names', image], runs, node: true },
    { name: 'guestkit core API: readdir walk + stat of every entry', cmd: process.execPath, args: [script, '--child', 'stat', image], runs, node: true },
  ];
}

/** virt-ls -R of the image (one appliance launch per run). */
export const virtLsCase = (image) => ({ name: 'virt-ls -R (libguestfs, TCG)', cmd: 'virt-ls', args: ['-R', '-a', image, '-m', '/dev/sda', '/'], runs: GUESTFS_RUNS, env: guestfsEnv, virt: true });

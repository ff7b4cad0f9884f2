#!/usr/bin/env node
// `ls -R` of the XFS fixture images (images/out/xfs-images: xfs-v5.img and xfs-v4.img, the
// fixture tree of images/fixtures/xfs-tree.mjs, 72,500 entries: big/ with 50,000 entries,
// tree/ with 20,000 files in 200 directories, the directory-form directories...), in one run:
//   - guestkit ls -R (the CLI, start-up included);
//   - guestkit core API in a child node process: openXfs + readdir walk (names only), and the
//     same walk with stat() of every entry;
//   - xfs_ncheck (xfsprogs' userspace reader: every inode with its path; The Sleuth Kit 4.11
//     here has no XFS support, `fls -f list` does not list it);
//   - virt-ls -R (libguestfs, one appliance launch per run, TCG here).
// Writes its section of BENCHMARKS.md.
//
//   node bench/xfs-ls.mjs          (BENCH_RUNS=N runs of the fast cases, default 5)

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeSection } from './section.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const imageDir = join(root, 'images', 'out', 'xfs-images');
const xfsDist = join(root, 'packages', 'core', 'dist', 'fs', 'xfs', 'index.js');
const rawDist = join(root, 'packages', 'core', 'dist', 'block', 'raw.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function child([mode, img]) {
  const { openXfs } = await import(pathToFileURL(xfsDist).href);
  const { RawFile } = await import(pathToFileURL(rawDist).href);
  const fs = openXfs(new RawFile(img));
  let n = 0;
  const stack = [fs.rootIno];
  while (stack.length) {
    const d = stack.pop();
    for (const e of fs.readdir(d)) {
      n++;
      if (mode === 'stat') fs.stat(e.ino);
      if (e.type === 'dir') stack.push(e.ino);
    }
  }
  process.stdout.write(`${n}\n`);
}

if (process.argv[2] === '--child') {
  await child(process.argv.slice(3));
  process.exit(0);
}

const quote = (a) => `'${String(a).replace(/'/g, `'\\''`)}'`;

/** Wall and CPU seconds (user + sys) of a command, and the lines it printed. */
function timed(cmd, args, env = {}) {
  const script = `TIMEFORMAT='%R %U %S'; { time ${[cmd, ...args].map(quote).join(' ')} > /tmp/xfs-ls-bench.out 2>/tmp/xfs-ls-bench.err ; } 2>&1`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  const [wall, user, sys] = r.stdout.trim().split('\n').pop().split(' ').map(Number);
  const out = spawnSync('wc', ['-l', '/tmp/xfs-ls-bench.out'], { encoding: 'utf8' }).stdout;
  return { wall, cpu: user + sys, lines: Number(out.trim().split(' ')[0]) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (!existsSync(join(imageDir, '.complete'))) {
  spawnSync('node', [join(root, 'images', 'build.mjs'), 'xfs-images'], { stdio: 'inherit' });
}
const load0 = loadavg()[0];
const guestfsEnv = { LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };
const sections = [];
for (const variant of ['v5', 'v4']) {
  const image = join(imageDir, `xfs-${variant}.img`);
  const cases = [
    { name: 'guestkit ls -R (CLI)', cmd: join(root, 'bin', 'guestkit'), args: ['ls', '-R', '-a', image, '-m', '/dev/sda', '/'], runs: RUNS },
    { name: 'guestkit core API: readdir walk', cmd: process.execPath, args: [fileURLToPath(import.meta.url), '--child', 'names', image], runs: RUNS },
    { name: 'guestkit core API: readdir walk + stat of every entry', cmd: process.execPath, args: [fileURLToPath(import.meta.url), '--child', 'stat', image], runs: RUNS },
    { name: 'xfs_ncheck (xfsprogs, userspace)', cmd: 'xfs_ncheck', args: [image], runs: RUNS },
    { name: 'virt-ls -R (libguestfs, TCG)', cmd: 'virt-ls', args: ['-R', '-a', image, '-m', '/dev/sda', '/'], runs: Number(process.env.BENCH_GUESTFS_RUNS ?? 1), env: guestfsEnv },
  ];
  const results = [];
  for (const c of cases) {
    const rs = [];
    for (let i = 0; i < c.runs; i++) rs.push(timed(c.cmd, c.args, c.env));
    results.push({ ...c, wall: median(rs.map((r) => r.wall)), cpu: median(rs.map((r) => r.cpu)), lines: rs[0].lines });
    process.stderr.write(`${variant} ${c.name}: ${median(rs.map((r) => r.wall)).toFixed(3)} s (${rs[0].lines} lines)\n`);
  }
  const gk = results[0];
  const ncheck = results[3];
  const vls = results[results.length - 1];
  const rows = results.map((r) => `| ${r.name} | ${r.runs} | ${r.wall.toFixed(3)} | ${r.cpu.toFixed(3)} | ${r.lines} | ${(vls.wall / r.wall).toFixed(1)}× | ${(r.wall / ncheck.wall).toFixed(2)}× |`);
  sections.push(`### ${variant === 'v5' ? 'v5 (CRC, ftype)' : 'v4 (no ftype: entry types come from the inodes)'}: \`xfs-${variant}.img\`

| case | runs | wall s | CPU s | lines | virt-ls ÷ this | this ÷ xfs_ncheck |
|---|---|---|---|---|---|---|
${rows.join('\n')}

guestkit ls -R is **${(vls.wall / gk.wall).toFixed(0)}× faster than virt-ls -R** (target: at least 20×) and takes
${(gk.wall / ncheck.wall).toFixed(2)}× the time of xfs_ncheck.`);
}
const load1 = loadavg()[0];
const md = `## XFS: ls -R of the fixture images (bench/xfs-ls.mjs)

\`images/out/xfs-images/xfs-{v5,v4}.img\`: 320 MiB filesystems made by \`mkfs.xfs -p\` from
images/fixtures/xfs-tree.mjs (72,500 entries: a 50,000-entry directory in bmap-btree form, a
20,000-file tree in 200 directories, directories in every form), in the page cache. Wall and CPU
(user + sys) seconds, median of the runs, start-up included; "lines" is what each printed.
The Sleuth Kit 4.11 has no XFS support (\`fls -f list\`), so the native-reader reference is
xfsprogs' \`xfs_ncheck\` (prints every inode number with its path).

${sections.join('\n\n')}

Machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), node ${process.version}; load average ${load0.toFixed(1)}
at the start, ${load1.toFixed(1)} at the end (shared machine: read the ratios). ${new Date().toISOString().slice(0, 10)}.`;
writeSection('xfs-ls', md);
process.stdout.write(md + '\n');

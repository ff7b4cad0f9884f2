#!/usr/bin/env node
// `ls -R` of a btrfs filesystem holding the 20,000-file fixture tree (images/out/btrfs-rootdir
// btrfs.img: Linux fixture tree with bigdir/, 20,510 entries, made by mkfs.btrfs --rootdir),
// in one run:
//   - guestkit ls -R (the CLI, start-up included);
//   - guestkit core API in a child node process: openBtrfs + readdir walk (names only), and the
//     same walk with stat() of every entry;
//   - `btrfs restore --dry-run -vv` (btrfs-progs' own userspace reader walking every file:
//     the nearest thing to TSK's fls, which has no btrfs support);
//   - virt-ls -R (libguestfs, one appliance launch per run, TCG here);
//   - node -e 0 (node's start-up, to give the ratios without it).
// Interleaved runs, medians (bench/lib.mjs). Writes its section of BENCHMARKS.md.
//
//   node bench/btrfs-ls.mjs    (BENCH_RUNS=N fast-case runs, default 5; BENCH_GUESTFS_RUNS=0 skips virt-ls)

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSection } from './section.mjs';
import { root, RUNS, runCases, resultTable, load, machineLine, walkChild, guestkitCases, virtLsCase, nodeStartupCase, cpuNet } from './_lib.mjs';

const image = join(root, 'images', 'out', 'btrfs-rootdir', 'btrfs.img');

if (process.argv[2] === '--child') {
  await walkChild('fs/btrfs/index.js', 'openBtrfs', process.argv[3], process.argv[4]);
  process.exit(0);
}

if (!existsSync(image)) spawnSync('node', [join(root, 'images', 'build.mjs'), 'btrfs-rootdir'], { stdio: 'inherit' });
const load0 = load();
const restore = { name: 'btrfs restore --dry-run -vv (btrfs-progs, userspace)', cmd: 'btrfs', args: ['restore', '--dry-run', '-vv', image, '/tmp/btrfs-ls-bench-restore'], runs: RUNS, short: 'btrfs restore' };
const results = runCases([...guestkitCases(fileURLToPath(import.meta.url), image), restore, nodeStartupCase(), virtLsCase(image)], 'btrfs ');
const load1 = load();
const gk = results.find((r) => r.short === 'gk');
const ref = results.find((r) => r.short === 'btrfs restore');
const virt = results.find((r) => r.virt);
const startup = results.find((r) => r.startup);
const walk = results[1];
const md = `## btrfs: ls -R of the 20,000-file tree (bench/btrfs-ls.mjs)

\`images/out/btrfs-rootdir/btrfs.img\`: the Linux fixture tree with bigdir/ (20,510 entries:
20,000 in one directory), made by \`mkfs.btrfs --rootdir\` (btrfs-progs 6.2, 16 KiB nodes,
DUP metadata), in the page cache. Interleaved runs, medians; wall and CPU (user + sys) seconds
and peak RSS from /usr/bin/time, start-up included; "lines" is what each printed. The last
column subtracts the CPU of \`node -e 0\` from the node cases. The Sleuth Kit has no btrfs
support, so the native-reader reference is btrfs-progs' userspace \`btrfs restore --dry-run -vv\`
(it walks every file and prints one line per file it would restore, not per directory).

${resultTable(results, { ref, virt, startup })}

**guestkit ls -R is ${virt ? `${(virt.wall / gk.wall).toFixed(0)}× faster than virt-ls -R` : 'not compared with virt-ls in this run'}** here (target: at least 20×) and
takes ${(gk.wall / ref.wall).toFixed(2)}× the wall time, ${(gk.cpu / ref.cpu).toFixed(2)}× the CPU time of \`btrfs restore --dry-run\`
(${(cpuNet(gk, startup) / ref.cpu).toFixed(2)}× without node's start-up; the issue's 1.5× target is set against TSK's fls, which does
not read btrfs). The btrfs walk alone (core API): ${(walk.cpu / ref.cpu).toFixed(2)}× the CPU of btrfs restore,
${(cpuNet(walk, startup) / ref.cpu).toFixed(2)}× without node's start-up.

${machineLine(load0, load1)}`;
writeSection('btrfs-ls', md);
process.stdout.write(md + '\n');

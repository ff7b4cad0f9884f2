#!/usr/bin/env node
// `ls -R` of an NTFS volume holding the 20,000-file benchmark tree (images/out/ntfs-bench
// ntfs.img: tree/dNNN/file-NNN.txt, 200 × 100 files, the same tree as the XFS images' tree/,
// plus a 5,000-entry folder; mkntfs + ntfs-3g), in one run:
//   - guestkit ls -R (the CLI, start-up included);
//   - guestkit core API in a child node process: NTFS readdir walk, and walk + stat;
//   - fls -r -p (The Sleuth Kit: the issue's reference, target within 1.5×);
//   - virt-ls -R (libguestfs, one appliance launch per run, TCG here);
//   - node -e 0 (node's start-up, to give the ratios without it).
// Interleaved runs, medians (bench/lib.mjs). Writes the `ntfs` section of BENCHMARKS.md.
//
//   node bench/ntfs-ls.mjs     (BENCH_RUNS=N fast-case runs, default 5; BENCH_GUESTFS_RUNS=0 skips virt-ls)

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSection } from './section.mjs';
import { root, RUNS, runCases, resultTable, load, machineLine, walkChild, guestkitCases, virtLsCase, nodeStartupCase, cpuNet } from './_lib.mjs';

const image = join(root, 'images', 'out', 'ntfs-bench', 'ntfs.img');

if (process.argv[2] === '--child') {
  await walkChild('fs/ntfs/index.js', 'openNtfs', process.argv[3], process.argv[4]);
  process.exit(0);
}

if (!existsSync(image)) spawnSync('node', [join(root, 'images', 'build.mjs'), 'ntfs-bench'], { stdio: 'inherit' });
const load0 = load();
const fls = { name: 'fls -r -p (The Sleuth Kit 4.11)', cmd: 'fls', args: ['-r', '-p', image], runs: RUNS, short: 'fls' };
const startupCase = nodeStartupCase();
const cases = [...guestkitCases(fileURLToPath(import.meta.url), image), fls, startupCase, virtLsCase(image)];
const results = runCases(cases, 'ntfs ');
const load1 = load();
const by = (pred) => results.find(pred);
const gk = by((r) => r.short === 'gk');
const ref = by((r) => r.short === 'fls');
const virt = by((r) => r.virt);
const startup = by((r) => r.startup);
const walk = results[1];
const md = `## NTFS: ls -R of the 20,000-file tree (bench/ntfs-ls.mjs)

\`images/out/ntfs-bench/ntfs.img\` (images/recipes/ntfs-bench.mjs): a 256 MiB NTFS volume (4 KiB
clusters, 1 KiB MFT records) made by \`mkntfs\` and filled through ntfs-3g with the benchmark
tree of the XFS images (tree/dNNN/file-NNN.txt, 200 directories × 100 files) plus a 5,000-entry
folder: 25,201 entries, in the page cache. Interleaved runs, medians; wall and CPU (user + sys)
seconds and peak RSS from /usr/bin/time, start-up included; "lines" is what each printed (fls
also lists the system files and $OrphanFiles). The last column subtracts the CPU of \`node -e 0\`
from the node cases.

${resultTable(results, { ref, virt, startup })}

**guestkit ls -R: ${virt ? `${(virt.wall / gk.wall).toFixed(0)}× faster than virt-ls -R` : 'virt-ls not run'}** (target: at least 20×);
${(gk.cpu / ref.cpu).toFixed(2)}× the CPU time of \`fls -r -p\` (${(cpuNet(gk, startup) / ref.cpu).toFixed(2)}× without node's start-up;
target: within 1.5×). The NTFS walk alone (core API, readdir of every directory):
${(walk.cpu / ref.cpu).toFixed(2)}× fls's CPU, ${(cpuNet(walk, startup) / ref.cpu).toFixed(2)}× without node's start-up.

${machineLine(load0, load1)}`;
writeSection('ntfs', md);
process.stdout.write(md + '\n');

#!/usr/bin/env node
// `ls -R` of the XFS fixture images (images/out/xfs-images: xfs-v5.img and xfs-v4.img, the
// fixture tree of images/fixtures/xfs-tree.mjs, 72,500 entries: big/ with 50,000 entries,
// tree/ with 20,000 files in 200 directories, the directory-form directories...), in one run:
//   - guestkit ls -R (the CLI, start-up included);
//   - guestkit core API in a child node process: openXfs + readdir walk (names only), and the
//     same walk with stat() of every entry;
//   - xfs_ncheck (xfsprogs' userspace reader: every inode with its path; The Sleuth Kit 4.11
//     here has no XFS support, `fls -f list` does not list it);
//   - virt-ls -R (libguestfs, one appliance launch per run, TCG here);
//   - node -e 0 (node's start-up, to give the ratios without it).
// Interleaved runs, medians (bench/lib.mjs). Writes its section of BENCHMARKS.md.
//
//   node bench/xfs-ls.mjs    (BENCH_RUNS=N fast-case runs, default 5; BENCH_GUESTFS_RUNS=0 skips virt-ls)

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSection } from './section.mjs';
import { root, RUNS, runCases, resultTable, load, machineLine, walkChild, guestkitCases, virtLsCase, nodeStartupCase, cpuNet } from './_lib.mjs';

const imageDir = join(root, 'images', 'out', 'xfs-images');

if (process.argv[2] === '--child') {
  await walkChild('fs/xfs/index.js', 'openXfs', process.argv[3], process.argv[4]);
  process.exit(0);
}

if (!existsSync(join(imageDir, '.complete'))) spawnSync('node', [join(root, 'images', 'build.mjs'), 'xfs-images'], { stdio: 'inherit' });
const load0 = load();
const sections = [];
for (const variant of ['v5', 'v4']) {
  const image = join(imageDir, `xfs-${variant}.img`);
  const ncheck = { name: 'xfs_ncheck (xfsprogs, userspace)', cmd: 'xfs_ncheck', args: [image], runs: RUNS, short: 'xfs_ncheck' };
  const results = runCases([...guestkitCases(fileURLToPath(import.meta.url), image), ncheck, nodeStartupCase(), virtLsCase(image)], `xfs ${variant} `);
  const gk = results.find((r) => r.short === 'gk');
  const ref = results.find((r) => r.short === 'xfs_ncheck');
  const virt = results.find((r) => r.virt);
  const startup = results.find((r) => r.startup);
  sections.push(`### ${variant === 'v5' ? 'v5 (CRC, ftype)' : 'v4 (no ftype: entry types come from the inodes)'}: \`xfs-${variant}.img\`

${resultTable(results, { ref, virt, startup })}

guestkit ls -R is **${virt ? `${(virt.wall / gk.wall).toFixed(0)}× faster than virt-ls -R` : 'not compared with virt-ls in this run'}** (target: at least 20×) and takes
${(gk.wall / ref.wall).toFixed(2)}× the wall time, ${(gk.cpu / ref.cpu).toFixed(2)}× the CPU time of xfs_ncheck (${(cpuNet(gk, startup) / ref.cpu).toFixed(2)}× without node's start-up).`);
}
const load1 = load();
const md = `## XFS: ls -R of the fixture images (bench/xfs-ls.mjs)

\`images/out/xfs-images/xfs-{v5,v4}.img\`: 320 MiB filesystems made by \`mkfs.xfs -p\` from
images/fixtures/xfs-tree.mjs (72,500 entries: a 50,000-entry directory in bmap-btree form, a
20,000-file tree in 200 directories, directories in every form), in the page cache. Interleaved
runs, medians; wall and CPU (user + sys) seconds and peak RSS from /usr/bin/time, start-up
included; "lines" is what each printed. The last column subtracts the CPU of \`node -e 0\` from
the node cases. The Sleuth Kit 4.11 has no XFS support (\`fls -f list\`), so the native-reader
reference is xfsprogs' \`xfs_ncheck\` (prints every inode number with its path).

${sections.join('\n\n')}

${machineLine(load0, load1)}`;
writeSection('xfs-ls', md);
process.stdout.write(md + '\n');

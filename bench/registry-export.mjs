#!/usr/bin/env node
// Registry export benchmark: the whole of a 27 MB SOFTWARE-like hive (images/recipes/reg-bench.mjs,
// made by hivexregedit --merge) exported to .reg text, one run of each, in the same run:
//   guestkit win-reg --hive H '\'              vs  hivexregedit --export H '\'   (same bytes, checked)
//   guestkit win-reg --hive H --json '\'       (for reference)
//   reglookup H                                (a C reader printing its own format, for reference)
//   guestkit win-reg -a disk 'HKLM\SOFTWARE'   vs  virt-win-reg disk 'HKLM\SOFTWARE' (same bytes,
//                                              checked), the hive inside an NTFS guest
//                                              (images/recipes/reg-bench-windows.mjs)
// Times are wall and CPU (user + sys) of each command, start-up included. Writes the
// registry-export section of BENCHMARKS.md.
import { spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const guestkit = join(root, 'bin', 'guestkit');
const load0 = loadavg()[0];
const skipVirt = process.argv.includes('--no-virt-win-reg');

execFileSync('node', [join(root, 'images', 'build.mjs'), 'reg-bench', ...(skipVirt ? [] : ['reg-bench-windows'])], { stdio: 'inherit' });
const hive = join(root, 'images', 'out', 'reg-bench', 'software-bench.hive');
const disk = join(root, 'images', 'out', 'reg-bench-windows', 'windows.img');
const tmp = mkdtempSync(join(tmpdir(), 'bench-registry-'));

/** Run `cmd args > out` under bash's `time`: { wall, cpu, out (path) }. */
function timed(id, cmd, args, env = {}) {
  const out = join(tmp, `${id}.out`);
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = `TIMEFORMAT='%R %U %S'; { time ${[cmd, ...args].map(q).join(' ')} > ${q(out)} 2>${q(out + '.err')} ; } 2>&1`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  const [wall, user, sys] = r.stdout.trim().split(/\s+/).slice(-3).map(Number);
  if (!Number.isFinite(wall)) throw new Error(`${id}: could not time: ${r.stdout} ${r.stderr}`);
  return { id, wall, cpu: user + sys, out, size: statSync(out).size };
}

const sha = (f) => createHash('sha256').update(readFileSync(f)).digest('hex');
const fmt = (x) => x.toFixed(2);

const rows = [];
const gk = timed('gk', 'node', [guestkit, 'win-reg', '--hive', hive, '\\']);
const hx = timed('hx', 'hivexregedit', ['--export', hive, '\\']);
const same = sha(gk.out) === sha(hx.out);
const gkj = timed('gkj', 'node', [guestkit, 'win-reg', '--hive', hive, '--json', '\\']);
const rl = timed('rl', 'reglookup', [hive]);
rows.push(['guestkit win-reg --hive H \'\\\'', gk, hx], ['hivexregedit --export H \'\\\'', hx, hx], ['guestkit win-reg --hive H --json \'\\\'', gkj, hx], ['reglookup H (own format)', rl, hx]);

let virt = null;
if (!skipVirt) {
  const env = { LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };
  const gka = timed('gka', 'node', [guestkit, 'win-reg', '-a', disk, 'HKLM\\SOFTWARE']);
  const vwr = timed('vwr', 'virt-win-reg', ['--format=raw', disk, 'HKLM\\SOFTWARE'], env);
  virt = { gka, vwr, same: sha(gka.out) === sha(vwr.out) };
  rows.push(["guestkit win-reg -a disk 'HKLM\\SOFTWARE'", gka, vwr], ["virt-win-reg disk 'HKLM\\SOFTWARE' (TCG appliance)", vwr, vwr]);
}

const hiveMiB = statSync(hive).size / 1048576;
const { Hive, readHiveFile } = await import(pathToFileURL(join(root, 'packages', 'registry', 'dist', 'index.js')).href);
const h = Hive.open(readHiveFile(hive), { name: 'bench' });
let keys = 0;
let values = 0;
for (const stack = [h.root()]; stack.length > 0; ) {
  const k = stack.pop();
  keys++;
  values += k.valueCount;
  stack.push(...k.subkeys());
}

const table = rows
  .map(([what, r, ref]) => `| ${what} | ${fmt(r.wall)} | ${fmt(r.cpu)} | ${(r.size / 1048576).toFixed(1)} | ${r === ref ? '1.00×' : `${(ref.wall / r.wall).toFixed(2)}×`} | ${r === ref ? '1.00×' : `${(ref.cpu / r.cpu).toFixed(2)}×`} |`)
  .join('\n');
const md = `## Registry: whole-hive .reg export (bench/registry-export.mjs)

A SOFTWARE-like hive of ${hiveMiB.toFixed(1)} MiB, ${keys} keys and ${values} values (COM classes, file
extensions, installed programs, vendor trees; images/recipes/reg-bench.mjs, made by
\`hivexregedit --merge\`), exported whole as .reg text. One run of each command, in the same run,
output to a file in ${tmpdir()}; wall and CPU (user + sys) seconds of the command, start-up
included. "speed-up" is the reference tool's time over this row's (above 1: guestkit is faster);
the reference is hivexregedit for the --hive rows and reglookup, virt-win-reg for the -a row.

| command | wall s | CPU s | output MiB | speed-up (wall) | speed-up (CPU) |
|---|---|---|---|---|---|
${table}

**guestkit / hivexregedit: ${(hx.wall / gk.wall).toFixed(2)}× faster in wall time, ${(hx.cpu / gk.cpu).toFixed(2)}× in CPU time**
(target: faster than hivexregedit); the two outputs are ${same ? 'byte for byte identical' : '**different** (a bug)'}
(${(gk.size / 1048576).toFixed(1)} MiB).${
    virt
      ? ` Through a guest: **guestkit win-reg -a / virt-win-reg: ${(virt.vwr.wall / virt.gka.wall).toFixed(1)}× faster in wall time**
(virt-win-reg boots the libguestfs appliance under TCG, downloads the hive and runs the same Perl export;
guestkit reads the NTFS partition and the hive in process); outputs ${virt.same ? 'byte for byte identical' : '**different** (a bug)'}.`
      : ' virt-win-reg was not run (--no-virt-win-reg).'
  }

Machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), node ${process.version}, hivex ${spawnSync('dpkg-query', ['-W', '-f=${Version}', 'libwin-hivex-perl'], { encoding: 'utf8' }).stdout};
load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end (the machine is shared, so absolute
times vary from run to run; the ratios are what to read). ${new Date().toISOString().slice(0, 10)}.`;

rmSync(tmp, { recursive: true, force: true });
const { writeSection } = await import(pathToFileURL(join(here, 'section.mjs')).href);
const bm = join(root, 'BENCHMARKS.md');
if (!existsSync(bm)) writeFileSync(bm, '# Benchmarks\n');
writeSection('registry-export', md);
console.log(md);
if (!same || (virt && !virt.same)) process.exit(1);

#!/usr/bin/env node
// Start-up of a one-shot command: `guestkit filesystems --long -a sample.qcow2` (what the
// README's quick start runs), `guestkit --help` and `node -e 0` (node alone), wall and CPU
// time, median of interleaved runs. Writes the `filesystems` section of BENCHMARKS.md.
//
//   node bench/startup.mjs            (BENCH_RUNS=N runs per case, default 15)

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, timeQuick as timeOnce, NODE_EXTRA_CA_CERTS } from './_lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const bin = join(root, 'bin', 'guestkit');
const sample = join(root, 'images', 'out', 'sample', 'sample.qcow2');
const TARGET_MS = 150;

async function main() {
  const runs = Number(process.env.BENCH_RUNS ?? 15);
  if (!existsSync(join(root, 'tools', 'cli', 'dist', 'cmd', 'filesystems.cjs'))) {
    throw new Error('the CLI is not built: run npx pnpm@9.15.9 build first');
  }
  spawnSync('node', [join(root, 'images', 'build.mjs'), 'sample'], { stdio: 'inherit' });
  const out = spawnSync(bin, ['filesystems', '--long', '-a', sample], { encoding: 'utf8' });
  if (out.status !== 0 || !/ext4/.test(out.stdout)) throw new Error(`guestkit filesystems failed: ${out.stderr}`);
  // bin/guestkit runs node without NODE_EXTRA_CA_CERTS (see its first line), so "node alone"
  // is measured the same way; where this environment sets it, node with it is shown too.
  const noCa = { NODE_EXTRA_CA_CERTS: undefined };
  const cases = [
    { id: 'node', what: '`node -e 0` (node alone, as bin/guestkit runs it: no NODE_EXTRA_CA_CERTS)', argv: ['node', '-e', '0'], env: noCa },
    ...(NODE_EXTRA_CA_CERTS
      ? [{ id: 'nodeca', what: `\`node -e 0\` with this environment's NODE_EXTRA_CA_CERTS (${NODE_EXTRA_CA_CERTS})`, argv: ['node', '-e', '0'], env: { NODE_EXTRA_CA_CERTS } }]
      : []),
    { id: 'help', what: '`guestkit --help`', argv: [bin, '--help'] },
    { id: 'fs', what: '`guestkit filesystems --long -a sample.qcow2`', argv: [bin, 'filesystems', '--long', '-a', sample] },
    {
      id: 'fsfull',
      what: 'the same from the bundle of every command (`GUESTKIT_BUNDLE=full`)',
      argv: [bin, 'filesystems', '--long', '-a', sample],
      env: { GUESTKIT_BUNDLE: 'full' },
    },
    {
      id: 'fsnc',
      what: 'the same without the V8 code cache (`GUESTKIT_NO_CODE_CACHE=1`)',
      argv: [bin, 'filesystems', '--long', '-a', sample],
      env: { GUESTKIT_NO_CODE_CACHE: '1' },
    },
  ];
  const load0 = loadavg()[0];
  for (const c of cases) timeOnce(c.argv, c.env); // warm the page cache
  const wall = new Map(cases.map((c) => [c.id, []]));
  const cpu = new Map(cases.map((c) => [c.id, []]));
  for (let r = 0; r < runs; r++) {
    for (const c of cases) {
      const t = timeOnce(c.argv, c.env);
      wall.get(c.id).push(t.wall);
      cpu.get(c.id).push(t.cpu);
    }
    process.stderr.write(`bench: startup run ${r + 1}/${runs}\n`);
  }
  const load1 = loadavg()[0];
  const ms = (s) => (s * 1000).toFixed(0);
  const w = (id) => median(wall.get(id));
  const c = (id) => median(cpu.get(id));
  const rows = cases.map((k) => `| ${k.what} | ${ms(w(k.id))} | ${ms(c(k.id))} | ${ms(w(k.id) - w('node'))} | ${ms(c(k.id) - c('node'))} |`);
  const fsWall = w('fs') * 1000;
  const met = fsWall < TARGET_MS;
  const cacheSize = (() => {
    const dir = join(root, 'tools', 'cli', 'dist', 'cmd');
    const src = readFileSync(join(dir, 'filesystems.cjs'), 'latin1');
    const id = /^\/\* guestkit build ([0-9a-f]{16}) \*\//.exec(src)?.[1];
    const f = join(dir, `filesystems-${id}.v8cache`);
    return { bundle: src.length, cache: existsSync(f) ? readFileSync(f).length : 0 };
  })();
  const md = `
## guestkit filesystems start-up (bench/startup.mjs)

What a one-shot command costs before and around its real work: \`bin/guestkit filesystems
--long -a images/out/sample/sample.qcow2\` (the sample disk: GPT, a FAT ESP and an ext4 root),
start-up included, next to \`guestkit --help\` and node alone. Median of ${runs} runs per case,
cases interleaved; wall and CPU (user + sys) in milliseconds from bash's \`time\`; "over node"
is what the case adds to \`node -e 0\` as bin/guestkit runs it.

| case | wall ms | CPU ms | wall over node | CPU over node |
|---|---|---|---|---|
${rows.join('\n')}

**Target: \`guestkit filesystems\` under ${TARGET_MS} ms wall on this 2-core machine, start-up
included. Result: ${fsWall.toFixed(0)} ms, ${met ? 'met' : 'not met'}** (node alone takes ${ms(w('node'))} ms of it).

How start-up is kept short:
- bin/guestkit runs node without NODE_EXTRA_CA_CERTS (\`#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS
  node\`). Where that variable is set (here, as in many CI and proxy set-ups, to the system
  bundle of ~140 certificates), node parses the whole file before running any JavaScript:
  ~70 ms of CPU per start on this machine, more than everything guestkit does (found with
  callgrind: node::crypto::NewRootCertStore under UseExtraCaCerts). guestkit makes no TLS
  connections.
- A CommonJS bundle per command (dist/cmd/filesystems.cjs: ${(cacheSize.bundle / 1024).toFixed(0)} KiB), compiled with \`vm.Script\`
  and a V8 code cache made at build time by running that command on a small guest-like disk
  (${(cacheSize.cache / 1024).toFixed(0)} KiB, named after a hash of the bundle; a cache V8 rejects, e.g. after a node
  upgrade, means compiling as usual). The bundle of every command serves --help and anything
  else. No ES module loader on the way (bin/guestkit is CommonJS).
- Output goes to file descriptor 1 with writeSync: node's stdout stream (and the stream
  modules behind it) is never created unless a tool streams (dump, tar-out) or yargs prints help.
- Node built-ins that only some commands use load on first use; yargs does not pre-render the
  subcommand's help text nor read the terminal width at load.

Measured and not kept (session 2): a node user-land start-up snapshot (\`--build-snapshot\`)
was slower than the code cache (a 7 MB snapshot to deserialize, no compiled code in it); a
larger young generation (\`--min-semi-space-size\`) costs more than it saves.

Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}; load average
${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end. ${new Date().toISOString().slice(0, 10)}.
`;
  const { writeSection } = await import(pathToFileURL(join(here, 'section.mjs')).href);
  writeSection('filesystems', md);
  process.stdout.write(md);
}

await main();

#!/usr/bin/env node
// pnpm fuzz [target...] [--seconds N] [--engine jazzer|builtin] [--list]
//
// Runs each fuzz target (one at a time) for N seconds (default 60) with jazzer.js
// (coverage-guided libFuzzer), seeded from images/ and ../shared/samples. Without the native
// addon (see native/build-addon.mjs) or with --engine builtin, runs the built-in seeded
// mutation loop instead, which is NOT coverage-guided, and says so.
//
// Everything it writes is under the cache folder ($GUESTKIT_FUZZ_CACHE, default
// ~/.cache/guestkit/fuzz): build/ (the bundle), seeds/<target>/, corpus/<target>/ (inputs
// jazzer found interesting), findings/<target>/ (crash-*, timeout-*, oom-* inputs), and
// results.json (executions per target, per run). A finding's input goes into
// test/fuzz-corpus/<target>/ once the parser is fixed.

import { build } from 'esbuild';
import { createRequire, isBuiltin } from 'node:module';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAddon } from './native/build-addon.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
process.env.GUESTKIT_FUZZ_ROOT = root;

/**
 * jazzer.js's per-input timeout. The finding rule is 2 s uninstrumented (HANG_MS); the
 * instrumented code runs 2-3 times slower, so jazzer stops at 5 s and every timeout-* input is
 * re-run uninstrumented (test/fuzz-regressions.test.ts) against the 2 s rule.
 */
const JAZZER_TIMEOUT_MS = 5000;

function parseArgs(argv) {
  const o = { targets: [], seconds: 60, engine: 'jazzer', list: false, rssLimitMb: 512 + 256 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') o.seconds = Number(argv[++i]);
    else if (a.startsWith('--seconds=')) o.seconds = Number(a.slice(10));
    else if (a === '--engine') o.engine = argv[++i];
    else if (a.startsWith('--engine=')) o.engine = a.slice(9);
    else if (a === '--list') o.list = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: pnpm fuzz [target...] [--seconds N] [--engine jazzer|builtin] [--list]');
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else o.targets.push(a);
  }
  if (!(o.seconds > 0)) throw new Error('--seconds needs a positive number');
  if (!['jazzer', 'builtin'].includes(o.engine)) throw new Error('--engine is jazzer or builtin');
  return o;
}

/**
 * Modules bundled apart into build/uninstrumented.cjs, which jazzer.js is told not to instrument
 * (--excludes): leaf helpers called for every field or byte a parser reads, whose branches tell
 * the fuzzer nothing about the parsers (the bounds check of every Bytes read, the CRC-32C
 * tables), the error class, and the harness's own sparse-image decoder. Instrumented, they
 * cost a counter update and a native comparison hook per field read. errors.ts goes with them
 * so that GuestkitError is one class on both sides.
 */
const UNINSTRUMENTED = ['packages/core/src/bytes.ts', 'packages/core/src/errors.ts', 'packages/core/src/util/crc32c.ts', 'packages/core/src/util/crc-reflected.ts', 'fuzz/lib/sparse-image.ts'];
const UNINSTRUMENTED_FILE = 'uninstrumented.cjs';

/**
 * esbuild: fuzz/bundle-entry.ts (or `entry`, a module's source) and every @guestkit/* source
 * it imports, as one CommonJS file; `leaves` (the path of build/uninstrumented.cjs) and
 * third-party packages (from node_modules, by absolute path) stay outside it, so that
 * jazzer.js's filters can leave them uninstrumented.
 */
async function bundle(outfile, entry, leaves) {
  const pkgs = {};
  for (const group of ['packages', 'tools']) {
    for (const d of readdirSync(join(root, group))) {
      const pj = join(root, group, d, 'package.json');
      if (existsSync(pj)) pkgs[JSON.parse(readFileSync(pj, 'utf8')).name] = join(root, group, d, 'src');
    }
  }
  const leafPaths = new Set(UNINSTRUMENTED.map((p) => join(root, p)));
  const alias = {
    name: 'guestkit-sources',
    setup(b) {
      b.onResolve({ filter: /^@guestkit\// }, (args) => {
        const m = /^(@guestkit\/[^/]+)(?:\/(.*))?$/.exec(args.path);
        const src = m && pkgs[m[1]];
        if (!src) return undefined;
        return { path: join(src, `${m[2] ?? 'index'}.ts`) };
      });
      // Sources import siblings as './x.js': resolve them to the .ts file.
      b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
        const ts = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
        if (leaves && leafPaths.has(ts)) return { path: leaves, external: true };
        return existsSync(ts) ? { path: ts } : undefined;
      });
      // Third-party packages: required from node_modules (their CommonJS build), where
      // jazzer.js's default filter leaves them uninstrumented: we fuzz our parsers, not fzstd.
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (!leaves || args.path.startsWith('@guestkit/') || args.path.startsWith('node:') || isBuiltin(args.path)) return undefined;
        try {
          return { path: createRequire(join(args.resolveDir, 'x.js')).resolve(args.path), external: true };
        } catch {
          return undefined;
        }
      });
    },
  };
  const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', plugins: [alias], external: ['fuse-native', 'esbuild'], logLevel: 'error', sourcemap: 'inline' };
  if (leaves) {
    await build({
      ...common,
      stdin: { contents: UNINSTRUMENTED.map((p) => `export * from ${JSON.stringify(join(root, p))};`).join('\n'), resolveDir: here, sourcefile: 'uninstrumented.ts', loader: 'ts' },
      outfile: leaves,
      plugins: [],
    });
  }
  await build({
    ...common,
    ...(entry ? { stdin: { contents: entry, resolveDir: here, sourcefile: 'entry.ts', loader: 'ts' } } : { entryPoints: [join(here, 'bundle-entry.ts')] }),
    outfile,
  });
}

/**
 * The source of a bundle holding one target only (what jazzer.js loads): less code for its
 * Babel instrumentation to rewrite at start-up, and a coverage map of that target's parsers.
 * The target's function and module are read from targets/index.ts.
 */
function targetEntry(t) {
  const index = readFileSync(join(here, 'targets', 'index.ts'), 'utf8');
  const fn = new RegExp(`t\\('${t}',[^\\n]*, (fuzz\\w+)\\),`).exec(index)?.[1];
  const mod = fn && new RegExp(`import \\{[^}]*\\b${fn}\\b[^}]*\\} from '(\\./[\\w-]+)\\.js'`).exec(index)?.[1];
  if (!mod) throw new Error(`cannot find target ${t}'s function in targets/index.ts`);
  return [
    "import { setWarningSink } from '@guestkit/core';",
    `import { ${fn} } from './targets/${mod.slice(2)}.js';`,
    'setWarningSink(() => {});',
    `export const fuzz = ${fn};`,
  ].join('\n');
}

async function runJazzer(o, t, dirs, cacheBase) {
  const bundleFile = join(cacheBase, 'build', `target-${t}.cjs`);
  await bundle(bundleFile, targetEntry(t), join(cacheBase, 'build', UNINSTRUMENTED_FILE));
  const require = createRequire(join(root, 'package.json'));
  const cli = join(dirname(require.resolve('@jazzer.js/core/package.json')), 'dist', 'cli.js');
  const args = [
    '--max-old-space-size=512',
    cli, join(here, 'jazzer-target.cjs'), dirs.corpus, dirs.seeds,
    '--sync', `--timeout=${JAZZER_TIMEOUT_MS}`, '--disable_bug_detectors=.*',
    // Instrument the target's bundle only: not build/uninstrumented.cjs (see UNINSTRUMENTED), not
    // third-party packages (node_modules, jazzer.js's own included), not jazzer-target.cjs.
    '--includes=*', '--excludes=node_modules', `--excludes=${UNINSTRUMENTED_FILE}`, '--excludes=jazzer-target.cjs',
    '--',
    `-max_total_time=${o.seconds}`, `-rss_limit_mb=${o.rssLimitMb}`, '-max_len=1048576',
    `-artifact_prefix=${dirs.findings}/`, '-print_final_stats=1',
  ];
  const statsFile = join(cacheBase, 'build', `stats-${t}.json`);
  rmSync(statsFile, { force: true });
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, GUESTKIT_FUZZ_BUNDLE: bundleFile, GUESTKIT_FUZZ_STATS: statsFile },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let tail = '';
    child.stderr.on('data', (d) => {
      process.stderr.write(d);
      tail = (tail + d.toString()).slice(-400000);
    });
    child.on('close', (code) => {
      // The final stats, else the last status line ("#12345 NEW cov: ..."): a crash skips the stats.
      const lastStatus = [...tail.matchAll(/^#(\d+)\s/gm)].pop()?.[1];
      const execs = Number(/stat::number_of_executed_units: (\d+)/.exec(tail)?.[1] ?? lastStatus ?? NaN);
      const lastCov = [...tail.matchAll(/cov: (\d+) ft: (\d+) corp: (\d+)/g)].pop();
      const artifact = /Test unit written to (\S+)/.exec(tail)?.[1];
      // Executions per second of the process's CPU time, from the first input on (jazzer-target.cjs):
      // comparable between runs whatever the machine's load; libFuzzer's exec/s is wall-clock.
      const st = existsSync(statsFile) ? JSON.parse(readFileSync(statsFile, 'utf8')) : null;
      resolvePromise({
        engine: 'jazzer.js 2.1.0 (libFuzzer, coverage-guided)',
        execs: Number.isFinite(execs) ? execs : null,
        coverage: lastCov ? { edges: Number(lastCov[1]), features: Number(lastCov[2]), corpus: Number(lastCov[3]) } : null,
        exit: code,
        finding: artifact ?? (code !== 0 ? `exit ${code}` : null),
        ...(st && st.cpuMs > 0 ? { cpuSeconds: Math.round(st.cpuMs) / 1000, execsPerCpuSecond: Math.round((st.execs * 1000) / st.cpuMs) } : {}),
      });
    });
  });
}

function runBuiltin(o, t, dirs, gk) {
  gk.quietWarnings();
  const seeds = [...gk.corpusInputs(dirs.seeds), ...gk.corpusInputs(dirs.corpus)].map((x) => x.data);
  let n = 0;
  const r = gk.mutationLoop(gk.target(t), seeds, o.seconds * 1000, {
    seed: Date.now() & 0xffffffff,
    onFinding(data, out) {
      const f = join(dirs.findings, `${out.finding.kind}-${Date.now()}-${n++}`);
      writeFileSync(f, data);
      console.error(`fuzz ${t}: FINDING ${out.finding.message} -> ${f}\n${out.finding.stack ?? ''}`);
    },
  });
  return {
    engine: 'built-in seeded mutation (NOT coverage-guided)',
    execs: r.execs,
    coverage: null,
    exit: r.findings.length ? 1 : 0,
    finding: r.findings.length ? `${r.findings.length} findings in ${dirs.findings}` : null,
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const cacheBase = process.env.GUESTKIT_FUZZ_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/tmp', '.cache'), 'guestkit', 'fuzz');
  const bundleFile = join(cacheBase, 'build', 'fuzz.cjs');
  mkdirSync(dirname(bundleFile), { recursive: true });
  await bundle(bundleFile);
  const gk = createRequire(import.meta.url)(bundleFile);
  const names = gk.TARGETS.map((x) => x.name);
  if (o.list) {
    for (const x of gk.TARGETS) console.log(`${x.name.padEnd(12)} ${x.what}`);
    return;
  }
  const targets = o.targets.length ? o.targets : names;
  for (const t of targets) gk.target(t);
  gk.ensureSeedImages();

  let engine = o.engine;
  if (engine === 'jazzer') {
    try {
      buildAddon();
    } catch (e) {
      console.error(`fuzz: jazzer.js's native addon cannot be built here (${e.message}); falling back to the built-in mutation loop, which is NOT coverage-guided`);
      engine = 'builtin';
    }
  }
  const resultsFile = join(cacheBase, 'results.json');
  const summary = [];
  for (const t of targets) {
    const dirs = {
      seeds: gk.writeSeeds(t),
      corpus: join(cacheBase, 'corpus', t),
      findings: join(cacheBase, 'findings', t),
    };
    mkdirSync(dirs.corpus, { recursive: true });
    mkdirSync(dirs.findings, { recursive: true });
    console.error(`\n=== fuzz ${t}: ${o.seconds} s, ${engine} ===`);
    const t0 = Date.now();
    const r = engine === 'jazzer' ? await runJazzer(o, t, dirs, cacheBase) : runBuiltin(o, t, dirs, gk);
    const row = { target: t, seconds: Math.round((Date.now() - t0) / 1000), date: new Date().toISOString(), ...r };
    summary.push(row);
    // Read again before appending, written under a temporary name: two `pnpm fuzz` runs (one
    // per core, different targets) may share the cache.
    const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : [];
    results.push(row);
    writeFileSync(`${resultsFile}.${process.pid}`, JSON.stringify(results, null, 1));
    renameSync(`${resultsFile}.${process.pid}`, resultsFile);
  }
  console.log('\ntarget        execs      seconds  exec/CPU-s  finding');
  for (const r of summary) console.log(`${r.target.padEnd(13)} ${String(r.execs ?? '?').padStart(9)}  ${String(r.seconds).padStart(7)}  ${String(r.execsPerCpuSecond ?? '-').padStart(10)}  ${r.finding ?? '-'}`);
  console.log(`(results appended to ${resultsFile})`);
  if (summary.some((r) => r.finding)) process.exitCode = 1;
}

main().catch((e) => {
  console.error(`fuzz: ${e.message}`);
  process.exit(2);
});

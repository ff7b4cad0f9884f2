#!/usr/bin/env node
// Writes ROBUSTNESS.md's `fuzzing` section from the runs recorded by `pnpm fuzz`
// (~/.cache/guestkit/fuzz/results.json) and the findings list (test/fuzz-corpus/findings.json).
//
//   node fuzz/report.mjs [--since ISO-DATE]     runs since that date (default: all recorded)

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSectionIn } from '../bench/section.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const args = process.argv.slice(2);
const since = args.includes('--since') ? args[args.indexOf('--since') + 1] : '';

const cache = process.env.GUESTKIT_FUZZ_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/tmp', '.cache'), 'guestkit', 'fuzz');
const rows = existsSync(join(cache, 'results.json')) ? JSON.parse(readFileSync(join(cache, 'results.json'), 'utf8')) : [];
const runs = rows.filter((r) => r.date >= since && r.engine?.startsWith('jazzer'));
const allFindings = JSON.parse(readFileSync(join(root, 'test', 'fuzz-corpus', 'findings.json'), 'utf8'));
/** Entries marked notAFinding: timeouts under instrumentation only, re-checked uninstrumented. */
const findings = allFindings.filter((f) => !f.notAFinding);
const checked = allFindings.filter((f) => f.notAFinding);
const corpusDir = join(root, 'test', 'fuzz-corpus');

const targets = [...new Set(runs.map((r) => r.target))];
const per = targets.map((t) => {
  const rs = runs.filter((r) => r.target === t);
  const execs = rs.reduce((n, r) => n + (r.execs ?? 0), 0);
  const seconds = rs.reduce((n, r) => n + r.seconds, 0);
  const last = rs.filter((r) => r.coverage).pop();
  // Executions per CPU-second of the last run that recorded it (run.mjs, from 2026-11-26 on).
  const cpuRate = rs.filter((r) => r.execsPerCpuSecond).pop()?.execsPerCpuSecond;
  const found = findings.filter((f) => f.target === t);
  const kept = existsSync(join(corpusDir, t)) ? readdirSync(join(corpusDir, t)).length : 0;
  return { t, execs, seconds, runs: rs.length, cov: last?.coverage, cpuRate, found, kept };
});
const fmt = (n) => n.toLocaleString('en-US');
const total = per.reduce((n, p) => n + p.execs, 0);
const rate = (p) => Math.max(1, Math.round(p.execs / Math.max(1, p.seconds)));
const dur = (r) => (1e6 / r < 3600 ? `${Math.max(1, Math.round(1e6 / r / 60))} min` : `${(1e6 / r / 3600).toFixed(1)} h`);
const short = per.filter((p) => p.execs < 1e6);

const md = [
  '## Fuzzing',
  '',
  `Written by \`node fuzz/report.mjs\` from the runs of \`pnpm fuzz\` (jazzer.js 2.1.0, coverage-guided libFuzzer; ` +
    'see fuzz/README.md for why 2.1.0 and how its native addon is built here). One target per parser entry point; ' +
    'a finding is any exception other than GuestkitError, an input taking over 2 s (uninstrumented), or memory over the limit.',
  '',
  `Campaign: ${runs.length} runs${since ? ` since ${since}` : ''}, ${fmt(total)} executions in all on the ` +
    'shared 2-core machine (seconds are wall time, including ~15-30 s of instrumentation at each start; a target stops at its first finding; every target with a finding ran again after its fix). ' +
    'The long run of 2026-11-26 05:21-06:15 UTC (after the harness speed-ups, nothing else running but the lead\'s occasional measurements) gave every target but dpkg and rpm-header ' +
    '4-13 minutes, two targets at a time (one per core): the longest that fitted that session. ' +
    'Session 4 (08:02-08:41 UTC) re-ran the targets whose parsers it changed: partitions (GPT\'s CRC-32 moved to the shared WebAssembly loop) and ext ' +
    '(directory cursor, inode and extent parsing from bytes, inode-table chunks; 30 min), and lvm-text and fstab past 10⁶. ' +
    (short.length
      ? `${short.length} of ${per.length} targets are still below 10⁶ executions; ` +
        `they ran ${fmt(Math.min(...short.map(rate)))}-${fmt(Math.max(...short.map(rate)))} inputs/s instrumented here, so 10⁶ executions would take ` +
        `from ${dur(Math.max(...short.map(rate)))} to ${dur(Math.min(...short.map(rate)))} per target ` +
        '(`pnpm fuzz TARGET --seconds N`; the corpus under ~/.cache/guestkit/fuzz/corpus/ carries over between runs).'
      : 'Every target ran at least 10⁶ executions.'),
  '',
  'exec/CPU-s: executions per second of the fuzzing process\'s CPU time from its first input on, so without the ' +
    'instrumentation at start-up (recorded by `pnpm fuzz` since 2026-11-26; "-" for earlier runs); on this shared machine ' +
    'the wall-clock rate says as much about the load as about the target. Since 2026-11-26 the bounds-checked byte ' +
    'views, the error class, CRC-32C, the harness\'s sparse-image decoder and third-party packages (fzstd) are left ' +
    'uninstrumented (fuzz/run.mjs UNINSTRUMENTED), so edges and features are counted over the parsers only.',
  '',
  '| target | executions | seconds | exec/s | exec/CPU-s (last run) | edges / features / corpus (last run) | findings | fixed | regression inputs |',
  '|---|---:|---:|---:|---:|---|---:|---:|---:|',
  ...per.map((p) =>
    `| ${p.t} | ${fmt(p.execs)} | ${fmt(p.seconds)} | ${fmt(Math.round(p.execs / Math.max(1, p.seconds)))} | ${p.cpuRate ? fmt(p.cpuRate) : '-'} | ${p.cov ? `${p.cov.edges} / ${p.cov.features} / ${p.cov.corpus}` : '-'} | ${p.found.length} | ${p.found.filter((f) => f.fixed).length} | ${p.kept} |`),
  '',
  '### Findings',
  '',
  findings.length
    ? ['| target | input (test/fuzz-corpus/) | what | found | fix |', '|---|---|---|---|---|', ...findings.map((f) => `| ${f.target} | ${f.input} | ${f.what} | ${f.found ?? 'pnpm fuzz'} | ${f.fix ?? '**not fixed**'} |`)].join('\n')
    : 'None.',
  '',
  ...(checked.length
    ? ['### Timeouts re-checked and not findings', '', ...checked.map((f) => `- ${f.target}: ${f.what} (${f.input})`), '']
    : []),
  '### Reproduce',
  '',
  '- `pnpm fuzz [target...] [--seconds N]` (one target at a time; findings under `~/.cache/guestkit/fuzz/findings/<target>/`);',
  '  then `node fuzz/report.mjs --since <date>` rewrites this section.',
  '- `npx vitest run test/fuzz-regressions.test.ts` replays every kept input and smoke-runs each target (seeds + 3 s of mutants, built-in engine).',
].join('\n');

writeSectionIn(join(root, 'ROBUSTNESS.md'), 'fuzzing', md);
console.log(md);

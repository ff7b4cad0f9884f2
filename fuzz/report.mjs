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
const findings = JSON.parse(readFileSync(join(root, 'test', 'fuzz-corpus', 'findings.json'), 'utf8'));
const corpusDir = join(root, 'test', 'fuzz-corpus');

const targets = [...new Set(runs.map((r) => r.target))];
const per = targets.map((t) => {
  const rs = runs.filter((r) => r.target === t);
  const execs = rs.reduce((n, r) => n + (r.execs ?? 0), 0);
  const seconds = rs.reduce((n, r) => n + r.seconds, 0);
  const last = rs.filter((r) => r.coverage).pop();
  const found = findings.filter((f) => f.target === t);
  const kept = existsSync(join(corpusDir, t)) ? readdirSync(join(corpusDir, t)).length : 0;
  return { t, execs, seconds, runs: rs.length, cov: last?.coverage, found, kept };
});
const fmt = (n) => n.toLocaleString('en-US');
const total = per.reduce((n, p) => n + p.execs, 0);

const md = [
  '## Fuzzing',
  '',
  `Written by \`node fuzz/report.mjs\` from the runs of \`pnpm fuzz\` (jazzer.js 2.1.0, coverage-guided libFuzzer; ` +
    'see fuzz/README.md for why 2.1.0 and how its native addon is built here). One target per parser entry point; ' +
    'a finding is any exception other than GuestkitError, an input taking over 2 s (uninstrumented), or memory over the limit.',
  '',
  `Campaign: ${runs.length} runs${since ? ` since ${since}` : ''}, ${fmt(total)} executions in all, one target at a time on the ` +
    'shared 2-core machine. **This is not the 10⁶-executions-per-target campaign the issue asks for**: the disk and filesystem ' +
    'targets run 20-300 inputs/s instrumented, so 10⁶ executions is 1-14 hours per target; that campaign is for a quiet machine ' +
    '(`pnpm fuzz --seconds 36000`).',
  '',
  '| target | executions | seconds | exec/s | edges / features / corpus (last run) | findings | fixed | regression inputs |',
  '|---|---:|---:|---:|---|---:|---:|---:|',
  ...per.map((p) =>
    `| ${p.t} | ${fmt(p.execs)} | ${fmt(p.seconds)} | ${fmt(Math.round(p.execs / Math.max(1, p.seconds)))} | ${p.cov ? `${p.cov.edges} / ${p.cov.features} / ${p.cov.corpus}` : '-'} | ${p.found.length} | ${p.found.filter((f) => f.fixed).length} | ${p.kept} |`),
  '',
  '### Findings',
  '',
  findings.length
    ? ['| target | input (test/fuzz-corpus/) | what | found | fix |', '|---|---|---|---|---|', ...findings.map((f) => `| ${f.target} | ${f.input} | ${f.what} | ${f.found ?? 'pnpm fuzz'} | ${f.fix ?? '**not fixed**'} |`)].join('\n')
    : 'None.',
  '',
  '### Reproduce',
  '',
  '- `pnpm fuzz [target...] [--seconds N]` (one target at a time; findings under `~/.cache/guestkit/fuzz/findings/<target>/`);',
  '  then `node fuzz/report.mjs --since <date>` rewrites this section.',
  '- `npx vitest run test/fuzz-regressions.test.ts` replays every kept input and smoke-runs each target (seeds + 3 s of mutants, built-in engine).',
].join('\n');

writeSectionIn(join(root, 'ROBUSTNESS.md'), 'fuzzing', md);
console.log(md);

#!/usr/bin/env node
// Runs every benchmark script in bench/ (each writes its own section of BENCHMARKS.md).
//   node bench/run.mjs [name...]
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const want = process.argv.slice(2);
const scripts = readdirSync(here).filter((f) => f.endsWith('.mjs') && !['run.mjs', 'section.mjs'].includes(f) && !f.startsWith('_'));
let failed = 0;
for (const f of scripts.sort()) {
  const name = f.replace(/\.mjs$/, '');
  if (want.length && !want.includes(name)) continue;
  console.error(`bench: ${name}`);
  const r = spawnSync('node', [join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);

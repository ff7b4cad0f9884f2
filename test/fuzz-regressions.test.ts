// Fuzzing in the test suite (issue 7):
// 1. every input under test/fuzz-corpus/<target>/ (the inputs of past findings, fixed since)
//    replays through the same target function `pnpm fuzz` runs: it must end cleanly or with a
//    GuestkitError, within the hang bound, without growing memory past the limit;
// 2. a short smoke run per target: its seeds (images/ and ../shared/samples), then seeded
//    mutants for SMOKE_MS, under the same rules. The smoke run uses the built-in mutation loop
//    (fuzz/lib/engine.ts), not jazzer.js: CI does not build the native addon. The
//    coverage-guided campaign is `pnpm fuzz` (fuzz/README.md).

import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { TARGETS, target } from '../fuzz/targets/index';
import { corpusInputs, ensureSeedImages, seedInputs } from '../fuzz/seeds';
import { HANG_MS, mutationLoop, quietWarnings, runOne } from '../fuzz/lib/engine';
import { ROOT } from './helpers/images';

const CORPUS = join(ROOT, 'test', 'fuzz-corpus');
/** Mutants per target in the smoke run: about 3 s each, under 1 minute for all 17 targets. */
const SMOKE_MS = 3000;
/** ...and at most this many inputs: the same mutant sequence as on the machine that last passed
 * it, never more (a slower machine runs a prefix of it), so the smoke run does not drift. */
const SMOKE_MAX_EXECS = 1500;

beforeAll(() => {
  quietWarnings();
  ensureSeedImages();
});

describe('fuzz regression corpus', () => {
  it('names only existing targets', () => {
    const dirs = existsSync(CORPUS) ? readdirSync(CORPUS).filter((d) => !d.includes('.')) : [];
    for (const d of dirs) expect(() => target(d)).not.toThrow();
    expect(dirs.length).toBeGreaterThan(0);
  });

  for (const t of TARGETS) {
    const inputs = corpusInputs(join(CORPUS, t.name));
    if (!inputs.length) continue;
    it(`${t.name}: ${inputs.length} past findings end cleanly or in a GuestkitError`, () => {
      for (const { name, data } of inputs) {
        const o = runOne(t, data);
        expect(o.finding, `${t.name}/${name}: ${o.finding?.message}\n${o.finding?.stack ?? ''}`).toBeNull();
        expect(o.ms).toBeLessThan(HANG_MS);
      }
    });
  }
});

describe('fuzz smoke run (seeds + seeded mutants, built-in engine)', () => {
  for (const t of TARGETS) {
    it(`${t.name}`, () => {
      const seeds = seedInputs(t.name);
      // A target without seeds would only ever see mutants of the empty input.
      expect(seeds.length, `${t.name} has no seeds`).toBeGreaterThan(0);
      const r = mutationLoop(t, seeds, SMOKE_MS, { seed: 0x6b17, maxExecs: SMOKE_MAX_EXECS });
      const f = r.findings[0];
      expect(f?.outcome.finding ?? null, f ? `${t.name}: ${f.outcome.finding!.message}\n${f.outcome.finding!.stack ?? ''}` : '').toBeNull();
      expect(r.execs).toBeGreaterThanOrEqual(seeds.length);
    }, 120_000);
  }
});

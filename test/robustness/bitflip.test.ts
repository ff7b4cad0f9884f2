// The bit-flip campaign's seeded smoke run and its regression cases (issue 7). The long run is
// `node test/robustness/bitflip.mjs` (1,000+ mutants per family, workers with time and memory
// bounds, ROBUSTNESS.md). Here: 40 mutants per family, the same metadata-aimed draw, in
// process; every mutant must give a clean result or GuestkitErrors only, in bounded CPU time.
// Each finding of the long campaign, once fixed, is kept in regressions.json as
// (family, offset, bit) and replayed here.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, readSync, writeSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@guestkit/core';
import { ensureImage } from '../helpers/images.js';
// @ts-expect-error plain JS module shared with the campaign script
import { runImage, drawMutants, FAMILIES } from './walk.mjs';
// @ts-expect-error plain JS module shared with the campaign script
import { metadataSectors } from './metamap.mjs';
// @ts-expect-error plain JS module shared with the campaign script
import { CAMPAIGN_IMAGES } from './images.mjs';

const PER_FAMILY = 40;
const SEED = 20261126;
// CPU time per mutant. The campaign holds mutants to 2 s of wall time in plain node; under
// vitest (sources transformed, CI load) the same work takes up to three times longer.
const CPU_MS = 6000;

interface Regression { family: string; offset: number; bit: number; finding: string; fix: string }
const regressions: Regression[] = JSON.parse(readFileSync(join(__dirname, 'regressions.json'), 'utf8'));

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'guestkit-bitflip-test-'));
  core.setWarningSink(() => {});
});
afterAll(() => {
  core.setWarningSink((m) => process.stderr.write(`guestkit: warning: ${m}\n`));
  rmSync(tmp, { recursive: true, force: true });
});

/** Run `family` on a private copy of its image with each (offset, bit) flipped in turn. */
function runMutants(family: string, src: string, mutants: { offset: number; bit: number }[]): string[] {
  const copy = join(tmp, `${family}.img`);
  execFileSync('cp', ['--sparse=always', src, copy]);
  const fd = openSync(copy, 'r+');
  const b = Buffer.alloc(1);
  const problems: string[] = [];
  try {
    for (const m of mutants) {
      readSync(fd, b, 0, 1, m.offset);
      const orig = b[0];
      b[0] = orig ^ (1 << m.bit);
      writeSync(fd, b, 0, 1, m.offset);
      const cpu0 = process.cpuUsage();
      try {
        runImage(core, family, copy);
      } catch (e) {
        problems.push(`${family} offset ${m.offset} bit ${m.bit}: ${(e as Error)?.stack ?? e}`);
      }
      const cpu = process.cpuUsage(cpu0);
      if ((cpu.user + cpu.system) / 1000 > CPU_MS) problems.push(`${family} offset ${m.offset} bit ${m.bit}: ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms of CPU`);
      b[0] = orig;
      writeSync(fd, b, 0, 1, m.offset);
    }
  } finally {
    closeSync(fd);
    rmSync(copy, { force: true });
  }
  return problems;
}

describe('bit flips in metadata: only GuestkitErrors, bounded time', () => {
  for (const family of Object.keys(FAMILIES)) {
    it(`${family}: ${PER_FAMILY} seeded mutants and the kept regression cases`, () => {
      const [recipe, file] = CAMPAIGN_IMAGES[family] as [string, string];
      const src = ensureImage(recipe, file);
      const meta = metadataSectors(core, family, src);
      expect(meta.all.length, 'metadata sectors found').toBeGreaterThan(20);
      if (!['mbr', 'gpt', 'lvm'].includes(family)) {
        // The clean image reads without a single error, and its walk covers the tree.
        expect(meta.summary.errors.map((e: Error) => e.message)).toEqual([]);
        if (family === 'qcow2') expect(meta.summary.bytes).toBeGreaterThan(1 << 20);
        else expect(meta.summary.entries).toBeGreaterThan(100);
      }
      let seed = SEED;
      for (const c of family) seed = Math.imul(seed ^ c.charCodeAt(0), 16777619) >>> 0;
      const mutants = [...drawMutants(meta, PER_FAMILY, seed), ...regressions.filter((r) => r.family === family)];
      expect(runMutants(family, src, mutants)).toEqual([]);
    }, 120_000);
  }
});

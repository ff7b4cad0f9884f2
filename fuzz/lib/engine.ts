// Running inputs through a target and judging the result, plus a small seeded mutation
// loop. The loop is what the test suite's smoke run and the regression replay use, and what
// `pnpm fuzz --engine builtin` runs when jazzer.js's native addon is unavailable; it is NOT
// coverage-guided (jazzer.js is: see ../run.mjs).
//
// A finding is: an exception other than GuestkitError, a run over HANG_MS, or the process's
// resident memory growing past MEMORY_LIMIT during the run.

import { GuestkitError, setWarningSink } from '@guestkit/core';
import type { FuzzTarget } from '../targets/index.js';

export const HANG_MS = 2000;
/** Warnings (a GPT read from its backup...) are expected on every other input: drop them. */
export function quietWarnings(): void {
  setWarningSink(() => {});
}
export const MEMORY_LIMIT = 512 * 1024 * 1024;

export interface Outcome {
  /** null: clean or GuestkitError. */
  finding: null | { kind: 'exception' | 'hang' | 'memory'; message: string; stack?: string };
  ms: number;
  /** The GuestkitError code, when the input was refused. */
  code?: string;
}

export function runOne(t: FuzzTarget, data: Uint8Array): Outcome {
  const rss0 = process.memoryUsage.rss();
  const t0 = performance.now();
  let code: string | undefined;
  let finding: Outcome['finding'] = null;
  try {
    t.fuzz(data);
  } catch (e) {
    if (e instanceof GuestkitError) code = e.code;
    else {
      const err = e as Error;
      finding = { kind: 'exception', message: `${err?.name ?? typeof e}: ${err?.message ?? String(e)}`, stack: err?.stack };
    }
  }
  const ms = performance.now() - t0;
  if (!finding && ms > HANG_MS) finding = { kind: 'hang', message: `took ${Math.round(ms)} ms (limit ${HANG_MS} ms)` };
  const grew = process.memoryUsage.rss() - rss0;
  if (!finding && grew > MEMORY_LIMIT) finding = { kind: 'memory', message: `resident memory grew by ${Math.round(grew / 2 ** 20)} MiB` };
  return { finding, ms, code };
}

/** xorshift32: deterministic for a given seed, so a smoke run is reproducible. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 16, 32, 64, 100, 512, 1000, 1024, 4096];

/** One to four libFuzzer-style mutations of a copy of `data`. */
export function mutate(data: Uint8Array, next: () => number, maxLen = 1 << 20): Uint8Array {
  let b = new Uint8Array(data);
  const rounds = 1 + (next() % 4);
  for (let r = 0; r < rounds; r++) {
    const len = b.length;
    const pos = len ? next() % len : 0;
    switch (next() % 9) {
      case 0: // flip a bit
        if (len) b[pos] ^= 1 << (next() % 8);
        break;
      case 1: // random byte
        if (len) b[pos] = next() & 0xff;
        break;
      case 2: // interesting integer, LE or BE, 1/2/4 bytes
      case 3: {
        if (!len) break;
        const v = INTERESTING[next() % INTERESTING.length];
        const w = [1, 2, 4][next() % 3];
        const be = next() % 2 === 1;
        for (let i = 0; i < w && pos + i < len; i++) b[pos + i] = (v >>> (8 * (be ? w - 1 - i : i))) & 0xff;
        break;
      }
      case 4: // add or subtract a small number to a u32
        if (pos + 4 <= len) {
          const dv = new DataView(b.buffer, b.byteOffset);
          dv.setUint32(pos, (dv.getUint32(pos, true) + ((next() % 33) - 16)) >>> 0, true);
        }
        break;
      case 5: { // copy a chunk over another place
        if (len < 2) break;
        const n = 1 + (next() % Math.min(64, len));
        const from = next() % (len - n + 1);
        const to = next() % (len - n + 1);
        b.copyWithin(to, from, from + n);
        break;
      }
      case 6: { // erase bytes
        if (len < 2) break;
        const n = 1 + (next() % Math.min(16, len - 1));
        const at = Math.min(pos, len - n);
        const c = new Uint8Array(len - n);
        c.set(b.subarray(0, at));
        c.set(b.subarray(at + n), at);
        b = c;
        break;
      }
      case 7: { // insert bytes
        if (len >= maxLen) break;
        const n = 1 + (next() % 16);
        const c = new Uint8Array(len + n);
        c.set(b.subarray(0, pos));
        const fill = next() & 0xff;
        c.fill(fill, pos, pos + n);
        c.set(b.subarray(pos), pos + n);
        b = c;
        break;
      }
      case 8: // truncate
        if (len > 1) b = b.slice(0, next() % len);
        break;
    }
  }
  return b;
}

export interface LoopResult {
  execs: number;
  findings: { data: Uint8Array; outcome: Outcome }[];
}

/** Run the seeds, then mutants of them, until `ms` has passed (or `maxExecs`). */
export function mutationLoop(t: FuzzTarget, seeds: Uint8Array[], ms: number, opts: { seed?: number; maxExecs?: number; onFinding?: (data: Uint8Array, o: Outcome) => void } = {}): LoopResult {
  const next = rng(opts.seed ?? 1);
  const res: LoopResult = { execs: 0, findings: [] };
  const deadline = performance.now() + ms;
  const pool = seeds.length ? seeds : [new Uint8Array(0)];
  const record = (data: Uint8Array, o: Outcome) => {
    res.execs++;
    if (o.finding) {
      res.findings.push({ data, outcome: o });
      opts.onFinding?.(data, o);
    }
  };
  for (const s of seeds) record(s, runOne(t, s));
  while (performance.now() < deadline && res.execs < (opts.maxExecs ?? Infinity)) {
    const data = mutate(pool[next() % pool.length], next);
    record(data, runOne(t, data));
  }
  return res;
}

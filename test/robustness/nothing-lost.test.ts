// Nothing lost (issue 7): every tool that writes (win-reg --merge --hive, tar-out, copy-out) is
// killed with SIGKILL at random points (deterministic seed, delays spread over the tool's own
// run time), many times. After each kill: the inputs are byte-identical, and every output that
// carries its final name is complete (the hive is the old one or the fully merged one; the tar
// file is the old one or the complete archive; each copied file is whole). Temporary names
// (.NAME.guestkit-HOST-PID.tmp, .guestkit-HOST-PID-N.tmp) may be left behind by a kill and
// never carry a final name; the next run of the same output removes those whose writer is gone
// and keeps a live writer's (packages/core/src/temp-file.ts; the second describe below, with
// writers stopped by SIGSTOP while their temporary file exists). Needs `pnpm build`.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHiveFile, exportReg, REGEDIT_HEADER } from '@guestkit/registry';
import { tempHostTag } from '@guestkit/core';
import { ensureImage, GUESTKIT, ROOT } from '../helpers/images.js';
// @ts-expect-error plain JS module
import { prng } from './walk.mjs';

const KILLS = 8;
const SEED = 0x6b11;
const TEMP = /^\.(.*\.guestkit-[0-9a-f]{8}-\d+\.tmp|guestkit-[0-9a-f]{8}-\d+-\d+\.tmp)$/;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'gk-nothing-lost-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** sha256 of a hive's .reg export: its content without the write times a merge stamps. */
async function contentSha(path: string): Promise<string> {
  const h = createHash('sha256').update(REGEDIT_HEADER);
  await exportReg(openHiveFile(path).root(), (c) => void h.update(c));
  return h.digest('hex');
}

/** Run guestkit to completion; returns its wall time in ms. */
function complete(args: string[]): number {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [GUESTKIT, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return Date.now() - t0;
}

/** Start guestkit and SIGKILL it after `ms`; resolves when it is gone. */
function killAfter(args: string[], ms: number): Promise<{ killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GUESTKIT, ...args], { cwd: ROOT, stdio: 'ignore' });
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (_code, signal) => {
      clearTimeout(t);
      resolve({ killed: signal === 'SIGKILL' });
    });
  });
}

/** Regular files under dir: relative path → sha256 (temporary names listed apart). */
function files(dir: string, rel = '', out = { final: new Map<string, string>(), temp: [] as string[] }) {
  for (const n of readdirSync(join(dir, rel))) {
    const r = rel ? `${rel}/${n}` : n;
    const st = lstatSync(join(dir, r));
    if (st.isDirectory()) files(dir, r, out);
    else if (TEMP.test(n)) out.temp.push(r);
    else if (st.isFile()) out.final.set(r, sha(join(dir, r)));
  }
  return out;
}

interface Tally { kills: number; finishedFirst: number; oldKept: number; newComplete: number; tempsLeft: number }
const tallies: Record<string, Tally> = {};

/** Delays spread over [0, 1.2 × the tool's uninterrupted time], from the seed. */
function delays(tool: string, full: number): number[] {
  const rnd = prng(SEED + tool.length);
  return Array.from({ length: KILLS }, () => Math.floor(rnd() * full * 1.2));
}

describe('SIGKILL at random points: inputs untouched, no half-written output under its final name', () => {
  it('win-reg --merge --hive: the hive is the old one or the merged one', async () => {
    const hives = ensureImage('reg-hives');
    const reg = join(hives, 'reg', 'deep.reg');
    const regSha = sha(reg);
    const dir = join(tmp, 'winreg');
    mkdirSync(dir);
    const hive = join(dir, 'fixtures.hive');
    const orig = join(hives, 'fixtures.hive');
    const oldSha = sha(orig);
    copyFileSync(orig, hive);
    const full = complete(['win-reg', '--merge', '--hive', hive, reg]);
    // A merge stamps the current time in the hive: a complete output is one whose content
    // equals the reference merge's.
    const newContent = await contentSha(hive);
    expect(sha(hive)).not.toBe(oldSha);
    const t: Tally = (tallies['win-reg --merge --hive'] = { kills: 0, finishedFirst: 0, oldKept: 0, newComplete: 0, tempsLeft: 0 });
    for (const ms of delays('win-reg', full)) {
      copyFileSync(orig, hive);
      const { killed } = await killAfter(['win-reg', '--merge', '--hive', hive, reg], ms);
      if (killed) t.kills++;
      else t.finishedFirst++;
      expect(sha(reg)).toBe(regSha);
      if (sha(hive) === oldSha) t.oldKept++;
      else {
        expect(await contentSha(hive)).toBe(newContent);
        t.newComplete++;
      }
      const f = files(dir);
      expect([...f.final.keys()]).toEqual(['fixtures.hive']);
    }
    t.tempsLeft = files(dir).temp.length;
    expect(t.kills).toBeGreaterThan(0);
  }, 300_000);

  it('tar-out: TARFILE is the old file or the complete archive', async () => {
    const img = ensureImage('robust-fs', 'ext4.img');
    const imgSha = sha(img);
    const dir = join(tmp, 'tarout');
    mkdirSync(dir);
    const tar = join(dir, 'out.tar');
    writeFileSync(tar, 'the old archive\n');
    const oldSha = sha(tar);
    const args = ['tar-out', '-a', img, '-m', '/dev/sda', '/', tar];
    const full = complete(args);
    const newSha = sha(tar);
    const t: Tally = (tallies['tar-out'] = { kills: 0, finishedFirst: 0, oldKept: 0, newComplete: 0, tempsLeft: 0 });
    for (const ms of delays('tar-out', full)) {
      writeFileSync(tar, 'the old archive\n');
      const { killed } = await killAfter(args, ms);
      if (killed) t.kills++;
      else t.finishedFirst++;
      const now = sha(tar);
      expect([oldSha, newSha]).toContain(now);
      if (now === oldSha) t.oldKept++;
      else t.newComplete++;
      const f = files(dir);
      expect([...f.final.keys()]).toEqual(['out.tar']);
    }
    t.tempsLeft = files(dir).temp.length;
    expect(sha(img)).toBe(imgSha);
    expect(t.kills).toBeGreaterThan(0);
  }, 300_000);

  it('copy-out: every file under its final name is complete', async () => {
    const img = ensureImage('robust-fs', 'ext4.img');
    const imgSha = sha(img);
    const ref = join(tmp, 'copy-ref');
    mkdirSync(ref);
    const full = complete(['copy-out', '-a', img, '-m', '/dev/sda', '/', ref]);
    const want = files(ref).final;
    expect(want.size).toBeGreaterThan(300);
    const t: Tally = (tallies['copy-out'] = { kills: 0, finishedFirst: 0, oldKept: 0, newComplete: 0, tempsLeft: 0 });
    let k = 0;
    for (const ms of delays('copy-out', full)) {
      const out = join(tmp, `copy-${k++}`);
      mkdirSync(out);
      const { killed } = await killAfter(['copy-out', '-a', img, '-m', '/dev/sda', '/', out], ms);
      if (killed) t.kills++;
      else t.finishedFirst++;
      const got = files(out);
      for (const [p, h] of got.final) expect(h, p).toBe(want.get(p));
      if (got.final.size === want.size) t.newComplete++;
      else t.oldKept++;
      t.tempsLeft += got.temp.length;
      rmSync(out, { recursive: true, force: true });
    }
    expect(sha(img)).toBe(imgSha);
    expect(t.kills).toBeGreaterThan(0);
    if (process.env.GUESTKIT_ROBUSTNESS_TALLY) writeFileSync(process.env.GUESTKIT_ROBUSTNESS_TALLY, JSON.stringify(tallies, null, 1));
  }, 300_000);
});

/** Temporary names (TEMP) directly in these directories, as paths. */
function tempsInAll(dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const n of readdirSync(d)) if (TEMP.test(n)) out.push(join(d, n));
  }
  return out.sort();
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Wait until every thread of `pid` is stopped (state T): kill() only sends SIGSTOP, and a
 * thread in the middle of a write finishes it first, so the temporary file may still grow
 * for a moment after kill() returns. False when the process is gone.
 */
function waitStopped(pid: number): boolean {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    let all = true;
    try {
      for (const t of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'latin1');
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        if (state === 'Z') return false;
        if (state !== 'T' && state !== 't') all = false;
      }
    } catch {
      return false;
    }
    if (all) return true;
    Atomics.wait(PAUSE, 0, 0, 1);
  }
  return false;
}

/** Whether process `pid` exists and has not exited (a zombie has). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const exited = (c: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve({ code: c.exitCode, signal: c.signalCode });
    else c.once('exit', (code, signal) => resolve({ code, signal }));
  });

/**
 * Start guestkit and stop it (SIGSTOP) the moment one of `dirs` holds a temporary file of its
 * PID (the directories are polled without yielding, so the writer is caught inside its write,
 * which for win-reg is a few milliseconds). A run that renamed its file before it was stopped
 * is killed and tried again. Resolves with the stopped writer and its file.
 */
async function stopWhileWriting(args: string[], dirs: string[]): Promise<{ child: ChildProcess; temp: string }> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const child = spawn(process.execPath, [GUESTKIT, ...args], { cwd: ROOT, stdio: 'ignore' });
    const mine = (p: string) => p.includes(`-${child.pid}.tmp`) || p.includes(`-${child.pid}-`);
    const deadline = Date.now() + 30_000;
    let seen = false;
    while (Date.now() < deadline && child.exitCode === null) {
      if (tempsInAll(dirs).some(mine)) {
        seen = child.kill('SIGSTOP') && waitStopped(child.pid!);
        break;
      }
      // The child's exit is only noticed by the event loop, which this loop blocks: ask /proc.
      if (!running(child.pid!)) break;
      Atomics.wait(PAUSE, 0, 0, 0.2);
    }
    const temp = seen ? tempsInAll(dirs).find(mine) : undefined;
    if (temp) return { child, temp };
    child.kill('SIGKILL');
    await exited(child);
  }
  throw new Error(`no run of guestkit ${args.join(' ')} was caught with its temporary file`);
}

/**
 * A live writer (stopped by SIGSTOP inside its write: alive, its temporary file in use), then a
 * killed one started meanwhile (stopped inside its write, then SIGKILLed: its temporary file
 * stays), then an uninterrupted run of the same output. The killed writer's start and the
 * uninterrupted run both keep the live writer's file; the run removes the killed writer's; the
 * live writer, resumed, finishes normally. `check` says the output under its final name is the
 * complete one.
 */
async function liveAndKilled(args: string[], dirs: string[], reset: () => void, check: () => Promise<void> | void, others: string[] = []) {
  reset();
  const tempsIn = (d: string[]) => tempsInAll(d).filter((p) => !others.includes(p));
  const live = await stopWhileWriting(args, dirs);
  const liveBytes = readFileSync(live.temp);
  const killed = await stopWhileWriting(args, dirs);
  killed.child.kill('SIGKILL');
  expect((await exited(killed.child)).signal).toBe('SIGKILL');
  expect(tempsIn(dirs)).toEqual([killed.temp, live.temp].sort());
  complete(args);
  // The next run removed the dead writer's file, left the live writer's as it was...
  expect(tempsIn(dirs)).toEqual([live.temp]);
  expect(readFileSync(live.temp).equals(liveBytes)).toBe(true);
  await check();
  // ...and that writer, resumed, completes and renames it.
  live.child.kill('SIGCONT');
  expect(await exited(live.child)).toEqual({ code: 0, signal: null });
  expect(tempsIn(dirs)).toEqual([]);
  await check();
  // Another output's temporary files (of a dead PID) were not theirs to remove.
  for (const p of others) expect(existsSync(p), p).toBe(true);
}

describe('the next run removes what killed writers left, never a live writer\'s temporary file', () => {
  it('tar-out', async () => {
    const img = ensureImage('robust-fs', 'ext4.img');
    const dir = join(tmp, 'stale-tarout');
    mkdirSync(dir);
    const tar = join(dir, 'out.tar');
    const args = ['tar-out', '-a', img, '-m', '/dev/sda', '/', tar];
    complete(args);
    const newSha = sha(tar);
    // Another output's temporary file in the same directory is not this output's to remove.
    const deadPid = spawnSync('true').pid;
    const other = join(dir, `.other.tar.guestkit-${tempHostTag()}-${deadPid}.tmp`);
    writeFileSync(other, 'x');
    await liveAndKilled(args, [dir], () => writeFileSync(tar, 'the old archive\n'), () => expect(sha(tar)).toBe(newSha), [other]);
  }, 300_000);

  it('win-reg --merge --hive', async () => {
    const hives = ensureImage('reg-hives');
    const reg = join(hives, 'reg', 'deep.reg');
    const dir = join(tmp, 'stale-winreg');
    mkdirSync(dir);
    const hive = join(dir, 'fixtures.hive');
    const orig = join(hives, 'fixtures.hive');
    copyFileSync(orig, hive);
    const args = ['win-reg', '--merge', '--hive', hive, reg];
    complete(args);
    const newContent = await contentSha(hive);
    await liveAndKilled(args, [dir], () => copyFileSync(orig, hive), async () => expect(await contentSha(hive)).toBe(newContent));
  }, 300_000);

  it('copy-out', async () => {
    const img = ensureImage('robust-fs', 'ext4.img');
    const ref = join(tmp, 'stale-copy-ref');
    mkdirSync(ref);
    complete(['copy-out', '-a', img, '-m', '/dev/sda', '/many', ref]);
    const want = files(ref).final;
    const out = join(tmp, 'stale-copy');
    const args = ['copy-out', '-a', img, '-m', '/dev/sda', '/many', out];
    await liveAndKilled(args, [join(out, 'many')], () => {
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out);
    }, () => {
      // Every file under its final name is complete, and after a run all of them are there.
      const got = files(out).final;
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [p, h] of got) expect(h, p).toBe(want.get(p));
    });
  }, 300_000);
});

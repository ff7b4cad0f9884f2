// Temporary output names and the removal of killed writers' leftovers (temp-file.ts). The
// killed and live writers of the real tools are in test/robustness/nothing-lost.test.ts; these
// are the cases a tool run does not meet: other hosts, other users, symlinks, near-miss names.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { removeStaleTemps, removeStaleTempsIn, tempHostTag, tempPathFor, tempPathIn, processAlive } from '../src/temp-file.js';

let dir: string;
let sleeper: ChildProcess;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gk-temp-file-'));
  sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
});
afterEach(() => {
  sleeper.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A PID that no process has: a child that has exited and been reaped. */
const deadPid = () => spawnSync('true').pid!;

describe('temporary names', () => {
  it('carry the output name, this host and this PID', () => {
    const host = tempHostTag();
    expect(host).toMatch(/^[0-9a-f]{8}$/);
    expect(tempPathFor(join(dir, 'out.tar'))).toBe(join(dir, `.out.tar.guestkit-${host}-${process.pid}.tmp`));
    expect(tempPathIn(dir, 7)).toBe(join(dir, `.guestkit-${host}-${process.pid}-7.tmp`));
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(sleeper.pid!)).toBe(true);
    expect(processAlive(deadPid())).toBe(false);
  });

  it('removeStaleTemps removes dead writers\' files of that output only', () => {
    const host = tempHostTag();
    const out = join(dir, 'out.tar');
    writeFileSync(out, 'the output\n');
    const dead = deadPid();
    const name = (base: string, h: string, pid: number | string, tail = '.tmp') => join(dir, `.${base}.guestkit-${h}-${pid}${tail}`);
    const stale = [name('out.tar', host, dead), name('out.tar', host, process.pid)];
    const kept = [
      name('out.tar', host, sleeper.pid!), // its writer is alive
      name('out.tar', 'deadbeef' === host ? 'feedface' : 'deadbeef', dead), // another machine's PID
      name('other.tar', host, dead), // another output's
      name('out', host, dead), // a prefix of the output's name
      name('out.tar', host, dead, '.tmp.keep'),
      name('out.tar', host, `0${dead}`),
      name('out.tar', host, `${dead}-1`),
      join(dir, `out.tar.guestkit-${host}-${dead}.tmp`), // no leading dot
      join(dir, `.guestkit-${host}-${dead}-1.tmp`), // copy-out's form
    ];
    for (const p of [...stale, ...kept]) writeFileSync(p, 'partial');
    expect(removeStaleTemps(out).sort()).toEqual(stale.sort());
    for (const p of kept) expect(existsSync(p), p).toBe(true);
    expect(readFileSync(out, 'utf8')).toBe('the output\n');
  });

  it('never follows or removes a symlink, a directory or another user\'s file', () => {
    const host = tempHostTag();
    const out = join(dir, 'hive');
    const dead = deadPid();
    const target = join(dir, 'target');
    writeFileSync(target, 'not a temporary file\n');
    const link = join(dir, `.hive.guestkit-${host}-${dead}.tmp`);
    symlinkSync(target, link);
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    const asDir = join(sub, `.guestkit-${host}-${dead}-1.tmp`);
    mkdirSync(asDir);
    const others = join(sub, `.guestkit-${host}-${dead}-2.tmp`);
    writeFileSync(others, 'x');
    const root = process.getuid?.() === 0;
    if (root) chownSync(others, 65534, 65534);
    const mine = join(sub, `.guestkit-${host}-${dead}-3.tmp`);
    writeFileSync(mine, 'x');
    expect(removeStaleTemps(out)).toEqual([]);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('not a temporary file\n');
    expect(removeStaleTempsIn(sub)).toEqual(root ? [mine] : [others, mine].sort());
    expect(readdirSync(sub).sort()).toEqual((root ? [asDir, others] : [asDir]).map((p) => basename(p)).sort());
  });

  it('removeStaleTempsIn keeps a live writer\'s files and ignores a missing directory', () => {
    const host = tempHostTag();
    const live = join(dir, `.guestkit-${host}-${sleeper.pid}-1.tmp`);
    const dead = join(dir, `.guestkit-${host}-${deadPid()}-12.tmp`);
    const foreign = join(dir, `.guestkit-${host === '00000000' ? '00000001' : '00000000'}-${deadPid()}-1.tmp`);
    for (const p of [live, dead, foreign]) writeFileSync(p, 'x');
    expect(removeStaleTempsIn(dir)).toEqual([dead]);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(foreign)).toBe(true);
    expect(removeStaleTempsIn(join(dir, 'missing'))).toEqual([]);
  });
});

// guestkit unmount: guestunmount's behaviour. fusermount -u; when the mountpoint is busy,
// retry (1 s, 2 s, 4 s, ...) unless --no-retry; then wait for the server to exit. A stale
// mount (its server killed) is detached with fusermount -u -z, or umount -l.
// Exit status as guestunmount: 0 unmounted, 1 error, 2 not mounted, 3 busy.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import type { UnmountArgs } from './command.js';
import { isMounted, stateFile } from './state.js';

const DEFAULT_RETRIES = 5;
/** How long to wait for the server to exit once unmounted. */
const EXIT_WAIT_MS = 10_000;

function run(cmd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((res) => {
    let stderr = '';
    let child;
    try {
      child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      res({ code: 127, stderr: (e as Error).message });
      return;
    }
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (e) => res({ code: 127, stderr: e.message }));
    child.on('exit', (c) => res({ code: c ?? 1, stderr }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The mountpoint's real path; a stale FUSE mount cannot be stat'ed, so resolve its parent. */
function realMountpoint(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    const abs = resolve(p);
    const slash = abs.lastIndexOf('/');
    try {
      const parent = realpathSync(abs.slice(0, slash) || '/');
      return parent === '/' ? `/${abs.slice(slash + 1)}` : `${parent}/${abs.slice(slash + 1)}`;
    } catch {
      return abs;
    }
  }
}

export async function unmount(argv: UnmountArgs): Promise<void> {
  const say = (m: string) => { if (!argv.quiet) process.stderr.write(`guestkit: ${m}\n`); };
  const verbose = (m: string) => { if (argv.verbose) process.stderr.write(`guestkit: ${m}\n`); };
  const mp = realMountpoint(argv.mountpoint);
  if (!isMounted(mp)) {
    say(`${argv.mountpoint} is not mounted`);
    process.exitCode = 2;
    return;
  }
  const state = stateFile(mp);
  let pid: number | undefined;
  try {
    const n = Number(readFileSync(state, 'utf8').trim());
    if (Number.isInteger(n) && n > 0) pid = n;
  } catch { /* not ours, or started elsewhere: nothing to wait for */ }

  const retries = argv['no-retry'] ? 0 : Math.max(0, argv.retry ?? DEFAULT_RETRIES);
  let delay = 1000;
  let done = false;
  for (let attempt = 0; ; attempt++) {
    const r = await run('fusermount', ['-u', mp]);
    verbose(`fusermount -u ${mp}: status ${r.code}${r.stderr ? `: ${r.stderr.trim()}` : ''}`);
    if (r.code === 0 || !isMounted(mp)) {
      done = true;
      break;
    }
    const serverGone = pid === undefined || !alive(pid);
    if (/not connected/i.test(r.stderr) || (serverGone && !/busy/i.test(r.stderr))) {
      // Stale: nobody serves it any more. Detach it lazily.
      const z = await run('fusermount', ['-u', '-z', mp]);
      verbose(`fusermount -u -z ${mp}: status ${z.code}${z.stderr ? `: ${z.stderr.trim()}` : ''}`);
      if (z.code !== 0 && isMounted(mp)) {
        const l = await run('umount', ['-l', mp]);
        verbose(`umount -l ${mp}: status ${l.code}${l.stderr ? `: ${l.stderr.trim()}` : ''}`);
      }
      done = !isMounted(mp);
      if (!done) {
        say(`${argv.mountpoint}: could not unmount the stale mount: ${r.stderr.trim()}`);
        process.exitCode = 1;
        return;
      }
      break;
    }
    if (/busy/i.test(r.stderr)) {
      if (attempt >= retries) {
        say(`${argv.mountpoint}: the mountpoint is busy (a process has a file or directory open in it)`);
        process.exitCode = 3;
        return;
      }
      verbose(`${mp} busy: retrying in ${delay / 1000} s`);
      await sleep(delay);
      delay *= 2;
      continue;
    }
    say(`${argv.mountpoint}: fusermount -u failed: ${r.stderr.trim() || `status ${r.code}`}`);
    process.exitCode = 1;
    return;
  }
  if (!done) return;
  // Wait for the server to notice and exit, as guestunmount waits for guestmount.
  if (pid !== undefined) {
    const until = Date.now() + EXIT_WAIT_MS;
    while (alive(pid) && Date.now() < until) await sleep(50);
    if (alive(pid)) say(`${argv.mountpoint}: unmounted, but the server (pid ${pid}) has not exited`);
  }
  if (existsSync(state)) try { unlinkSync(state); } catch { /* gone */ }
}

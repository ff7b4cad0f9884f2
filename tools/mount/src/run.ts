// guestkit mount: opens the guest (errors are reported before anything is mounted), then
// serves it with FUSE. By default the command re-runs itself detached with --no-fork and a
// readiness pipe and returns once the mount answers (as guestmount forks once it is ready);
// -f/--no-fork stays in the foreground. SIGINT/SIGTERM unmount cleanly; an unmount from
// outside (guestkit unmount, fusermount -u) makes the server exit.

import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, readFileSync, realpathSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { cpus } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { hideBin } from 'yargs/helpers';
import { GuestkitError } from '@guestkit/core';
import { openGuestFromArgs, runTool, isVerbose } from '@guestkit/clikit';
import type { MountArgs } from './command.js';
import { WorkerPool } from './pool.js';
import { createServer, parseIdMap } from './server.js';
import { isMounted, stateFile } from './state.js';

export const DEFAULT_WORKERS = 4;
/** How often the server checks that its mount is still there (unmounted from outside). */
const WATCH_MS = 500;

export async function run(argv: MountArgs, rawArgs: readonly string[] = hideBin(process.argv)): Promise<void> {
  if (argv.rw) {
    await runTool(argv, () => handOverToGuestmount(argv, rawArgs));
    return;
  }
  if (argv.foreground || argv['no-fork']) {
    await runTool(argv, () => serve(argv, rawArgs));
    return;
  }
  await runTool(argv, () => daemonize(argv, rawArgs));
}

/** The first executable `name` on $PATH, or undefined. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch { /* not here */ }
  }
  return undefined;
}

/** Options of ours that guestmount does not take (dropped from the handed-over command line). */
const OURS_WITH_VALUE = new Set(['--workers', '--pid-file', '--ready-fd']);

/**
 * The command line for guestmount: ours without `mount`, guestkit-only options and
 * --pid-file (guestmount writes its PID to our state file instead, so that
 * `guestkit unmount` waits for it to flush and exit); -f becomes --no-fork.
 */
export function guestmountArgs(rawArgs: readonly string[]): string[] {
  const out: string[] = [];
  const a = rawArgs[0] === 'mount' ? rawArgs.slice(1) : [...rawArgs];
  for (let i = 0; i < a.length; i++) {
    const arg = a[i];
    const name = arg.split('=')[0];
    if (OURS_WITH_VALUE.has(name)) {
      if (!arg.includes('=')) i++;
      continue;
    }
    out.push(arg === '-f' || arg === '--foreground' ? '--no-fork' : arg);
  }
  return out;
}

/**
 * --rw: libguestfs's guestmount does writes; run it with the same options. Its PID goes to
 * the state file `guestkit unmount` waits on (guestunmount itself does not wait: guestmount(1)
 * tells scripts to wait for the PID so that the image is flushed), and to --pid-file.
 */
async function handOverToGuestmount(argv: MountArgs, rawArgs: readonly string[]): Promise<void> {
  const gm = onPath('guestmount');
  if (!gm) {
    throw new GuestkitError('UNSUPPORTED', "--rw: guestkit mounts read-only; writes need libguestfs's guestmount, which is not installed (Debian: apt-get install guestmount)");
  }
  if (argv['uid-map'] || argv['gid-map']) {
    throw new GuestkitError('USAGE', "--uid-map/--gid-map: not with --rw (libguestfs's guestmount maps no ids)");
  }
  const mp = checkMountpoint(argv.mountpoint);
  const state = stateFile(mp);
  const pidFile = argv['pid-file'];
  const foreground = !!(argv.foreground || argv['no-fork']);
  const args = [...guestmountArgs(rawArgs), '--pid-file', state];
  process.stderr.write(`guestkit: --rw: handing over to libguestfs's guestmount (${gm}); writes go through the libguestfs appliance\n`);
  const child = spawn(gm, args, { stdio: 'inherit' });
  // In the foreground guestmount writes its PID once mounted: copy it to --pid-file then.
  const copyPid = () => {
    if (!pidFile || !existsSync(state)) return false;
    writeFileSync(pidFile, readFileSync(state));
    return true;
  };
  const poll = foreground && pidFile ? setInterval(() => { if (copyPid()) clearInterval(poll); }, 200) : undefined;
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  if (foreground) for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, forward(sig));
  const code = await new Promise<number>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
  });
  if (poll) clearInterval(poll);
  if (foreground || code !== 0) {
    for (const f of [state, pidFile]) if (f && existsSync(f)) try { unlinkSync(f); } catch { /* gone */ }
  } else {
    copyPid();
  }
  if (code !== 0) process.exitCode = code;
}

function checkMountpoint(mp: string): string {
  let st;
  try {
    st = statSync(mp);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTCONN') throw new GuestkitError('IO', `${mp}: a stale mount is there (its server died): run guestkit unmount ${mp}`);
    throw new GuestkitError('NOT_FOUND', `${mp}: mountpoint does not exist`);
  }
  if (!st.isDirectory()) throw new GuestkitError('NOT_DIR', `${mp}: mountpoint is not a directory`);
  return realpathSync(mp);
}

/** Default: run again detached in the foreground mode and wait until it says the mount is ready. */
async function daemonize(argv: MountArgs, rawArgs: readonly string[]): Promise<void> {
  const mp = checkMountpoint(argv.mountpoint);
  const script = process.argv[1];
  const child = spawn(process.execPath, [...process.execArgv, script, ...rawArgs, '--no-fork', '--ready-fd', '3'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  const ready = await new Promise<boolean>((resolve) => {
    let buf = '';
    const pipe = child.stdio[3] as NodeJS.ReadableStream;
    pipe.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('ready')) resolve(true);
    });
    child.on('exit', () => resolve(false));
  });
  if (!ready) {
    // The child has said why on stderr.
    await new Promise((r) => setImmediate(r));
    process.exitCode = child.exitCode || 1;
    return;
  }
  // The filesystem answers: stat its root through the kernel.
  await stat(mp);
  child.stderr!.removeAllListeners('data');
  child.stderr!.destroy();
  (child.stdio[3] as NodeJS.ReadableStream & { destroy(): void }).destroy();
  child.unref();
}

async function serve(argv: MountArgs, rawArgs: readonly string[]): Promise<void> {
  const mp = checkMountpoint(argv.mountpoint);
  const log = (m: string) => process.stderr.write(`guestkit: ${m}\n`);
  // After the parent has gone, nobody may read our stderr: never die of EPIPE.
  process.stderr.on('error', () => {});
  const uidMap = (argv['uid-map'] ?? []).map((s) => parseIdMap(s, 'uid'));
  const gidMap = (argv['gid-map'] ?? []).map((s) => parseIdMap(s, 'gid'));
  const t = argv['dir-cache-timeout'];
  if (t !== undefined && !(Number.isFinite(t) && t >= 0)) throw new GuestkitError('USAGE', `--dir-cache-timeout ${t}: expected a number of seconds`);
  const fuseOptions = (argv.option ?? []).flatMap((s) => s.split(',')).filter((s) => s && s !== 'ro' && s !== 'rw');
  if (argv.option?.some((s) => s.split(',').includes('rw'))) {
    throw new GuestkitError('USAGE', '-o rw: guestkit mounts read-only; use --rw for libguestfs\'s guestmount');
  }

  // Open the guest here first: bad images and bad -m are reported before anything is mounted.
  const g = openGuestFromArgs(argv, rawArgs);
  const mounts = g.view.mounts.map((m) => {
    if (!m.device) throw new GuestkitError('UNSUPPORTED', `mount on ${m.mountpoint} has no device name`);
    return m.options ? `${m.device}:${m.mountpoint}:${m.options}` : `${m.device}:${m.mountpoint}`;
  });
  const rootMount = g.view.root().mount.id;
  const verbose = isVerbose(argv);
  if (verbose) log(`mount: ${g.view.mounts.map((m) => `${m.device} on ${m.mountpoint} (${m.fs.type})`).join(', ')}`);
  g.close();

  // Workers open the same drives with the mounts made explicit (no second inspection).
  const workerArgv: Record<string, unknown> = {};
  for (const k of ['format', 'connect', 'snapshot', 'backing-dir', 'no-backing', 'force', 'verbose'] as const) {
    if (argv[k] !== undefined) workerArgv[k] = argv[k];
  }
  workerArgv.mount = mounts;
  const nWorkers = Math.max(1, Math.min(64, argv.workers ?? Math.max(DEFAULT_WORKERS, cpus().length)));
  const pool = await WorkerPool.start(nWorkers, { argv: workerArgv, rawArgs: [...rawArgs] });

  const first = g.drives[0];
  const fsname = first ? `guestkit:${first.kind === 'a' ? basename(first.path) : first.domain}` : 'guestkit';
  const server = createServer({
    mountpoint: mp, pool, rootMountId: rootMount, fuseOptions, fsname, uidMap, gidMap, log,
    debug: !!process.env.GUESTKIT_FUSE_DEBUG, cacheTimeout: argv['dir-cache-timeout'],
  });
  try {
    await server.mount();
  } catch (e) {
    await pool.close();
    throw new GuestkitError('IO', `${mp}: FUSE mount failed: ${(e as Error).message}`);
  }

  const state = stateFile(mp);
  writeFileSync(state, `${process.pid}\n`);
  if (argv['pid-file']) writeFileSync(argv['pid-file'], `${process.pid}\n`);

  let finishing = false;
  const finish = async (how: 'signal' | 'external') => {
    if (finishing) return;
    finishing = true;
    clearInterval(watch);
    if (how === 'signal') {
      try {
        await server.unmount();
      } catch (e) {
        log(`${mp}: unmount failed: ${(e as Error).message}`);
      }
    }
    await pool.close();
    for (const f of [state, argv['pid-file']]) {
      if (f && existsSync(f)) try { unlinkSync(f); } catch { /* gone */ }
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void finish('signal'));
  process.on('SIGTERM', () => void finish('signal'));
  process.on('SIGHUP', () => void finish('signal'));
  const watch = setInterval(() => {
    if (!isMounted(mp)) void finish('external');
  }, WATCH_MS);

  if (argv['ready-fd'] !== undefined) {
    try {
      writeSync(argv['ready-fd'], 'ready\n');
      closeSync(argv['ready-fd']);
    } catch { /* the parent went away: we still serve */ }
  }
  await new Promise(() => {}); // served until unmounted
}

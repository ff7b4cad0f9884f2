// How every tool ends: a GuestkitError becomes one line `guestkit: <message>` and exit 1
// (exit 2 for usage errors); anything else is a bug, reported the same way, with the stack
// only under -v/-x or GUESTKIT_DEBUG.

import { writeSync } from 'node:fs';
import { GuestkitError, fromSystemError } from '@guestkit/core';

export function isVerbose(argv?: { verbose?: boolean; trace?: boolean }): boolean {
  return !!(argv?.verbose || argv?.trace || process.env.GUESTKIT_DEBUG);
}

export function exitCodeFor(e: unknown): number {
  return e instanceof GuestkitError && e.code === 'USAGE' ? 2 : 1;
}

export function reportError(e: unknown, verbose: boolean): void {
  const msg =
    e instanceof GuestkitError
      ? e.message
      : e instanceof Error
        ? `internal error: ${e.message}`
        : `internal error: ${String(e)}`;
  process.stderr.write(`guestkit: ${oneLine(msg)}\n`);
  if (verbose && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

/** Run a tool body; on error report it and set the exit code. Never throws. */
export async function runTool(argv: { verbose?: boolean; trace?: boolean }, body: () => Promise<void> | void): Promise<void> {
  try {
    await body();
  } catch (e) {
    reportError(e, isVerbose(argv));
    process.exitCode = exitCodeFor(e);
  }
}

/**
 * Write to stdout; ignores EPIPE (output piped into head: exit quietly, as virt-* tools do).
 *
 * Straight to file descriptor 1 with writeSync, not through process.stdout: on Linux node
 * writes stdout synchronously anyway (files, pipes and terminals), and creating the stream
 * loads node's stream machinery, a measurable part of a one-shot command's start-up. A
 * descriptor someone left non-blocking (EAGAIN) switches to process.stdout for the rest, which
 * handles it; the bytes already written stay written, in order.
 */
export function writeOut(s: string | Uint8Array): Promise<void> {
  if (direct) {
    const b = typeof s === 'string' ? Buffer.from(s) : s;
    let done = 0;
    try {
      while (done < b.length) done += writeSync(1, b, done, b.length - done);
      return RESOLVED;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') process.exit(process.exitCode ?? 0);
      if (code !== 'EAGAIN') return Promise.reject(fromSystemError(e, 'standard output'));
      direct = false;
      return streamOut(b.subarray(done));
    }
  }
  return streamOut(s);
}

let direct = true;
const RESOLVED = Promise.resolve();

function streamOut(s: string | Uint8Array): Promise<void> {
  quietEpipe();
  return new Promise((resolve, reject) => {
    const ok = process.stdout.write(s, (err) => {
      if (err && (err as NodeJS.ErrnoException).code !== 'EPIPE') reject(fromSystemError(err, 'standard output'));
    });
    if (ok) resolve();
    else process.stdout.once('drain', resolve);
  });
}

let epipeInstalled = false;
/**
 * Exit quietly when stdout's reader goes away (`guestkit ls | head`). The handler goes on
 * process.stdout when something first uses it (a tool streaming to it, yargs printing help),
 * so that a command that never does is spared creating the stream.
 */
export function quietEpipe(): void {
  if (epipeInstalled) return;
  epipeInstalled = true;
  const onError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  };
  const d = Object.getOwnPropertyDescriptor(process, 'stdout');
  if (!d?.get || !d.configurable) {
    process.stdout.on('error', onError);
    return;
  }
  const get = d.get;
  Object.defineProperty(process, 'stdout', {
    ...d,
    get() {
      Object.defineProperty(process, 'stdout', d);
      const stdout = get.call(process) as NodeJS.WriteStream;
      stdout.on('error', onError);
      return stdout;
    },
  });
}

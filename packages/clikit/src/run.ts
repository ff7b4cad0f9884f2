// How every tool ends: a GuestkitError becomes one line `guestkit: <message>` and exit 1
// (exit 2 for usage errors); anything else is a bug, reported the same way, with the stack
// only under -v/-x or GUESTKIT_DEBUG.

import { GuestkitError } from '@guestkit/core';

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

/** Write to stdout respecting back-pressure; ignores EPIPE (output piped into head). */
export function writeOut(s: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = process.stdout.write(s, (err) => {
      if (err && (err as NodeJS.ErrnoException).code !== 'EPIPE') reject(err);
    });
    if (ok) resolve();
    else process.stdout.once('drain', resolve);
  });
}

let epipeInstalled = false;
/** Exit quietly when stdout's reader goes away (`guestkit ls | head`). */
export function quietEpipe(): void {
  if (epipeInstalled) return;
  epipeInstalled = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// The guestkit command line: one yargs parser over the given subcommands. main.ts runs it
// with every command; bundle.mjs also makes one bundle per command that runs it with that
// command alone (bin/guestkit picks it when the first argument names it), so a one-shot
// command loads and compiles only its own code.

import { isatty } from 'node:tty';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { quietEpipe, reportError } from '@guestkit/clikit';
import { GuestkitError } from '@guestkit/core';
import type { CommandModule } from 'yargs';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function runCli(commands: readonly CommandModule<any, any>[]): void {
  quietEpipe();

  const argv = hideBin(process.argv);
  const verbose = argv.some((a) => a === '-v' || a === '--verbose' || a === '-x' || a === '--trace');

  let y = yargs(argv)
    .scriptName('guestkit')
    .usage('guestkit <command> [options]\n\nRead virtual-machine disk images and the guests inside them.')
    .help('help')
    .version(false)
    .strict()
    .demandCommand(1, 'no command given (try guestkit --help)')
    .recommendCommands()
    .parserConfiguration({ 'boolean-negation': false })
    // The terminal's width, for --help only: asking process.stdout for it creates the stream
    // (only a terminal has one), and isatty loads node's tty module (with net: ~6 ms).
    .wrap(argv.includes('--help') ? Math.min(100, (isatty(1) && process.stdout.columns) || 80) : 80)
    .fail((msg, err) => {
      if (err) {
        reportError(err, verbose);
        process.exit(err instanceof GuestkitError && err.code === 'USAGE' ? 2 : 1);
      }
      process.stderr.write(`guestkit: ${msg}\n`);
      process.stderr.write(`Try 'guestkit --help' for more information.\n`);
      process.exit(2);
    });
  for (const c of commands) y = y.command(c);

  // No top-level await: the bundles bin/guestkit loads are CommonJS (tools/cli/bundle.mjs).
  y.parseAsync().then(exitWhenIdle, (e: unknown) => {
    reportError(e, verbose);
    process.exitCode = 1;
    exitWhenIdle();
  });
}

/**
 * Exit as soon as the command is done, when nothing is left for the event loop (no pending
 * write, timer, child process, FUSE session...): node would exit there anyway, but only after
 * waiting for V8's background jobs, such as optimizing compiles of functions that will never
 * run again (20-40 ms after a recursive listing, measured). 'exit' handlers still run.
 */
function exitWhenIdle(): void {
  setImmediate(() => {
    if (process.getActiveResourcesInfo().length === 0) process.exit();
  });
}

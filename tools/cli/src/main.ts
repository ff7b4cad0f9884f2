// guestkit: one binary dispatching to the tools (virt-cat, virt-ls, virt-df... as subcommands).

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { quietEpipe, reportError } from '@guestkit/clikit';
import { GuestkitError } from '@guestkit/core';
import { commands } from './commands.js';

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
  .wrap(Math.min(100, process.stdout.columns || 80))
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

// No top-level await: the bundle bin/guestkit loads is CommonJS (tools/cli/bundle.mjs).
y.parseAsync().catch((e: unknown) => {
  reportError(e, verbose);
  process.exitCode = 1;
});

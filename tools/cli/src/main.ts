// guestkit: one binary dispatching to the tools (virt-cat, virt-ls, virt-df... as subcommands).

import { runCli } from './cli.js';
import { commands } from './commands.js';

runCli(commands);

// Every guestkit subcommand. Each tool package exports a light `command` (its options) from
// "<pkg>/command"; the heavy code is imported only when that subcommand runs, so start-up
// stays fast. To add a tool: depend on its package in package.json, reference it in
// tsconfig.json, and list its command here.

import type { CommandModule } from 'yargs';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [];

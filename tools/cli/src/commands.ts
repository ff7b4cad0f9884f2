// Every guestkit subcommand. Each tool package exports a light `command` (its options) from
// "<pkg>/command"; the heavy code is imported only when that subcommand runs, so start-up
// stays fast. To add a tool: depend on its package in package.json, reference it in
// tsconfig.json, and list its command here.

import type { CommandModule } from 'yargs';
import { command as cat } from '@guestkit/tool-cat/command';
import { command as dump } from '@guestkit/tool-dump/command';
import { command as filesystems } from '@guestkit/tool-filesystems/command';
import { command as ls } from '@guestkit/tool-ls/command';
import { command as df } from '@guestkit/tool-df/command';
import { command as tarOut } from '@guestkit/tool-tar-out/command';
import { command as copyOut } from '@guestkit/tool-copy-out/command';
import { command as winReg } from '@guestkit/tool-win-reg/command';
import { command as inspector } from '@guestkit/tool-inspector/command';
import { command as mount, unmountCommand as unmount } from '@guestkit/tool-mount/command';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [cat, dump, filesystems, ls, df, tarOut, copyOut, winReg, inspector, mount, unmount];

// guestkit copy-out: copy files and directories out of a guest (virt-copy-out).
import type { Argv, CommandModule } from 'yargs';
import { withImageOptions, withMountOptions, type CommonArgs } from '@guestkit/clikit';

export interface CopyOutArgs extends CommonArgs {
  paths: string[];
}

export const command: CommandModule<object, CopyOutArgs> = {
  command: 'copy-out <paths..>',
  describe: 'Copy files or directories out of a guest: copy-out PATH... LOCALDIR (virt-copy-out); -i is implied without -m',
  builder: (y: Argv) =>
    withMountOptions(withImageOptions(y.parserConfiguration({ 'greedy-arrays': false, 'boolean-negation': false })))
      .positional('paths', { type: 'string', array: true, describe: 'Guest paths, then the local directory' }) as unknown as Argv<CopyOutArgs>,
  handler: async (argv) => {
    const { run } = await import('./run.js');
    await run(argv);
  },
};

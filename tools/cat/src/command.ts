// guestkit cat: display files in a virtual machine (virt-cat).
import type { Argv, CommandModule } from 'yargs';
import { withImageOptions, withMountOptions, type CommonArgs } from '@guestkit/clikit';

export interface CatArgs extends CommonArgs {
  files: string[];
}

export const command: CommandModule<object, CatArgs> = {
  command: 'cat <files..>',
  describe: 'Display files in a virtual machine (virt-cat); -i is implied without -m',
  builder: (y: Argv) =>
    withMountOptions(withImageOptions(y.parserConfiguration({ 'greedy-arrays': false, 'boolean-negation': false })))
      .positional('files', { type: 'string', array: true, describe: 'Guest paths of the files' }) as unknown as Argv<CatArgs>,
  handler: async (argv) => {
    const { run } = await import('./run.js');
    await run(argv);
  },
};

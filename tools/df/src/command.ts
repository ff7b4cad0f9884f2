// guestkit df: free space on the filesystems of guests (virt-df).
import type { Argv, CommandModule } from 'yargs';
import { withImageOptions, type CommonArgs } from '@guestkit/clikit';

export interface DfArgs extends CommonArgs {
  csv?: boolean;
  'human-readable'?: boolean;
  inodes?: boolean;
  'one-per-guest'?: boolean;
  uuid?: boolean;
  P?: number;
}

export const command: CommandModule<object, DfArgs> = {
  command: 'df',
  describe: 'Free space on the filesystems of a guest (-a/-d), or of every libvirt domain (virt-df)',
  builder: (y: Argv) =>
    withImageOptions(y.parserConfiguration({ 'greedy-arrays': false, 'boolean-negation': false }))
      .option('csv', { type: 'boolean', describe: 'Comma-separated values' })
      .option('human-readable', { alias: 'h', type: 'boolean', describe: 'Human-readable sizes' })
      .option('inodes', { alias: 'i', type: 'boolean', describe: 'Inodes instead of blocks' })
      .option('one-per-guest', { type: 'boolean', describe: 'Accepted for compatibility (each guest is read on its own anyway)' })
      .option('uuid', { type: 'boolean', describe: 'With all libvirt domains: print UUIDs instead of names' })
      .option('P', { type: 'number', describe: 'Accepted for compatibility (threads)', requiresArg: true }) as unknown as Argv<DfArgs>,
  handler: async (argv) => {
    const { run } = await import('./run.js');
    await run(argv);
  },
};

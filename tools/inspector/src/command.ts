// guestkit inspector: what operating systems are in the disks and what is installed
// (virt-inspector), as virt-inspector's XML, or --json.
import type { Argv, CommandModule } from 'yargs';
import { withImageOptions, type CommonArgs } from '@guestkit/clikit';

export interface InspectorArgs extends CommonArgs {
  'no-applications'?: boolean;
  'no-icon'?: boolean;
  xpath?: string;
}

export const command: CommandModule<object, InspectorArgs> = {
  command: 'inspector',
  describe: 'Display information about the operating systems in disk images (virt-inspector): XML, or --json',
  builder: (y: Argv) =>
    withImageOptions(y.parserConfiguration({ 'greedy-arrays': false, 'boolean-negation': false }))
      .option('no-applications', { type: 'boolean', describe: 'Do not list applications' })
      .option('no-icon', { type: 'boolean', describe: 'Do not output the guest icon' })
      .option('xpath', { type: 'string', requiresArg: true, describe: 'Run an XPath query over the XML and print its result (no inspection when no -a/-d: reads XML from stdin)' }) as unknown as Argv<InspectorArgs>,
  handler: async (argv) => {
    const { run } = await import('./run.js');
    await run(argv);
  },
};

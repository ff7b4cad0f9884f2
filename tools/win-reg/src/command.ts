// guestkit win-reg: export and merge Windows Registry entries (virt-win-reg), from a guest's
// disks (-a/-d) or, a guestkit addition, from a standalone hive file (--hive FILE).
import type { Argv, CommandModule } from 'yargs';
import { withImageOptions, type CommonArgs } from '@guestkit/clikit';

export interface WinRegArgs extends CommonArgs {
  args: string[];
  hive?: string;
  merge?: boolean;
  encoding?: string;
  'unsafe-printable-strings'?: boolean;
  prefix?: string;
  unsafe?: boolean;
  'max-depth'?: number;
  'ignore-logs'?: boolean;
}

export const command: CommandModule<object, WinRegArgs> = {
  command: 'win-reg [args..]',
  describe:
    "Export and merge Windows Registry entries (virt-win-reg): win-reg -a DISK 'HKLM\\Path' [VALUE], " +
    'win-reg --merge -a DISK FILE.reg...; --hive FILE works on one hive file instead of a guest',
  builder: (y: Argv) =>
    withImageOptions(y.parserConfiguration({ 'greedy-arrays': false, 'boolean-negation': false }))
      .positional('args', { type: 'string', array: true, describe: 'KEY [VALUE] to export, or the .reg files to merge' })
      .option('hive', { type: 'string', requiresArg: true, describe: 'Work on this hive file instead of a guest (key paths relative to its root)' })
      .option('merge', { type: 'boolean', describe: 'Merge .reg files (or standard input) into the registry' })
      .option('encoding', { type: 'string', requiresArg: true, describe: 'Encoding of string values merged from .reg files (default utf-16le)' })
      .option('unsafe-printable-strings', { type: 'boolean', describe: 'Print REG_SZ and REG_EXPAND_SZ values as str(T):"..." text (a guess: see virt-win-reg(1))' })
      .option('prefix', { type: 'string', requiresArg: true, describe: 'With --hive: prefix printed before key paths, and removed from merged ones (as hivexregedit)' })
      .option('unsafe', { type: 'boolean', describe: 'Export what can be read of a damaged hive, warning about the rest' })
      .option('max-depth', { type: 'number', requiresArg: true, describe: 'Export at most this many levels of keys' })
      .option('ignore-logs', { type: 'boolean', describe: 'Do not replay the .LOG1/.LOG2 transaction logs of a dirty hive' }) as unknown as Argv<WinRegArgs>,
  handler: async (argv) => {
    const { run } = await import('./run.js');
    await run(argv);
  },
};

// guestkit tar-out: pack a guest directory into a tar file (virt-tar-out, guestfish tar-out).
import type { Argv, CommandModule } from 'yargs';
import { withImageOptions, withMountOptions, type CommonArgs } from '@guestkit/clikit';

export interface TarOutArgs extends CommonArgs {
  dir: string;
  tarfile: string;
  gzip?: boolean;
  xz?: boolean;
  bzip2?: boolean;
  zstd?: boolean;
  compress?: string;
  'numeric-owner'?: boolean;
  xattrs?: boolean;
  exclude?: string[];
}

export const command: CommandModule<object, TarOutArgs> = {
  command: 'tar-out <dir> <tarfile>',
  describe: 'Pack a guest directory into a tar file, or "-" for stdout (virt-tar-out); -i is implied without -m',
  builder: (y: Argv) =>
    withMountOptions(withImageOptions(y.parserConfiguration({ 'greedy-arrays': false, 'boolean-negation': false })))
      .positional('dir', { type: 'string', describe: 'Guest directory' })
      .positional('tarfile', { type: 'string', describe: 'Output tar file, or - for stdout' })
      .option('gzip', { alias: 'z', type: 'boolean', describe: 'Compress with gzip' })
      .option('xz', { alias: 'J', type: 'boolean', describe: 'Compress with xz (system xz)' })
      .option('bzip2', { alias: 'j', type: 'boolean', describe: 'Compress with bzip2 (system bzip2)' })
      .option('zstd', { type: 'boolean', describe: 'Compress with zstd (system zstd)' })
      .option('compress', { type: 'string', describe: 'Compression: gzip, xz, bzip2, zstd (guestfish tar-out compress:)', requiresArg: true })
      .option('numeric-owner', { type: 'boolean', describe: 'Numeric owners only (as without it: the appliance tar writes no names)' })
      .option('xattrs', { type: 'boolean', describe: 'Store extended attributes (pax SCHILY.xattr.*)' })
      .option('exclude', { type: 'string', array: true, describe: 'Leave out entries matching a glob (repeatable)', requiresArg: true }) as unknown as Argv<TarOutArgs>,
  handler: async (argv) => {
    const { run } = await import('./run.js');
    await run(argv);
  },
};

// guestkit ls: list files in a virtual machine (virt-ls).
import type { Argv, CommandModule } from 'yargs';
import { withImageOptions, withMountOptions, type CommonArgs } from '@guestkit/clikit';

export interface LsArgs extends CommonArgs {
  dirs: string[];
  long?: boolean;
  recursive?: boolean;
  checksum?: boolean;
  checksums?: boolean;
  csv?: boolean;
  'human-readable'?: boolean;
  'extra-stats'?: boolean;
  times?: boolean;
  'time-days'?: boolean;
  'time-relative'?: boolean;
  'time-t'?: boolean;
  uids?: boolean;
}

export const command: CommandModule<object, LsArgs> = {
  command: 'ls <dirs..>',
  describe: 'List files in a virtual machine (virt-ls); -i is implied without -m',
  builder: (y: Argv) =>
    withMountOptions(withImageOptions(y.parserConfiguration({ 'greedy-arrays': false, 'boolean-negation': false })))
      .positional('dirs', { type: 'string', array: true, describe: 'Guest directories' })
      .option('long', { alias: 'l', type: 'boolean', describe: 'Long listing (ls -la in the guest)' })
      .option('recursive', { alias: 'R', type: 'boolean', describe: 'Recursive listing' })
      .option('checksum', { type: 'boolean', describe: 'With -lR: checksum of each file, --checksum[=md5|sha1|sha224|sha256|sha384|sha512|crc]' })
      .option('checksums', { type: 'boolean', hidden: true })
      .option('csv', { type: 'boolean', describe: 'With -lR: comma-separated values' })
      .option('human-readable', { alias: 'h', type: 'boolean', describe: 'With -lR: human-readable sizes' })
      .option('extra-stats', { alias: 'extra-stat', type: 'boolean', describe: 'With -lR: device, inode, links, rdev, blocks' })
      .option('times', { alias: 'time', type: 'boolean', describe: 'With -lR: atime, mtime, ctime' })
      .option('time-days', { type: 'boolean', describe: 'With -lR: times as days before now' })
      .option('time-relative', { type: 'boolean', describe: 'With -lR: times as seconds before now' })
      .option('time-t', { type: 'boolean', describe: 'With -lR: times as seconds since the epoch' })
      .option('uids', { alias: 'uid', type: 'boolean', describe: 'With -lR: UID and GID' }) as unknown as Argv<LsArgs>,
  handler: async (argv) => {
    const { run } = await import('./run.js');
    await run(argv);
  },
};

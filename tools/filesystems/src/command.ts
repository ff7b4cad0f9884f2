// guestkit filesystems: list filesystems, partitions, block devices and LVM in a disk image
// (virt-filesystems), with its options, columns and layout.
import type { Argv, CommandModule } from 'yargs';
import { withImageOptions, type CommonArgs } from '@guestkit/clikit';

export interface FilesystemsArgs extends CommonArgs {
  all?: boolean;
  'block-devices'?: boolean;
  blocksize?: string;
  csv?: boolean;
  extra?: boolean;
  filesystems?: boolean;
  'human-readable'?: boolean;
  long?: boolean;
  'logical-volumes'?: boolean;
  'no-title'?: boolean;
  partitions?: boolean;
  'physical-volumes'?: boolean;
  uuid?: boolean;
  'volume-groups'?: boolean;
}

export const command: CommandModule<object, FilesystemsArgs> = {
  command: 'filesystems',
  describe: 'List filesystems, partitions, block devices and LVM in disk images (virt-filesystems)',
  builder: (y: Argv) =>
    withImageOptions(y.parserConfiguration({ 'greedy-arrays': false, 'boolean-negation': false }))
      .option('all', { type: 'boolean', describe: 'Display everything' })
      .option('block-devices', { alias: 'blkdevs', type: 'boolean', describe: 'Display block devices' })
      .option('blocksize', { type: 'string', describe: 'Sector size (512|4096) of the following -a disks' })
      .option('csv', { type: 'boolean', describe: 'Output as Comma-Separated Values' })
      .option('extra', { type: 'boolean', describe: 'Display swap and data filesystems' })
      .option('filesystems', { type: 'boolean', describe: 'Display mountable filesystems' })
      .option('human-readable', { alias: 'h', type: 'boolean', describe: 'Human-readable sizes in --long output' })
      .option('long', { alias: 'l', type: 'boolean', describe: 'Long output' })
      .option('logical-volumes', { alias: ['lvs', 'logvols'], type: 'boolean', describe: 'Display LVM logical volumes' })
      .option('no-title', { type: 'boolean', describe: 'No title in --long output' })
      .option('partitions', { alias: 'parts', type: 'boolean', describe: 'Display partitions' })
      .option('physical-volumes', { alias: ['pvs', 'physvols'], type: 'boolean', describe: 'Display LVM physical volumes' })
      .option('uuid', { alias: 'uuids', type: 'boolean', describe: 'Add UUIDs to --long output' })
      .option('volume-groups', { alias: ['vgs', 'volgroups'], type: 'boolean', describe: 'Display LVM volume groups' })
      .example('guestkit filesystems -a disk.qcow2 --all --long -h', 'everything, with sizes') as unknown as Argv<FilesystemsArgs>,
  handler: async (argv) => {
    const { run } = await import('./run.js');
    await run(argv);
  },
};

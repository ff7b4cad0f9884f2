// guestkit dump: the raw bytes of a disk or of one device on it, to stdout
// (guestfish download DEVICE -).
import type { Argv, CommandModule } from 'yargs';
import { withImageOptions, type CommonArgs } from '@guestkit/clikit';

export interface DumpArgs extends CommonArgs {
  device?: string;
}

export const command: CommandModule<object, DumpArgs> = {
  command: 'dump [device]',
  describe: 'Write the raw bytes of a disk or device (/dev/sda, /dev/sda2, /dev/VG/LV) to stdout',
  builder: (y: Argv) =>
    withImageOptions(y.parserConfiguration({ 'greedy-arrays': false, 'boolean-negation': false }))
      .positional('device', { type: 'string', describe: 'Device to dump (default: the disk, when there is one -a)' })
      .example('guestkit dump -a disk.qcow2 > disk.raw', 'the whole disk, as qemu-img convert -O raw would')
      .example('guestkit dump -a disk.qcow2 /dev/sda2 | sha256sum', 'one partition') as unknown as Argv<DumpArgs>,
  handler: async (argv) => {
    const { run } = await import('./run.js');
    await run(argv);
  },
};

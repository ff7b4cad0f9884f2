// guestkit mount / guestkit unmount: a guest's filesystems mounted read-only on the host
// with FUSE (guestmount / guestunmount), served by the native readers.
import type { Argv, CommandModule } from 'yargs';
import { withImageOptions, withMountOptions, type CommonArgs } from '@guestkit/clikit';

export interface MountArgs extends CommonArgs {
  mountpoint: string;
  ro?: boolean;
  rw?: boolean;
  'no-fork'?: boolean;
  foreground?: boolean;
  'pid-file'?: string;
  option?: string[];
  'uid-map'?: string[];
  'gid-map'?: string[];
  workers?: number;
  'dir-cache-timeout'?: number;
  'no-sync'?: boolean;
  /** Internal: the daemon child writes "ready" to this fd once the mount answers. */
  'ready-fd'?: number;
}

export interface UnmountArgs {
  mountpoint: string;
  'no-retry'?: boolean;
  retry?: number;
  quiet?: boolean;
  verbose?: boolean;
}

export const command: CommandModule<object, MountArgs> = {
  command: 'mount <mountpoint>',
  describe: 'Mount a guest filesystem on the host with FUSE, read-only (guestmount)',
  builder: (y: Argv) =>
    withMountOptions(withImageOptions(y.parserConfiguration({ 'greedy-arrays': false, 'boolean-negation': false })))
      .positional('mountpoint', { type: 'string', describe: 'Host directory to mount on' })
      .option('ro', { alias: 'r', type: 'boolean', describe: 'Read-only (the default)' })
      .option('rw', { alias: 'w', type: 'boolean', describe: "Read-write: hands over to libguestfs's guestmount" })
      .option('no-fork', { type: 'boolean', describe: 'Stay in the foreground (by default guestkit detaches once the mount is ready)' })
      .option('foreground', { alias: 'f', type: 'boolean', describe: 'Stay in the foreground (same as --no-fork)' })
      .option('pid-file', { type: 'string', describe: 'Write the PID of the FUSE server to FILE', requiresArg: true })
      .option('option', { alias: 'o', type: 'string', array: true, describe: 'FUSE mount option (allow_other, allow_root, default_permissions, ...)', requiresArg: true })
      .option('uid-map', { type: 'string', array: true, describe: 'Map guest UIDs to host: GUEST:HOST[:COUNT]', requiresArg: true })
      .option('gid-map', { type: 'string', array: true, describe: 'Map guest GIDs to host: GUEST:HOST[:COUNT]', requiresArg: true })
      .option('dir-cache-timeout', { type: 'number', describe: 'Seconds the kernel caches names and attributes (default 60; guestmount: 60)', requiresArg: true })
      .option('no-sync', { alias: 'n', type: 'boolean', describe: 'With --rw: guestmount does not sync on unmount (read-only mounts have nothing to sync)' })
      .option('workers', { type: 'number', describe: 'Worker threads serving guest I/O (default 4)', requiresArg: true })
      .option('ready-fd', { type: 'number', hidden: true })
      .epilog('Limits of fuse-native (libfuse 2.9) over the mount: times have millisecond precision and '
        + 'show as 1970 when earlier; inode numbers are 32 bits (others than the root filesystem\'s renumbered). '
        + 'See tools/mount/README.md.') as unknown as Argv<MountArgs>,
  handler: async (argv) => {
    const { run } = await import('./run.js');
    await run(argv);
  },
};

export const unmountCommand: CommandModule<object, UnmountArgs> = {
  command: 'unmount <mountpoint>',
  aliases: ['umount'],
  describe: 'Unmount a guestkit mount (guestunmount): waits for the server to exit, retries when busy',
  builder: (y: Argv) =>
    y
      .positional('mountpoint', { type: 'string', describe: 'Mountpoint' })
      .option('no-retry', { type: 'boolean', describe: 'Do not retry when the mountpoint is busy' })
      .option('retry', { type: 'number', describe: 'Retries when busy (default 5), backing off from 1 s', requiresArg: true })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'No error messages' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'Verbose messages' }) as unknown as Argv<UnmountArgs>,
  handler: async (argv) => {
    const { unmount } = await import('./unmount.js');
    await unmount(argv);
  },
};

// guestkit copy-out PATH... LOCALDIR (virt-copy-out = guestfish --ro -i copy-out): each guest
// path copied into LOCALDIR by copy.ts. A path that cannot be copied is reported and the
// next one is tried; entries inside a tree that cannot be copied are warned about. Exit
// status 1 when anything was not copied.

import { hideBin } from 'yargs/helpers';
import { GuestkitError } from '@guestkit/core';
import { openGuestFromArgs, runTool, reportError, isVerbose, writeOut } from '@guestkit/clikit';
import type { CopyOutArgs } from './command.js';
import { Copier } from './copy.js';

export async function run(argv: CopyOutArgs, rawArgs: readonly string[] = hideBin(process.argv)): Promise<void> {
  await runTool(argv, async () => {
    if (argv.paths.length < 2) {
      throw new GuestkitError('USAGE', "use 'copy-out PATH [PATH...] LOCALDIR' to copy files out of the guest");
    }
    const localdir = argv.paths[argv.paths.length - 1];
    const remotes = argv.paths.slice(0, -1);
    const g = openGuestFromArgs(argv, rawArgs, { implyInspector: true });
    const copier = new Copier(g.view);
    let failed = 0;
    try {
      for (const r of remotes) {
        try {
          copier.copyOut(r, localdir);
        } catch (e) {
          if (!(e instanceof GuestkitError)) throw e;
          failed++;
          reportError(e, isVerbose(argv));
        }
      }
    } finally {
      g.close();
    }
    if (argv.json) await writeOut(JSON.stringify({ ...copier.stats, failed }) + '\n');
    if (failed || copier.stats.errors) process.exitCode = 1;
  });
}

// guestkit cat: each file streamed to stdout in 1 MiB reads (never whole in memory), as
// virt-cat downloads it; a file that cannot be read is reported on one line and the next one
// is tried; exit status 1 if any failed. --json: one JSON object per line and file,
// {"path", "size", "base64"} streamed, or {"path", "error": {"code", "message"}}.

import { hideBin } from 'yargs/helpers';
import { GuestkitError, windowsPath } from '@guestkit/core';
import { openGuestFromArgs, runTool, writeOut, reportError, isVerbose } from '@guestkit/clikit';
import type { CatArgs } from './command.js';

/** base64 is streamed in pieces of a multiple of 3 bytes so the pieces join into one string. */
const B64_PIECE = 3 * 256 * 1024;

export async function run(argv: CatArgs, rawArgs: readonly string[] = hideBin(process.argv)): Promise<void> {
  await runTool(argv, async () => {
    const g = openGuestFromArgs(argv, rawArgs, { implyInspector: true });
    let failed = 0;
    try {
      // virt-cat: a Windows guest's paths may have a drive letter, backslashes and any case.
      const windows = g.root?.osType === 'windows';
      for (const arg of argv.files) {
        let path = arg;
        try {
          if (windows) path = windowsPath(g.view, arg);
          if (argv.json) await catJson(g.view, path);
          else await catRaw(g.view, path);
        } catch (e) {
          if (!(e instanceof GuestkitError)) throw e;
          failed++;
          if (argv.json) await writeOut(JSON.stringify({ path, error: { code: e.code, message: e.message } }) + '\n');
          else reportError(e, isVerbose(argv));
        }
      }
    } finally {
      g.close();
    }
    if (failed) process.exitCode = 1;
  });
}

type View = ReturnType<typeof openGuestFromArgs>['view'];

async function catRaw(view: View, path: string): Promise<void> {
  for (const chunk of view.readChunks(path)) await writeOut(chunk);
}

async function catJson(view: View, path: string): Promise<void> {
  const f = view.openFile(path);
  await writeOut(`{"path":${JSON.stringify(path)},"size":${f.stat.size},"base64":"`);
  let carry = Buffer.alloc(0);
  for (const chunk of view.readChunks(path)) {
    let b = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const whole = b.length - (b.length % 3);
    if (whole > 0) {
      for (let o = 0; o < whole; o += B64_PIECE) await writeOut(b.subarray(o, Math.min(whole, o + B64_PIECE)).toString('base64'));
    }
    carry = Buffer.from(b.subarray(whole));
    b = Buffer.alloc(0);
  }
  await writeOut(`${carry.toString('base64')}"}\n`);
}

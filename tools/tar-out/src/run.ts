// guestkit tar-out: the tar stream of archive.ts, optionally compressed (gzip in-process with
// zlib; xz, bzip2 and zstd through the system compressors), to stdout or to TARFILE. A file
// is written under a temporary name in the same directory and renamed when complete; on any
// failure the temporary file is removed and TARFILE is left as it was.

import { spawn } from 'node:child_process';
import { openSync, closeSync, renameSync, unlinkSync, createWriteStream, fsyncSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import tarStream from 'tar-stream';
import { hideBin } from 'yargs/helpers';
import { GuestkitError, fromSystemError, removeStaleTemps, tempPathFor } from '@guestkit/core';
import { openGuestFromArgs, runTool } from '@guestkit/clikit';
import type { TarOutArgs } from './command.js';
import { writeGuestTar } from './archive.js';

export const COMPRESSORS = ['gzip', 'xz', 'bzip2', 'zstd'] as const;
export type Compressor = (typeof COMPRESSORS)[number];

export function compressorOf(argv: TarOutArgs): Compressor | undefined {
  const chosen: string[] = [];
  if (argv.gzip) chosen.push('gzip');
  if (argv.xz) chosen.push('xz');
  if (argv.bzip2) chosen.push('bzip2');
  if (argv.zstd) chosen.push('zstd');
  if (argv.compress !== undefined) chosen.push(argv.compress);
  const uniq = [...new Set(chosen)];
  if (uniq.length > 1) throw new GuestkitError('USAGE', `more than one compression given (${uniq.join(', ')})`);
  const c = uniq[0];
  if (c !== undefined && !(COMPRESSORS as readonly string[]).includes(c)) {
    throw new GuestkitError('USAGE', `unknown compression type: ${c} (expecting ${COMPRESSORS.join(', ')})`);
  }
  return c as Compressor | undefined;
}

/** Pipe `pack` through the compressor into file descriptor `fd` (or stdout). */
async function writeOutput(pack: tarStream.Pack, fd: number | 'stdout', comp: Compressor | undefined): Promise<void> {
  if (comp === undefined || comp === 'gzip') {
    const dest: Writable = fd === 'stdout' ? process.stdout : createWriteStream('', { fd, autoClose: false });
    if (comp === 'gzip') await pipeline(pack, createGzip(), dest);
    else await pipeline(pack, dest);
    return;
  }
  const child = spawn(comp, ['-c'], { stdio: ['pipe', fd === 'stdout' ? 'inherit' : fd, 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(new GuestkitError('EXTERNAL', e.code === 'ENOENT' ? `${comp} not found: install it to write ${comp} archives` : `${comp}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new GuestkitError('EXTERNAL', `${comp} failed (${signal ?? `exit status ${code}`}): ${stderr.trim()}`));
    });
  });
  await Promise.all([pipeline(pack, child.stdin!), exited]);
}

export async function run(argv: TarOutArgs, rawArgs: readonly string[] = hideBin(process.argv)): Promise<void> {
  await runTool(argv, async () => {
    const comp = compressorOf(argv);
    // yargs does not hand a lone "-" through as a positional: read it from the arguments.
    const tarfile = rawArgs.includes('-') ? '-' : String(argv.tarfile);
    if (tarfile === '' || typeof argv.tarfile === 'boolean' && tarfile !== '-') {
      throw new GuestkitError('USAGE', 'tar-out needs a guest directory and a tar file (or - for stdout)');
    }
    const g = openGuestFromArgs(argv, rawArgs, { implyInspector: true });
    try {
      // Fail before creating anything when the directory is not there.
      g.view.resolve(argv.dir, { follow: true });
      const opts = { numericOwner: !!argv['numeric-owner'], xattrs: !!argv.xattrs, excludes: argv.exclude ?? [] };
      if (tarfile === '-') {
        const pack = tarStream.pack();
        await Promise.all([writeGuestTar(g.view, argv.dir, pack, opts).catch((e) => { pack.destroy(e); throw e; }), writeOutput(pack, 'stdout', comp)]);
        return;
      }
      // Written as .TARFILE.guestkit-HOST-PID.tmp and renamed; what killed runs left is removed first.
      removeStaleTemps(tarfile);
      const tmp = tempPathFor(tarfile);
      let fd: number;
      try {
        fd = openSync(tmp, 'wx', 0o644);
      } catch (e) {
        throw fromSystemError(e, tmp);
      }
      let ok = false;
      try {
        const pack = tarStream.pack();
        await Promise.all([writeGuestTar(g.view, argv.dir, pack, opts).catch((e) => { pack.destroy(e); throw e; }), writeOutput(pack, fd, comp)]);
        fsyncSync(fd);
        closeSync(fd);
        fd = -1;
        try {
          renameSync(tmp, tarfile);
        } catch (e) {
          throw fromSystemError(e, tarfile);
        }
        ok = true;
      } finally {
        if (fd >= 0) closeSync(fd);
        if (!ok) {
          try { unlinkSync(tmp); } catch { /* already gone */ }
        }
      }
    } finally {
      g.close();
    }
  });
}

// guestkit inspector: inspect the disks natively (@guestkit/inspect), print virt-inspector's
// XML or --json. --xpath runs the query with libxml2's xmllint (virt-inspector evaluates it
// with libxml2 too), over our XML or, with no disks, over XML on standard input.

import { hideBin } from 'yargs/helpers';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DiskSet, GuestkitError } from '@guestkit/core';
import { runTool, writeOut, driveArgs, resolveDrives, openOptionsFrom, quietEpipe } from '@guestkit/clikit';
import { inspectGuest, inspectorXml, inspectorJson } from '@guestkit/inspect';
import type { InspectorArgs } from './command.js';

function xpath(xml: string, expr: string): string {
  try {
    return execFileSync('xmllint', ['--xpath', expr, '-'], { input: xml, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number; stderr?: string; stdout?: string };
    if (err.code === 'ENOENT') throw new GuestkitError('UNSUPPORTED', '--xpath needs xmllint (apt-get install libxml2-utils)');
    // xmllint exits 10 for an empty node set: virt-inspector prints nothing then.
    if (err.status === 10) return '';
    throw new GuestkitError('USAGE', `--xpath ${expr}: ${(err.stderr ?? '').trim().split('\n')[0] || 'invalid expression'}`);
  }
}

export async function run(argv: InspectorArgs, rawArgs: readonly string[] = hideBin(process.argv)): Promise<void> {
  quietEpipe();
  await runTool(argv, async () => {
    const drives = driveArgs(rawArgs);
    if (argv.xpath !== undefined && drives.length === 0) {
      // virt-inspector --xpath with no disks: query XML from stdin.
      const input = readFileSync(0, 'utf8');
      await writeOut(ensureNl(xpath(input, argv.xpath)));
      return;
    }
    if (drives.length === 0) throw new GuestkitError('USAGE', 'you must specify at least one -a or -d option');
    if (argv.mount?.length) throw new GuestkitError('USAGE', 'inspector does not take -m: it inspects the whole disks');
    const { specs } = resolveDrives(drives, argv.connect);
    const disks = DiskSet.open(specs, openOptionsFrom(argv));
    try {
      const verbose = argv.verbose ? (m: string) => process.stderr.write(`guestkit: ${m}\n`) : undefined;
      const oses = await inspectGuest(disks, { applications: !argv['no-applications'], icon: !argv['no-icon'], verbose });
      if (oses.length === 0) {
        throw new GuestkitError('NOT_FOUND', 'no operating system could be detected inside this disk image');
      }
      if (argv.json) {
        await writeOut(JSON.stringify(inspectorJson(oses), null, 2) + '\n');
        return;
      }
      const xml = inspectorXml(oses);
      await writeOut(argv.xpath !== undefined ? ensureNl(xpath(xml, argv.xpath)) : xml);
    } finally {
      disks.close();
    }
  });
}

function ensureNl(s: string): string {
  return s === '' || s.endsWith('\n') ? s : `${s}\n`;
}

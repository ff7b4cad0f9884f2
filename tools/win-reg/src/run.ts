// guestkit win-reg, as virt-win-reg:
//   win-reg -a DISK|-d DOM KEY          the key and its subkeys in .reg form, prefixed as virt-win-reg
//                                       prints them (HKEY_LOCAL_MACHINE\SOFTWARE\...), no header line
//   win-reg -a DISK|-d DOM KEY VALUE    the value alone, as virt-win-reg prints it (hivexget)
//   win-reg --merge -a DISK FILE.reg... not yet: it needs the libguestfs write path
// and on a standalone hive file (a guestkit addition), as hivexregedit/hivexget:
//   win-reg --hive FILE KEY             "Windows Registry Editor Version 5.00" and a blank line,
//                                       then the export; KEY is relative to the hive root; --prefix
//   win-reg --hive FILE KEY VALUE       the value alone (no header)
//   win-reg --hive FILE --merge [FILE.reg...]  merged into a new file beside FILE, renamed over it
// Hives are opened as virt-win-reg opens them (hivex's unsafe mode: damaged bins are skipped with a
// warning); dirty hives are recovered from their .LOG1/.LOG2 unless --ignore-logs.

import { readFileSync } from 'node:fs';
import { hideBin } from 'yargs/helpers';
import { GuestkitError, fromSystemError, warn } from '@guestkit/core';
import { driveArgs, openGuestFromArgs, runTool, writeOut } from '@guestkit/clikit';
import {
  GuestRegistry,
  HiveWriter,
  REGEDIT_HEADER,
  decodeRegFile,
  exportReg,
  formatValueAlone,
  lookupForExport,
  lookupForValue,
  lookupValue,
  openHiveFile,
  parseRegText,
  replaceFileAtomic,
  shownPath,
  stringEncoder,
  windowsGuestFiles,
  type Hive,
  type HiveLocation,
} from '@guestkit/registry';
import type { WinRegArgs } from './command.js';
import { exportJson, valueJson } from './json.js';

export async function run(argv: WinRegArgs, rawArgs: readonly string[] = hideBin(process.argv)): Promise<void> {
  await runTool(argv, async () => {
    const args = (argv.args ?? []).map(String);
    const guest = driveArgs(rawArgs).length > 0;
    if (argv.hive !== undefined && guest) throw new GuestkitError('USAGE', '--hive cannot be used with -a or -d');
    if (argv.hive === undefined && !guest) throw new GuestkitError('USAGE', 'no libvirt domain (-d), disk image (-a) or hive file (--hive) given');
    if (argv.encoding !== undefined) stringEncoder(argv.encoding); // refuse an unknown one early
    if (argv['max-depth'] !== undefined && !Number.isInteger(argv['max-depth'])) throw new GuestkitError('USAGE', '--max-depth must be an integer');
    if (argv.merge) {
      if (argv.hive === undefined) {
        throw new GuestkitError(
          'UNSUPPORTED',
          'win-reg --merge into a guest needs the libguestfs write path, which is not implemented yet; merge into a hive file with --hive FILE',
        );
      }
      await mergeIntoHive(argv, argv.hive, args);
      return;
    }
    if (args.length < 1 || args.length > 2) {
      throw new GuestkitError('USAGE', 'expecting 1 or 2 more parameters, subkey path and optionally the value to export');
    }
    const [keyArg, valueArg] = args;
    const replay = !argv['ignore-logs'];
    if (argv.hive !== undefined) {
      const hive = openHiveFile(argv.hive, { unsafe: true, replay });
      if (valueArg !== undefined && valueArg !== '') await printValue(argv, hive, keyArg, valueArg);
      else await printKey(argv, hive, keyArg, { prefix: argv.prefix, header: true });
      return;
    }
    const g = openGuestFromArgs(argv, rawArgs, { implyInspector: true });
    try {
      const systemRoot = g.root?.systemroot;
      if (!g.root || g.root.osType !== 'windows' || !systemRoot) {
        throw new GuestkitError('UNSUPPORTED', `${g.displayName}: not a Windows guest (no %SystemRoot% was found by inspection)`);
      }
      const reg = new GuestRegistry(windowsGuestFiles(g.view, systemRoot, g.disks), { unsafe: true, replay });
      const loc = reg.locate(keyArg);
      const hive = reg.hive(loc.file);
      if (valueArg !== undefined && valueArg !== '') await printValue(argv, hive, loc.path, valueArg, loc);
      else await printKey(argv, hive, loc.path, { prefix: loc.prefix, header: false, loc });
    } finally {
      g.close();
    }
  });
}

async function printKey(argv: WinRegArgs, hive: Hive, path: string, o: { prefix?: string; header: boolean; loc?: HiveLocation }): Promise<void> {
  const key = lookupForExport(hive, path);
  if (!key) throw new GuestkitError('NOT_FOUND', `${path}: path not found in this hive`);
  const hivePath = key.isRoot ? '\\' : key.path();
  const shown = o.loc ? shownPath(o.loc, hivePath) : hivePath;
  if (argv.json) {
    const prefix = o.prefix?.replace(/\\$/, '');
    const full = prefix === undefined ? shown : shown === '\\' ? prefix : prefix + shown;
    await exportJson(key, full, writeOut, { unsafe: argv.unsafe, maxDepth: argv['max-depth'], warn });
    return;
  }
  if (o.header) await writeOut(REGEDIT_HEADER);
  await exportReg(key, writeOut, {
    prefix: o.prefix,
    path: shown,
    unsafePrintableStrings: argv['unsafe-printable-strings'],
    unsafe: argv.unsafe,
    maxDepth: argv['max-depth'],
    warn,
  });
}

async function printValue(argv: WinRegArgs, hive: Hive, path: string, name: string, loc?: HiveLocation): Promise<void> {
  const key = lookupForValue(hive, path);
  const v = lookupValue(key, name);
  if (!v) {
    const where = loc ? `${loc.prefix}${shownPath(loc, key.isRoot ? '\\' : key.path()).replace(/^\\$/, '')}` : key.isRoot ? '\\' : key.path();
    throw new GuestkitError('NOT_FOUND', `${where}: no value named ${JSON.stringify(name)}`);
  }
  if (argv.json) await writeOut(JSON.stringify(valueJson(v)) + '\n');
  else await writeOut(formatValueAlone(v));
}

async function mergeIntoHive(argv: WinRegArgs, file: string, regFiles: string[]): Promise<void> {
  const hive = openHiveFile(file, { replay: !argv['ignore-logs'] });
  const w = new HiveWriter(hive);
  const inputs = regFiles.length > 0 ? regFiles : ['-'];
  for (const f of inputs) {
    let bytes: Uint8Array;
    try {
      bytes = f === '-' ? readFileSync(0) : readFileSync(f);
    } catch (e) {
      throw fromSystemError(e, f === '-' ? 'standard input' : f);
    }
    const ops = parseRegText(decodeRegFile(bytes), { file: f === '-' ? 'standard input' : f, encoding: argv.encoding });
    for (const op of ops) w.applyRegOp(op, stripPrefix(op.path, argv.prefix));
  }
  // Everything is built in memory first; the hive file is replaced only once it all worked.
  replaceFileAtomic(file, w.commit());
  if (argv.json) await writeOut(JSON.stringify({ hive: file, ...w.summary }) + '\n');
}

/** hivexregedit --merge --prefix: remove the prefix, matched case-insensitively, when a path starts with it. */
function stripPrefix(path: string, prefix?: string): string {
  if (prefix && path.length >= prefix.length && path.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase()) return path.slice(prefix.length);
  return path;
}

// guestkit df, as virt-df (guestfs-tools df/main.c, df/df.c):
//  - with -a/-d: all the drives are ONE guest, named after the first drive ("disk.img",
//    "disk.img+" for two drives...);
//  - with neither: every libvirt domain of -c URI (running and defined), sorted by name,
//    each its own guest (--uuid prints the domain UUID instead of its name).
// For each filesystem of list_filesystems (not swap, not unknown), the filesystem's statfs.
// A filesystem that cannot be read is left out as virt-df leaves out what it cannot mount;
// one guestkit cannot read yet (UNSUPPORTED) is named in a warning.

import { hideBin } from 'yargs/helpers';
import { DiskSet, GuestkitError, warn, compareBytes, type StatFs } from '@guestkit/core';
import {
  runTool, writeOut, driveArgs, resolveDrives, displayNameOf, openOptionsFrom, listDomains, libvirtUri,
  domainDisks, isVerbose,
} from '@guestkit/clikit';
import type { DfArgs } from './command.js';
import { dfTitle, dfLine, type DfOptions } from './format.js';

export interface DfRow {
  name: string;
  uuid?: string;
  device: string;
  type: string;
  statfs: StatFs;
}

/** The rows of one guest (one DiskSet). */
export function dfGuest(disks: DiskSet, name: string, uuid: string | undefined, verbose: boolean): DfRow[] {
  const rows: DfRow[] = [];
  // btrfs subvolumes are rows of their own (btrfsvol:/dev/sda/NAME), as list_filesystems lists them.
  for (const { device, type, subvolume, mountable } of disks.filesystems({ btrfsSubvolumes: true })) {
    if (type === '' || type === 'swap' || type === 'unknown') continue;
    try {
      const fs = disks.openFilesystem(device.name, subvolume === undefined ? {} : { options: `subvol=${subvolume}` });
      rows.push({ name, uuid, device: mountable, type, statfs: fs.statfs() });
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      if (e.code === 'UNSUPPORTED') warn(`${mountable}: ${e.message}; not listed`);
      else if (verbose) warn(`${mountable}: ${e.message}; not listed`);
    }
  }
  return rows;
}

export async function run(argv: DfArgs, rawArgs: readonly string[] = hideBin(process.argv)): Promise<void> {
  await runTool(argv, async () => {
    const o: DfOptions = { csv: !!argv.csv, human: !!argv['human-readable'], inodes: !!argv.inodes };
    if (o.human && o.csv) throw new GuestkitError('USAGE', 'you cannot use -h and --csv options together');
    const verbose = isVerbose(argv);
    const drives = driveArgs(rawArgs);
    const emit = async (rows: DfRow[]) => {
      if (argv.json) {
        for (const r of rows) await writeOut(JSON.stringify(jsonRow(r)) + '\n');
      } else {
        let s = '';
        for (const r of rows) s += dfLine(argv.uuid && r.uuid ? r.uuid : r.name, r.device, r.statfs, o);
        await writeOut(s);
      }
    };
    if (drives.length > 0) {
      // One guest made of every drive.
      const { specs } = resolveDrives(drives, argv.connect);
      const disks = DiskSet.open(specs, openOptionsFrom(argv));
      try {
        if (!argv.json) await writeOut(dfTitle(o));
        await emit(dfGuest(disks, displayNameOf(drives), undefined, verbose));
      } finally {
        disks.close();
      }
      return;
    }
    // Every libvirt domain, sorted by name; one whose disks cannot be added is skipped.
    const uri = libvirtUri(argv.connect);
    const names = listDomains(uri).sort(compareBytes);
    if (!argv.json) await writeOut(dfTitle(o));
    for (const name of names) {
      let disks: DiskSet | undefined;
      try {
        const dom = domainDisks(name, uri);
        disks = DiskSet.open(dom.disks.map((d) => (d.format ? { path: d.path, format: d.format } : { path: d.path })), openOptionsFrom(argv));
        await emit(dfGuest(disks, name, dom.uuid, verbose));
      } catch (e) {
        if (!(e instanceof GuestkitError)) throw e;
        warn(`domain ${name}: ${e.message}`);
      } finally {
        disks?.close();
      }
    }
  });
}

function jsonRow(r: DfRow): Record<string, unknown> {
  const s = r.statfs;
  return {
    vm: r.name, ...(r.uuid ? { uuid: r.uuid } : {}), filesystem: r.device, type: r.type,
    bsize: s.bsize, frsize: s.frsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
    files: s.files, ffree: s.ffree, favail: s.favail,
    size: s.blocks * s.bsize, used: (s.blocks - s.bfree) * s.bsize, available: s.bavail * s.bsize,
  };
}

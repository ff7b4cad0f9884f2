// openGuestFromArgs: the shared -a/--format/-d/-c/-m/-i handling of the guest tools. Disks
// come from -a images and -d domains in command-line order (libguestfs's drv list); then -m
// specs are mounted in order, or, with -i (or when the tool implies it, as virt-cat and
// virt-ls do without -m), the guest is inspected and mounted as its /etc/fstab says.

import {
  DiskSet, GuestView, GuestkitError, applyMountSpecs, inspectAndMount, parseMountSpec,
  type DiskSpec, type RootInfo, type OpenOptions,
} from '@guestkit/core';
import type { CommonArgs } from './options.js';
import { domainDisks, libvirtUri, type LibvirtDomain } from './libvirt.js';

/** One drive argument in command-line order: -a IMAGE (with the --format then in force) or -d DOMAIN. */
export type DriveArg = { kind: 'a'; path: string; format?: string } | { kind: 'd'; domain: string };

/**
 * The -a and -d options in order. yargs loses the relative order of -a, -d and --format,
 * so they are read again from the raw argument list.
 */
export function driveArgs(rawArgs: readonly string[]): DriveArg[] {
  const out: DriveArg[] = [];
  let fmt: string | undefined;
  const val = (a: string, short: string, long: string, i: number): [string | undefined, number] => {
    if (a === short || a === long) return [rawArgs[i + 1], i + 1];
    if (a.startsWith(`${long}=`)) return [a.slice(long.length + 1), i];
    if (a.startsWith(short) && a.length > 2 && !a.startsWith('--')) return [a.slice(2), i];
    return [undefined, i];
  };
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i];
    if (a === '--') break;
    let [v, j] = val(a, '-a', '--add', i);
    if (v !== undefined) {
      out.push(fmt ? { kind: 'a', path: v, format: fmt } : { kind: 'a', path: v });
      i = j;
      continue;
    }
    [v, j] = val(a, '-d', '--domain', i);
    if (v !== undefined) {
      out.push({ kind: 'd', domain: v });
      i = j;
      continue;
    }
    if (a === '--format') {
      const f = rawArgs[i + 1];
      if (f !== undefined && !f.startsWith('-')) {
        fmt = f === 'auto' ? undefined : f;
        i++;
      } else fmt = undefined;
    } else if (a.startsWith('--format=')) {
      const f = a.slice(9);
      fmt = f === '' || f === 'auto' ? undefined : f;
    } else if (a === '-c' || a === '--connect' || a === '-m' || a === '--mount') {
      i++; // their values are not drives
    }
  }
  return out;
}

export interface GuestOpenOptions {
  /** -i when no -m is given (virt-cat, virt-ls, virt-copy-out, virt-tar-out). */
  implyInspector?: boolean;
  /** Do not mount anything (virt-df works per filesystem). */
  noMount?: boolean;
}

export interface OpenedGuest {
  disks: DiskSet;
  view: GuestView;
  /** What -i found (undefined with -m). */
  root?: RootInfo;
  /** The drive arguments, -d domains expanded. */
  drives: DriveArg[];
  domains: LibvirtDomain[];
  /** virt-df's display name: first image's basename or domain name, '+' per extra drive. */
  displayName: string;
  close(): void;
}

/** Options for openImage from the shared option set. */
export function openOptionsFrom(argv: CommonArgs): OpenOptions {
  const o: OpenOptions = {};
  if (argv.snapshot !== undefined) o.snapshot = argv.snapshot;
  if (argv['no-backing']) o.backing = false;
  if (argv['backing-dir']?.length) o.backingDirs = argv['backing-dir'];
  if (argv.force) o.force = true;
  return o;
}

/** virt-df's make_display_name: the first drive's name (image basename or domain), '+' per other drive. */
export function displayNameOf(drives: readonly DriveArg[]): string {
  const first = drives[0];
  if (!first) return '';
  const base = first.kind === 'a' ? first.path.slice(first.path.lastIndexOf('/') + 1) : first.domain;
  return base + '+'.repeat(drives.length - 1);
}

/** Disk specs for the drives, expanding -d through libvirt. */
export function resolveDrives(drives: readonly DriveArg[], connect?: string): { specs: DiskSpec[]; domains: LibvirtDomain[] } {
  const specs: DiskSpec[] = [];
  const domains: LibvirtDomain[] = [];
  for (const d of drives) {
    if (d.kind === 'a') {
      specs.push(d.format ? { path: d.path, format: d.format } : { path: d.path });
    } else {
      const dom = domainDisks(d.domain, libvirtUri(connect));
      domains.push(dom);
      for (const disk of dom.disks) specs.push(disk.format ? { path: disk.path, format: disk.format } : { path: disk.path });
    }
  }
  return { specs, domains };
}

/** Open the disks of the command line and mount the guest as -m / -i say. */
export function openGuestFromArgs(argv: CommonArgs, rawArgs: readonly string[], opts: GuestOpenOptions = {}): OpenedGuest {
  const drives = driveArgs(rawArgs);
  if (drives.length === 0) {
    throw new GuestkitError('USAGE', 'you must specify at least one -a or -d option');
  }
  const { specs, domains } = resolveDrives(drives, argv.connect);
  const disks = DiskSet.open(specs, openOptionsFrom(argv));
  const view = new GuestView();
  let root: RootInfo | undefined;
  try {
    if (!opts.noMount) {
      const mounts = (argv.mount ?? []).map(parseMountSpec);
      if (mounts.length > 0) {
        applyMountSpecs(view, disks, mounts);
      } else if (argv.inspector || opts.implyInspector) {
        const verbose = argv.verbose ? (m: string) => process.stderr.write(`guestkit: ${m}\n`) : undefined;
        root = inspectAndMount(view, disks, {
          verbose,
          onSkip: verbose ? (dev, e) => verbose(`inspect: skipping ${dev}: ${(e as Error).message}`) : undefined,
        });
        verbose?.(`inspect: root ${root.device} (${root.matched}); mounted ${view.mounts.map((m) => `${m.device} on ${m.mountpoint}`).join(', ')}`);
      } else {
        throw new GuestkitError('USAGE', 'no filesystem mounted: give -i to inspect the guest, or -m DEV[:MOUNTPOINT]');
      }
    }
  } catch (e) {
    disks.close();
    throw e;
  }
  return {
    disks, view, root, drives, domains,
    displayName: displayNameOf(drives),
    close: () => disks.close(),
  };
}

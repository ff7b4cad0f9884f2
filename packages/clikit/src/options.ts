// The option set shared by every tool, as virt-* tools spell it:
//   -a IMAGE (repeatable), --format FMT (applies to the -a options after it, as in
//   libguestfs; --format alone resets to auto), -m DEV[:MOUNTPOINT[:OPTIONS[:FSTYPE]]],
//   -i, -d DOMAIN, -c URI, --csv, -h/--human-readable, -v, -x, --json.
// --help is the only help flag: -h means "human readable" in virt-df/virt-ls/virt-filesystems.

import type { Argv } from 'yargs';
import { GuestkitError } from '@guestkit/core';

export interface ImageSpec {
  path: string;
  format?: string;
}

export interface MountSpec {
  device: string;
  mountpoint: string;
  options?: string;
  fstype?: string;
}

export interface CommonArgs {
  add?: string[];
  format?: string;
  mount?: string[];
  inspector?: boolean;
  domain?: string;
  connect?: string;
  verbose?: boolean;
  trace?: boolean;
  json?: boolean;
  force?: boolean;
  'backing-dir'?: string[];
  'no-backing'?: boolean;
  snapshot?: string;
}

export function withImageOptions<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .option('add', { alias: 'a', type: 'string', array: true, describe: 'Add disk image (repeatable)', requiresArg: true })
    .option('format', { type: 'string', describe: 'Format of the following -a images (raw, qcow2); auto when absent' })
    .option('domain', { alias: 'd', type: 'string', describe: 'Use the disks of libvirt domain', requiresArg: true })
    .option('connect', { alias: 'c', type: 'string', describe: 'libvirt URI for -d', requiresArg: true })
    .option('snapshot', { type: 'string', describe: 'qcow2: read internal snapshot NAME or ID' })
    .option('backing-dir', { type: 'string', array: true, describe: 'Extra tree where qcow2 backing files may live' })
    .option('no-backing', { type: 'boolean', describe: 'qcow2: do not open backing files; unallocated reads as zeros' })
    .option('force', { type: 'boolean', describe: 'Open qcow2 images marked corrupt' })
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'Verbose messages (stack traces on errors)' })
    .option('trace', { alias: 'x', type: 'boolean', describe: 'Trace calls' })
    .option('json', { type: 'boolean', describe: 'Machine-readable JSON output' }) as unknown as Argv<T & CommonArgs>;
}

export function withMountOptions<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .option('mount', { alias: 'm', type: 'string', array: true, describe: 'Mount DEV[:MOUNTPOINT[:OPTIONS[:FSTYPE]]]', requiresArg: true })
    .option('inspector', { alias: 'i', type: 'boolean', describe: 'Inspect the guest and mount its filesystems' }) as unknown as Argv<T & CommonArgs>;
}

/**
 * The -a images in order with the --format in force for each. yargs loses the relative order
 * of -a and --format, so read it again from the raw argument list.
 */
export function imageSpecs(rawArgs: string[]): ImageSpec[] {
  const out: ImageSpec[] = [];
  let fmt: string | undefined;
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i];
    if (a === '--') break;
    let val: string | undefined;
    if (a === '-a' || a === '--add') val = rawArgs[++i];
    else if (a.startsWith('--add=')) val = a.slice(6);
    else if (a.startsWith('-a') && a.length > 2 && !a.startsWith('--')) val = a.slice(2);
    if (val !== undefined) {
      out.push(fmt ? { path: val, format: fmt } : { path: val });
      continue;
    }
    if (a === '--format') {
      const v = rawArgs[i + 1];
      if (v !== undefined && !v.startsWith('-')) {
        fmt = v === 'auto' ? undefined : v;
        i++;
      } else fmt = undefined;
    } else if (a.startsWith('--format=')) {
      const v = a.slice(9);
      fmt = v === '' || v === 'auto' ? undefined : v;
    }
  }
  return out;
}

/** Parse -m as libguestfs does: DEV[:MOUNTPOINT[:OPTIONS[:FSTYPE]]], mountpoint default "/". */
export function parseMountSpec(s: string): MountSpec {
  // The device may itself not contain ':', so split on the first three colons.
  const parts = s.split(':');
  const device = parts[0];
  if (!device) throw new GuestkitError('USAGE', `-m '${s}': no device given`);
  const mountpoint = parts[1] === undefined || parts[1] === '' ? '/' : parts[1];
  if (!mountpoint.startsWith('/')) throw new GuestkitError('USAGE', `-m '${s}': mountpoint must be an absolute path`);
  const spec: MountSpec = { device, mountpoint };
  if (parts[2] !== undefined && parts[2] !== '') spec.options = parts[2];
  if (parts.length > 3) spec.fstype = parts.slice(3).join(':');
  return spec;
}

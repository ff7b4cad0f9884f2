// -m DEV[:MOUNTPOINT[:OPTIONS[:FSTYPE]]] as libguestfs's tools take it (options/options.c
// mount_mps): each spec in order, DEV any name of a device, the mountpoint "/" when omitted
// and an existing directory otherwise; FSTYPE forces the filesystem type. A spec that cannot
// be mounted stops the tool, naming the filesystems there are.

import { GuestkitError } from '../errors.js';
import type { GuestView, Mount } from './view.js';
import { deviceNumber, type GuestDisks } from './disks-api.js';

export interface MountSpec {
  device: string;
  mountpoint: string;
  options?: string;
  fstype?: string;
}

/** Parse DEV[:MOUNTPOINT[:OPTIONS[:FSTYPE]]]; the mountpoint defaults to "/". */
export function parseMountSpec(s: string): MountSpec {
  // libguestfs splits on the first three ':' (a device name has none; FSTYPE has none).
  const parts = s.split(':');
  const device = parts[0];
  if (!device) throw new GuestkitError('USAGE', `-m '${s}': no device given`);
  const mountpoint = parts[1] === undefined || parts[1] === '' ? '/' : parts[1];
  if (!mountpoint.startsWith('/')) throw new GuestkitError('USAGE', `-m '${s}': mountpoint must be an absolute path`);
  const spec: MountSpec = { device, mountpoint };
  if (parts[2] !== undefined && parts[2] !== '') spec.options = parts[2];
  if (parts.length > 3 && parts.slice(3).join(':') !== '') spec.fstype = parts.slice(3).join(':');
  return spec;
}

/** Filesystems there are, for the "could not be mounted" message. */
export function describeFilesystems(disks: GuestDisks): string {
  const fses = disks.devices().filter((d) => d.fsType && d.fsType !== 'LVM2_member');
  return fses.map((d) => `${d.name} (${d.fsType})`).join(', ');
}

/** Mount one device at a mountpoint of the view. */
export function mountDevice(view: GuestView, disks: GuestDisks, device: string, mountpoint: string, opts: { options?: string; fstype?: string } = {}): Mount {
  const name = disks.resolveDeviceName(device);
  if (name === null) throw new GuestkitError('NOT_FOUND', `${device}: no such device`);
  const fs = disks.openFilesystem(name, { type: opts.fstype, options: opts.options });
  return view.mount(fs, mountpoint, { device: name, dev: deviceNumber(disks, name), options: opts.options });
}

/** Apply -m specs in order. Any failure is fatal, as in libguestfs's tools. */
export function applyMountSpecs(view: GuestView, disks: GuestDisks, specs: readonly MountSpec[]): Mount[] {
  const out: Mount[] = [];
  for (const s of specs) {
    try {
      out.push(mountDevice(view, disks, s.device, s.mountpoint, s));
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      const fses = describeFilesystems(disks);
      throw new GuestkitError(e.code === 'USAGE' ? 'USAGE' : 'NOT_FOUND',
        `'${s.device}' could not be mounted on ${s.mountpoint}: ${e.message}` +
        (fses ? ` (filesystems: ${fses})` : ' (no filesystems found)'), { cause: e });
    }
  }
  return out;
}

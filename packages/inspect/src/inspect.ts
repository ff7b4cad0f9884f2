// inspect_os over a set of disks: every filesystem is mounted alone and checked for a role
// (libguestfs daemon/inspect_fs.ml check_filesystem; the root tests themselves are core's
// checkFilesystem, shared with -i), roots get their facts (linux.ts, windows.ts), CoreOS and
// separate Linux /usr filesystems are merged into their root (daemon/inspect.ml), then each
// root's guest is mounted as its fstab says to list applications.

import {
  GuestView, GuestkitError, checkFilesystem, parseFstab, resolveFstabEntry, mountDevice, warn as coreWarn,
  type GuestDisks, type GuestDevice, type Filesystem, type OsType,
} from '@guestkit/core';
import { TreeAccess } from './access.js';
import {
  checkLinuxRoot, checkCoreosRoot, checkUsr, checkArchitecture, checkHostnameLinux, checkTests,
  parseOsRelease, packageFormat, packageManagement, type InspectionData,
} from './linux.js';
import { osinfoOf } from './osinfo.js';
import { listApplications } from './apps/index.js';
import { checkWindowsRoot } from './windows.js';
import { findIcon } from './icon.js';
import type { OperatingSystem, FilesystemInfo } from './types.js';

export interface InspectOptions {
  /** List applications (virt-inspector's default; --no-applications turns it off). */
  applications?: boolean;
  /** Look for the distro icon (--no-icon turns it off). */
  icon?: boolean;
  /** Warnings (default: core's warn, printed as "guestkit: warning: ..."). */
  warn?: (message: string) => void;
  /** Debug messages (-v). */
  verbose?: (message: string) => void;
}

const NOT_INSPECTED = new Set(['', 'swap', 'unknown', 'LVM2_member', 'crypto_LUKS', 'linux_raid_member']);

interface FsRecord {
  device: string;
  role: 'root' | 'usr' | 'other';
  data: InspectionData;
  /** [device, mountpoint] from fstab (check_fstab) or the implied ones. */
  fstab: { device: string; mountpoint: string; options?: string }[];
}

function scratchView(fs: Filesystem): TreeAccess {
  const v = new GuestView();
  v.mount(fs, '/');
  return new TreeAccess(v);
}

/** check_fstab: every resolvable entry (swap included), as [device, mountpoint]. */
function checkFstab(t: TreeAccess, disks: GuestDisks, devices: readonly GuestDevice[], rootDevice: string, osType: OsType, warn: (m: string) => void): FsRecord['fstab'] {
  const text = t.readText('/etc/fstab');
  if (text === null) return [];
  const parsed = parseFstab(text);
  for (const [line, why] of parsed.skipped) warn(`${rootDevice}: /etc/fstab line ${line} ignored: ${why}`);
  const out: FsRecord['fstab'] = [];
  for (const e of parsed.entries) {
    const r = resolveFstabEntry(e, { disks, devices, rootDevice, osType } as Parameters<typeof resolveFstabEntry>[1]);
    if (r) out.push({ device: r.device, mountpoint: r.mountpoint, options: r.options });
  }
  // remove_duplicate_root_mountpoints: only the first "/" entry counts.
  const firstRoot = out.findIndex((m) => m.mountpoint === '/');
  return out.filter((m, i) => m.mountpoint !== '/' || i === firstRoot);
}

function checkOne(fs: Filesystem, device: string, disks: GuestDisks, devices: readonly GuestDevice[], warn: (m: string) => void): FsRecord | null {
  const t = scratchView(fs);
  const role = checkFilesystem(fs);
  const data: InspectionData = {};
  if (role.root && role.osType) {
    const rec: FsRecord = { device, role: 'root', data, fstab: [] };
    switch (role.matched) {
      case 'CoreOS root':
        checkCoreosRoot(t, data);
        rec.fstab = [{ device, mountpoint: '/' }];
        break;
      case 'Windows root':
        checkWindowsRoot(t, data, role.systemroot!, disks, devices, warn);
        rec.fstab = [{ device, mountpoint: '/' }];
        break;
      case 'Linux root':
        checkLinuxRoot(t, data);
        rec.fstab = checkFstab(t, disks, devices, device, 'linux', warn);
        break;
      case 'Hurd root':
        data.osType = 'hurd';
        checkTests(t, data, [['/etc/os-release', parseOsRelease], ['/etc/debian_version', (f, tt, d) => {
          const first = (tt.readText(f) ?? '').split('\n')[0];
          if (!first) return false;
          d.productName = first;
          d.distro = 'debian';
          return true;
        }]]);
        data.arch = checkArchitecture(t);
        data.hostname = checkHostnameLinux(t);
        rec.fstab = checkFstab(t, disks, devices, device, 'hurd', warn);
        break;
      default:
        // FreeBSD/NetBSD/OpenBSD/Minix/DOS: the type and architecture (release parsing of
        // those systems is not done yet).
        data.osType = role.osType;
        data.arch = role.osType === 'dos' ? 'i386' : checkArchitecture(t);
        rec.fstab = role.osType === 'dos' ? [{ device, mountpoint: '/' }] : checkFstab(t, disks, devices, device, role.osType, warn);
        break;
    }
    data.packageFormat = packageFormat(data.distro);
    data.packageManagement = packageManagement(data, t);
    return rec;
  }
  // Linux /usr and CoreOS /usr (inspect_fs.ml, after the root tests).
  if (t.isDir('/bin', false) && t.isDir('/local', false) && t.isDir('/share', false) && !t.isFile('/etc/fstab', false)) {
    if (t.isDir('/src', false)) {
      checkUsr(t, data, false);
      return { device, role: 'usr', data, fstab: [] };
    }
    if (t.isDir('/share/coreos', false)) {
      checkUsr(t, data, true);
      return { device, role: 'usr', data, fstab: [{ device, mountpoint: '/usr' }] };
    }
  }
  return null;
}

/** merge: fill the root's unknown facts from its /usr's. */
function merge(usr: FsRecord, root: FsRecord): void {
  for (const [k, v] of Object.entries(usr.data) as [keyof InspectionData, unknown][]) {
    if (v !== undefined && root.data[k] === undefined) (root.data as Record<string, unknown>)[k] = v;
  }
  if (usr.data.version && (!root.data.version)) root.data.version = usr.data.version;
  root.fstab = [...root.fstab, ...usr.fstab];
}

function fsInfo(device: string, devices: readonly GuestDevice[]): FilesystemInfo {
  const d = devices.find((x) => x.name === device);
  const info: FilesystemInfo = { device };
  if (d?.fsType) info.type = d.fsType;
  if (d?.label) info.label = d.label;
  if (d?.uuid) info.uuid = d.uuid;
  return info;
}

const cmpBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** EFI system partition type: GPT type GUID (UEFI spec 5.3.3) or MBR OSType 0xEF (5.2.2). */
export const ESP_GPT_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';

/**
 * Firmware guess as virt-v2v makes it (v2v/inspect_source: a disk with an ESP boots by UEFI):
 * any partition of the disks typed as an EFI system partition. virt-inspector's XML has no
 * such element; it is in the JSON only.
 */
function hasEsp(devices: readonly GuestDevice[]): boolean {
  return devices.some((d) => {
    const p = (d as GuestDevice & { partition?: { type?: string } }).partition;
    const t = p?.type?.toUpperCase();
    return d.kind === 'partition' && (t === ESP_GPT_TYPE || t === 'EF');
  });
}

/** Inspect the disks: one entry per operating system root, in device order. */
export async function inspectGuest(disks: GuestDisks, opts: InspectOptions = {}): Promise<OperatingSystem[]> {
  const warn = opts.warn ?? coreWarn;
  const devices = disks.devices();
  const fses: FsRecord[] = [];
  for (const { device: d, type } of disks.filesystems()) {
    if (NOT_INSPECTED.has(type)) continue;
    let fs: Filesystem;
    try {
      fs = disks.openFilesystem(d.name);
    } catch (e) {
      opts.verbose?.(`inspect: skipping ${d.name}: ${(e as Error).message}`);
      continue;
    }
    try {
      const rec = checkOne(fs, d.name, disks, devices, warn);
      if (rec) fses.push(rec);
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      warn(`${d.name}: inspection failed: ${e.message}`);
    }
  }
  // collect_coreos_inspection_info: the CoreOS /usr with the highest version goes into the root.
  const coreRoots = fses.filter((f) => f.role === 'root' && f.data.distro === 'coreos');
  const coreUsrs = fses.filter((f) => f.role === 'usr' && f.data.distro === 'coreos');
  if (coreRoots.length > 1) throw new GuestkitError('UNSUPPORTED', 'multiple CoreOS root filesystems found');
  if (coreRoots.length === 1 && coreUsrs.length > 0) {
    const v = (f: FsRecord) => f.data.version ?? [0, 0];
    const usr = [...coreUsrs].sort((a, b) => v(b)[0] - v(a)[0] || v(b)[1] - v(a)[1])[0];
    merge(usr, coreRoots[0]);
  }
  // collect_linux_inspection_info: a Linux /usr named in a root's fstab.
  for (const root of fses.filter((f) => f.role === 'root' && f.data.osType === 'linux' && f.data.distro !== 'coreos')) {
    const usr = fses.find((f) => f.role === 'usr' && f.data.distro !== 'coreos' && root.fstab.some((m) => m.device === f.device));
    if (usr) merge({ ...usr, fstab: [] }, root);
  }

  const firmware = hasEsp(devices) ? 'uefi' : 'bios';
  const out: OperatingSystem[] = [];
  for (const r of fses.filter((f) => f.role === 'root')) {
    const d = r.data;
    const os: OperatingSystem = {
      root: r.device,
      type: d.osType,
      arch: d.arch,
      distro: d.distro,
      productName: d.productName,
      productVariant: d.productVariant,
      majorVersion: d.version?.[0] ?? 0,
      minorVersion: d.version?.[1] ?? 0,
      packageFormat: d.packageFormat ?? packageFormat(d.distro),
      packageManagement: d.packageManagement,
      windowsSystemroot: d.windowsSystemroot,
      windowsCurrentControlSet: d.windowsCurrentControlSet,
      hostname: d.hostname,
      buildId: d.buildId,
      mountpoints: [],
      filesystems: [],
      driveMappings: d.driveMappings ?? [],
      firmware,
    };
    os.osinfo = osinfoOf(os);
    // inspect_get_mountpoints: fstab entries with an absolute mountpoint (or just the root),
    // virt-inspector sorts them by length then name.
    let mps = r.fstab.filter((m) => m.mountpoint.startsWith('/'));
    if (mps.length === 0) mps = [{ device: r.device, mountpoint: '/' }];
    os.mountpoints = mps.map((m) => ({ mountpoint: m.mountpoint, device: m.device }))
      .sort((a, b) => a.mountpoint.length - b.mountpoint.length || cmpBytes(a.mountpoint, b.mountpoint));
    // inspect_get_filesystems: every fstab device (or just the root), sorted by name.
    const fsDevs = r.fstab.length ? [...new Set(r.fstab.map((m) => m.device))] : [r.device];
    os.filesystems = fsDevs.sort(cmpBytes).map((dev) => fsInfo(dev, devices));
    if (opts.applications !== false || opts.icon) {
      const view = mountRoot(disks, mps, warn, opts.verbose);
      if (view) {
        const t = new TreeAccess(view);
        if (opts.applications !== false) os.applications = await listApplications(t, os, view, warn);
        if (opts.icon) {
          const icon = findIcon(t, os);
          if (icon) os.icon = Buffer.from(icon.buffer, icon.byteOffset, icon.byteLength).toString('base64');
        }
      } else if (opts.applications !== false) os.applications = [];
    }
    out.push(os);
  }
  return out;
}

/** inspect_mount_root: mount the root's filesystems, shortest mountpoint first; failures other than "/" are ignored. */
function mountRoot(disks: GuestDisks, mps: { device: string; mountpoint: string; options?: string }[], warn: (m: string) => void, verbose?: (m: string) => void): GuestView | null {
  const view = new GuestView();
  const sorted = [...mps].sort((a, b) => a.mountpoint.length - b.mountpoint.length || cmpBytes(a.mountpoint, b.mountpoint));
  for (const m of sorted) {
    try {
      mountDevice(view, disks, m.device, m.mountpoint, { options: m.options });
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      if (m.mountpoint === '/') {
        warn(`${m.device}: cannot mount the root filesystem to list applications: ${e.message}`);
        return null;
      }
      verbose?.(`mount ${m.device} on ${m.mountpoint}: ${e.message}`);
    }
  }
  return view;
}

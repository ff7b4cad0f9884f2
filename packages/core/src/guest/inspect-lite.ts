// `-i`: find the guest's root filesystem and mount the others where its /etc/fstab says, as
// libguestfs does (daemon/inspect_fs.ml check_filesystem for the roles, daemon/
// inspect_fs_unix_fstab.ml for the fstab, common/options/inspect.c for the mounting).
// "Lite": only what mounting needs (role and fstab), not the product name, version, apps...
// of full inspection.

import type { Filesystem } from '../fs/vfs.js';
import { GuestkitError } from '../errors.js';
import { warn } from '../warn.js';
import { GuestView } from './view.js';
import { parseFstab, shellUnquote, canonicalMountpoint, type FstabEntry } from './fstab.js';
import { mountDevice } from './mount-spec.js';
import type { GuestDevice, GuestDisks } from './disks-api.js';

export type OsType = 'linux' | 'freebsd' | 'netbsd' | 'openbsd' | 'hurd' | 'minix' | 'windows' | 'dos';

export interface RootInfo {
  /** Device of the root filesystem. */
  device: string;
  osType: OsType;
  /** Which rule matched ("Linux root", "Windows root"...), as libguestfs's debug names them. */
  matched: string;
  /** Mountpoint → device (or btrfs "device" with options), shortest mountpoint first. */
  mountpoints: InspectMountpoint[];
  /** Windows %SYSTEMROOT% as found (e.g. /Windows). */
  systemroot?: string;
}

export interface InspectMountpoint {
  mountpoint: string;
  device: string;
  /** Mount options to open with (btrfs subvol=...). */
  options?: string;
  /** The fstab line it came from. */
  line?: number;
}

/** Filesystem types inspection does not look into (libguestfs: swap role, or not mountable). */
const NOT_INSPECTED = new Set(['', 'swap', 'unknown', 'LVM2_member', 'crypto_LUKS', 'linux_raid_member']);

/** libguestfs's Windows %SYSTEMROOT% candidates. */
const SYSTEMROOTS = ['/windows', '/winnt', '/win32', '/win', '/reactos'];

/** A filesystem mounted alone at "/" of a scratch view, for the role tests (lstat-based, as libguestfs's Is.*). */
class Probe {
  readonly view = new GuestView();
  constructor(fs: Filesystem) {
    this.view.mount(fs, '/');
  }
  isDir(p: string): boolean {
    return this.view.typeOf(p, false) === 'dir';
  }
  isFile(p: string): boolean {
    return this.view.typeOf(p, false) === 'file';
  }
  isSymlinkTo(p: string, target: string): boolean {
    return this.view.typeOf(p, false) === 'symlink' && this.view.readlink(p) === target;
  }
  /** Case-insensitive path lookup (libguestfs case_sensitive_path), or null. */
  findNocase(p: string): string | null {
    let cur = '/';
    for (const comp of p.split('/').filter((c) => c !== '')) {
      if (this.view.typeOf(cur, true) !== 'dir') return null;
      const want = comp.toLowerCase();
      const hit = this.view.readdir(cur).find((e) => e.name.toLowerCase() === want);
      if (!hit) return null;
      cur = cur === '/' ? `/${hit.name}` : `${cur}/${hit.name}`;
    }
    return cur;
  }
  isDirNocase(p: string): boolean {
    const r = this.findNocase(p);
    return r !== null && this.isDir(r);
  }
  isFileNocase(p: string): boolean {
    const r = this.findNocase(p);
    return r !== null && this.isFile(r);
  }
  readSmall(p: string): string | null {
    try {
      const st = this.view.stat(p);
      if (st.size > 1024 * 1024) return null;
      return Buffer.from(this.view.readFile(p)).toString('utf8');
    } catch (e) {
      if (e instanceof GuestkitError) return null;
      throw e;
    }
  }
}

interface Role {
  osType?: OsType;
  matched: string;
  root: boolean;
  systemroot?: string;
}

/** libguestfs's check_filesystem: which role the filesystem plays. */
export function checkFilesystem(fs: Filesystem): Role {
  const p = new Probe(fs);
  if (p.isFile('/grub/menu.lst') || p.isFile('/grub/grub.conf') || p.isFile('/grub2/grub.cfg')) {
    return { matched: 'Grub /boot', root: false };
  }
  if (p.isDir('/etc') && p.isDir('/bin') && p.isFile('/etc/freebsd-update.conf') && p.isFile('/etc/fstab')) {
    return { osType: 'freebsd', matched: 'FreeBSD root', root: true };
  }
  if (p.isDir('/etc') && p.isDir('/bin') && p.isFile('/netbsd') && p.isFile('/etc/fstab') && p.isFile('/etc/release')) {
    return { osType: 'netbsd', matched: 'NetBSD root', root: true };
  }
  if (p.isDir('/etc') && p.isDir('/bin') && p.isFile('/bsd') && p.isFile('/etc/fstab') && p.isFile('/etc/motd')) {
    return { osType: 'openbsd', matched: 'OpenBSD root', root: true };
  }
  if (p.isFile('/hurd/console') && p.isFile('/hurd/hello') && p.isFile('/hurd/null')) {
    return { osType: 'hurd', matched: 'Hurd root', root: true };
  }
  if (p.isDir('/etc') && p.isDir('/bin') && p.isFile('/service/vm') && p.isFile('/etc/fstab') && p.isFile('/etc/version')) {
    return { osType: 'minix', matched: 'Minix root', root: true };
  }
  if (p.isDir('/etc') && (p.isDir('/bin') || p.isSymlinkTo('/bin', 'usr/bin')) && (p.isFile('/etc/fstab') || p.isFile('/etc/hosts'))) {
    return { osType: 'linux', matched: 'Linux root', root: true };
  }
  if (p.isDir('/etc') && p.isDir('/root') && p.isDir('/home') && p.isDir('/usr') && p.isFile('/etc/coreos/update.conf')) {
    return { osType: 'linux', matched: 'CoreOS root', root: true };
  }
  const systemroot = windowsSystemroot(p);
  if (systemroot) return { osType: 'windows', matched: 'Windows root', root: true, systemroot };
  if (p.isDirNocase('/FDOS') && p.isFileNocase('/FDOS/FREEDOS.BSS')) return { osType: 'dos', matched: 'FreeDOS', root: true };
  if (p.isDirNocase('/DOS') && p.isFileNocase('/DOS/COMMAND.COM')) return { osType: 'dos', matched: 'MS-DOS', root: true };
  return { matched: 'no known OS partition', root: false };
}

function windowsSystemroot(p: Probe): string | undefined {
  const isSystemroot = (sr: string) =>
    p.isDirNocase(`${sr}/system32`) && p.isDirNocase(`${sr}/system32/config`) && p.isFileNocase(`${sr}/system32/cmd.exe`);
  for (const c of SYSTEMROOTS) {
    const sr = p.findNocase(c);
    if (sr && isSystemroot(sr)) return sr;
  }
  // boot.ini's [operating systems] section may name another folder.
  const bootIni = p.findNocase('/boot.ini');
  const text = bootIni ? p.readSmall(bootIni) : null;
  if (text) {
    const lines = text.split(/\r?\n/);
    const start = lines.findIndex((l) => l.startsWith('[operating systems]'));
    if (start >= 0) {
      for (const l of lines.slice(start + 1)) {
        if (!l.startsWith('multi(') && !l.startsWith('scsi(')) break;
        const m = /^(?:multi|scsi)\(\d+\)disk\(\d+\)rdisk\(\d+\)partition\(\d+\)([^=]+)=/.exec(l);
        if (!m) continue;
        const sr = p.findNocase(m[1].replace(/\\/g, '/'));
        if (sr && isSystemroot(sr)) return sr;
      }
    }
  }
  return undefined;
}

/** drive_index: "a" → 0, "z" → 25, "aa" → 26. */
export function driveIndex(letters: string): number {
  let i = 0;
  for (const c of letters) i = i * 26 + (c.charCodeAt(0) - 96);
  return i - 1;
}

interface FstabContext {
  disks: GuestDisks;
  devices: readonly GuestDevice[];
  rootDevice: string;
  osType: OsType;
}

const eqi = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

function findBy(ctx: FstabContext, pred: (d: GuestDevice) => boolean): string | null {
  const d = ctx.devices.find(pred);
  return d ? d.name : null;
}

function isPartition(ctx: FstabContext, name: string): boolean {
  return ctx.devices.some((d) => d.kind === 'partition' && d.name === name);
}

/** resolve_fstab_device: a guest device name → our device name (or the name unchanged). */
function resolveFstabDevice(spec: string, ctx: FstabContext): string {
  if (spec.startsWith('/dev/mapper')) {
    // LVM's dm names: VG-LV with '-' inside either name doubled.
    const dm = spec.slice('/dev/mapper/'.length);
    const lv = ctx.devices.find((d) => d.kind === 'lv' && d.vg && d.lv &&
      `${d.vg.replace(/-/g, '--')}-${d.lv.replace(/-/g, '--')}` === dm);
    return lv ? lv.name : spec;
  }
  let m = /^\/dev\/(h|s|v|xv)d([a-z]+)(\d*)$/.exec(spec);
  if (m) {
    const disks = ctx.devices.filter((d) => d.kind === 'disk');
    const i = driveIndex(m[2]);
    if (i >= 0 && i < disks.length) {
      const dev = disks[i].name + m[3];
      if (isPartition(ctx, dev)) return dev;
    }
    return spec;
  }
  m = /^\/dev\/disk\/by-id\/.*-part(\d+)$/.exec(spec);
  if (m && !spec.startsWith('/dev/disk/by-id/dm-uuid-')) {
    const disks = ctx.devices.filter((d) => d.kind === 'disk');
    if (disks.length !== 1) return spec;
    const dev = `${disks[0].name}${Number(m[1])}`;
    return isPartition(ctx, dev) ? dev : spec;
  }
  if (spec.startsWith('/dev/disk/by-uuid/')) {
    const uuid = spec.slice('/dev/disk/by-uuid/'.length);
    return findBy(ctx, (d) => eqi(d.uuid, uuid)) ?? spec;
  }
  m = /^\/dev\/disk\/by-id\/dm-uuid-LVM-([0-9a-zA-Z]{32})([0-9a-zA-Z]{32})$/.exec(spec);
  if (m) {
    const strip = (u?: string) => (u ?? '').replace(/-/g, '');
    return findBy(ctx, (d) => d.kind === 'lv' && strip(d.vgUuid) === m![1] && strip(d.lvUuid) === m![2]) ?? spec;
  }
  return spec;
}

/**
 * One fstab entry → [device, mountpoint] or null when libguestfs ignores it (floppies,
 * CD-ROMs, pseudo-filesystems, network filesystems, UUID/LABEL that match no device...).
 */
export function resolveFstabEntry(e: FstabEntry, ctx: FstabContext): InspectMountpoint | null {
  const spec = e.spec;
  if ((/^\/dev\/(fd|cd)\d/.test(spec)) || spec === '/dev/floppy' || spec === '/dev/cdrom' || spec.startsWith('/dev/iso9660/')) {
    return null;
  }
  const mp = canonicalMountpoint(e.file);
  if (mp.startsWith('/dev/') || mp === '/dev' || mp.startsWith('/media/') || mp.startsWith('/proc/') || mp === '/proc' ||
      mp.startsWith('/selinux/') || mp === '/selinux' || mp.startsWith('/sys/') || mp === '/sys') {
    return null;
  }
  const isBsd = ctx.osType === 'freebsd' || ctx.osType === 'netbsd' || ctx.osType === 'openbsd';
  let device: string | null;
  const tag = /^(UUID|LABEL|PARTUUID|PARTLABEL)=(.*)$/.exec(spec);
  if (tag) {
    const v = shellUnquote(tag[2]);
    switch (tag[1]) {
      case 'UUID': device = findBy(ctx, (d) => eqi(d.uuid, v)); break;
      case 'LABEL': device = findBy(ctx, (d) => d.label === v); break;
      case 'PARTUUID': device = findBy(ctx, (d) => d.kind === 'partition' && eqi(d.partuuid, v)); break;
      default: device = findBy(ctx, (d) => d.kind === 'partition' && d.partlabel === v); break;
    }
    if (device === null) return null;
  } else if (spec === '/dev/root' || (isBsd && mp === '/')) {
    device = ctx.rootDevice;
  } else if (spec.startsWith('/dev/')) {
    device = resolveFstabDevice(spec, ctx);
  } else {
    return null; // tmpfs, proc, server:/export, /.swap...
  }
  let options: string | undefined;
  if (e.vfstype === 'btrfs') {
    const sub = e.options.find((o) => o.startsWith('subvol='));
    if (sub) options = sub;
  }
  return { mountpoint: mp, device, options, line: e.line };
}

/** The mountpoints of a root, as inspect_get_mountpoints gives them, shortest first. */
function rootMountpoints(probe: Probe, ctx: FstabContext): InspectMountpoint[] {
  const text = ctx.osType === 'windows' ? null : probe.readSmall('/etc/fstab');
  let list: InspectMountpoint[] = [];
  if (text !== null) {
    const parsed = parseFstab(text);
    for (const [line, why] of parsed.skipped) warn(`${ctx.rootDevice}: /etc/fstab line ${line} ignored: ${why}`);
    for (const e of parsed.entries) {
      const r = resolveFstabEntry(e, ctx);
      if (r) list.push(r);
    }
    // remove_duplicate_root_mountpoints: several "/" entries → the first.
    const roots = list.filter((m) => m.mountpoint === '/');
    if (roots.length > 1) {
      if (!roots.every((r) => r.device === roots[0].device)) {
        warn(`${ctx.rootDevice}: /etc/fstab has several different root entries; using the first (${roots[0].device})`);
      }
      list = [roots[0], ...list.filter((m) => m.mountpoint !== '/')];
    }
    list = list.filter((m) => m.mountpoint.startsWith('/'));
  }
  // No fstab (Windows, or /etc/hosts without /etc/fstab): just the root. libguestfs would
  // also leave "/" unmounted when an fstab lacks a "/" line; we mount the root there.
  if (!list.some((m) => m.mountpoint === '/')) list.unshift({ mountpoint: '/', device: ctx.rootDevice });
  // common/options/inspect.c: sorted by key length, shortest first.
  return list.map((m, i) => ({ m, i })).sort((a, b) => a.m.mountpoint.length - b.m.mountpoint.length || a.i - b.i).map((x) => x.m);
}

export interface InspectOptions {
  /** Called with each filesystem that could not be opened (verbose output). */
  onSkip?: (device: string, err: unknown) => void;
}

/** inspect_os: the roots of the disks, in device order. */
export function inspectRoots(disks: GuestDisks, opts: InspectOptions = {}): RootInfo[] {
  const devices = disks.devices();
  const roots: RootInfo[] = [];
  for (const { device: d, type } of disks.filesystems()) {
    if (NOT_INSPECTED.has(type)) continue;
    let fs: Filesystem;
    try {
      fs = disks.openFilesystem(d.name);
    } catch (e) {
      opts.onSkip?.(d.name, e);
      continue; // libguestfs: "Try mounting the device. Ignore errors if we can't do this."
    }
    let role: Role;
    let probe: Probe;
    try {
      probe = new Probe(fs);
      role = checkFilesystem(fs);
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      opts.onSkip?.(d.name, e);
      continue;
    }
    if (!role.root || !role.osType) continue;
    const ctx: FstabContext = { disks, devices, rootDevice: d.name, osType: role.osType };
    roots.push({
      device: d.name, osType: role.osType, matched: role.matched, systemroot: role.systemroot,
      mountpoints: rootMountpoints(probe, ctx),
    });
  }
  return roots;
}

const NO_OS = 'no operating system was found on this disk (use -m to mount filesystems by hand; ' +
  'guestkit filesystems lists them)';

/**
 * -i: inspect, then mount the one root's filesystems on `view`. No root, or several
 * (multi-boot), is an error as in libguestfs's tools. A filesystem other than "/" that cannot
 * be mounted is skipped with one warning, "some filesystems could not be mounted (ignored)".
 */
export function inspectAndMount(view: GuestView, disks: GuestDisks, opts: InspectOptions & { verbose?: (m: string) => void } = {}): RootInfo {
  const roots = inspectRoots(disks, opts);
  if (roots.length === 0) throw new GuestkitError('NOT_FOUND', NO_OS);
  if (roots.length > 1) {
    throw new GuestkitError('UNSUPPORTED',
      `multi-boot operating systems are not supported (roots: ${roots.map((r) => r.device).join(', ')}; use -m to choose)`);
  }
  const root = roots[0];
  let errors = 0;
  for (const m of root.mountpoints) {
    try {
      mountDevice(view, disks, m.device, m.mountpoint, { options: m.options });
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      if (m.mountpoint === '/') {
        throw new GuestkitError(e.code, `${m.device}: cannot mount the root filesystem: ${e.message}`, { cause: e });
      }
      opts.verbose?.(`mount ${m.device} on ${m.mountpoint}: ${e.message}`);
      errors++;
    }
  }
  if (errors) warn('some filesystems could not be mounted (ignored)');
  return root;
}

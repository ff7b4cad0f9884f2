// Windows roots, as libguestfs's daemon/inspect_fs_windows.ml reads them: the architecture of
// %SYSTEMROOT%/System32/cmd.exe, SOFTWARE\Microsoft\Windows NT\CurrentVersion (ProductName,
// CurrentMajor/MinorVersionNumber or CurrentVersion, InstallationType, CurrentBuildNumber),
// SYSTEM\Select\Current → ControlSet00N, its Services\Tcpip\Parameters\Hostname, and the drive
// letters of SYSTEM\MountedDevices (MBR disk signature + byte offset, or GPT "DMIO:ID:" GUID).

import { GuestkitError, type GuestDisks, type GuestDevice } from '@guestkit/core';
import { Hive, REG_BINARY, REG_DWORD, type RegKey, type RegValue } from '@guestkit/registry';
import type { TreeAccess } from './access.js';
import { binaryArchitecture } from './elf.js';
import type { InspectionData } from './linux.js';

/** Hives larger than this are not read (hivex refuses far smaller ones; SOFTWARE is ~100 MiB at most). */
export const MAX_HIVE_SIZE = 512 * 1024 * 1024;

/** Case-insensitive path in the tree (libguestfs case_sensitive_path), or null. */
export function findNocase(t: TreeAccess, path: string): string | null {
  let cur = '/';
  for (const comp of path.split('/').filter((c) => c !== '')) {
    if (!t.isDir(cur, true)) return null;
    const want = comp.toLowerCase();
    const hit = t.readdir(cur).find((e) => e.name.toLowerCase() === want);
    if (!hit) return null;
    cur = cur === '/' ? `/${hit.name}` : `${cur}/${hit.name}`;
  }
  return cur;
}

export function openGuestHive(t: TreeAccess, path: string, warn: (m: string) => void): Hive | null {
  const p = findNocase(t, path);
  if (!p || !t.isFile(p, false)) return null;
  const bytes = t.readFile(p, MAX_HIVE_SIZE);
  if (!bytes) {
    warn(`${p}: cannot read the registry hive`);
    return null;
  }
  try {
    return Hive.open(bytes, { name: p });
  } catch (e) {
    if (!(e instanceof GuestkitError)) throw e;
    warn(e.message.startsWith(p) ? e.message : `${p}: ${e.message}`);
    return null;
  }
}

export function keyPath(root: RegKey, path: readonly string[]): RegKey | null {
  let k: RegKey | null = root;
  for (const p of path) {
    if (!k) return null;
    k = k.subkey(p);
  }
  return k;
}

/** hivex_value_string: REG_SZ/EXPAND_SZ (UTF-16LE) up to the first NUL. */
export function valueString(v: RegValue | null): string | undefined {
  if (!v) return undefined;
  const d = v.data();
  const s = Buffer.from(d.buffer, d.byteOffset, d.byteLength - (d.byteLength % 2)).toString('utf16le');
  const nul = s.indexOf('\0');
  return nul >= 0 ? s.slice(0, nul) : s;
}

export function valueDword(v: RegValue | null): number | undefined {
  if (!v || v.type !== REG_DWORD) return undefined;
  const d = v.data();
  if (d.byteLength < 4) return undefined;
  return Buffer.from(d.buffer, d.byteOffset, 4).readUInt32LE(0);
}

const tryReg = <T>(f: () => T, warn: (m: string) => void, what: string): T | undefined => {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof GuestkitError)) throw e;
    warn(`${what}: ${e.message}`);
    return undefined;
  }
};

export function checkWindowsRoot(t: TreeAccess, d: InspectionData, systemroot: string, disks: GuestDisks, devices: readonly GuestDevice[], warn: (m: string) => void): void {
  d.osType = 'windows';
  d.distro = 'windows';
  d.windowsSystemroot = systemroot;
  // check_windows_arch
  const cmd = findNocase(t, `${systemroot}/system32/cmd.exe`);
  const head = cmd ? t.readHead(cmd, 4096) : null;
  const arch = head ? binaryArchitecture(head) : null;
  if (arch) d.arch = arch;
  const software = openGuestHive(t, `${systemroot}/system32/config/software`, warn);
  const system = openGuestHive(t, `${systemroot}/system32/config/system`, warn);
  // Each hive gives its own facts: one that is missing or fails to parse (warned about) does
  // not hide the other's (libguestfs gives up on the whole root instead).
  if (software) tryReg(() => {
    const cv = keyPath(software.root(), ['Microsoft', 'Windows NT', 'CurrentVersion']);
    if (!cv) return;
    const pn = valueString(cv.value('ProductName'));
    if (pn !== undefined) d.productName = pn;
    const ma = valueDword(cv.value('CurrentMajorVersionNumber'));
    const mi = valueDword(cv.value('CurrentMinorVersionNumber'));
    if (ma !== undefined && mi !== undefined) d.version = [ma, mi];
    else {
      const v = valueString(cv.value('CurrentVersion'));
      const m = v !== undefined ? /^(\d+)\.(\d+)/.exec(v) : null;
      if (m) d.version = [Number(m[1]), Number(m[2])];
    }
    const it = valueString(cv.value('InstallationType'));
    if (it !== undefined) d.productVariant = it;
    const b = valueString(cv.value('CurrentBuildNumber'));
    if (b !== undefined) d.buildId = b;
  }, warn, 'SOFTWARE hive');
  if (!system) return;
  tryReg(() => {
    const sel = keyPath(system.root(), ['Select']);
    const cur = sel ? valueDword(sel.value('Current')) : undefined;
    if (cur === undefined) return;
    const ccs = `ControlSet${String(cur).padStart(3, '0')}`;
    d.windowsCurrentControlSet = ccs;
    const params = keyPath(system.root(), [ccs, 'Services', 'Tcpip', 'Parameters']);
    const h = params ? valueString(params.value('Hostname')) : undefined;
    if (h !== undefined) d.hostname = h;
  }, warn, 'SYSTEM hive');
  d.driveMappings = tryReg(() => driveMappings(system, disks, devices), warn, 'SYSTEM\\MountedDevices') ?? [];
}

/** SYSTEM\MountedDevices → [{letter, device}] in value order. */
function driveMappings(system: Hive, disks: GuestDisks, devices: readonly GuestDevice[]): { name: string; device: string }[] {
  const md = keyPath(system.root(), ['MountedDevices']);
  if (!md) return [];
  const out: { name: string; device: string }[] = [];
  for (const v of md.values()) {
    const key = v.name;
    if (key.length < 14 || key.slice(0, 12).toLowerCase() !== '\\dosdevices\\' || !/[A-Za-z]/.test(key[12]) || key[13] !== ':') continue;
    if (v.type !== REG_BINARY) continue;
    const blob = Buffer.from(v.data());
    let device: string | undefined;
    if (blob.length >= 24 && blob.subarray(0, 8).toString('latin1') === 'DMIO:ID:') {
      const g = blob.subarray(8, 24);
      const guid = [g.readUInt32LE(0).toString(16).padStart(8, '0'), g.readUInt16LE(4).toString(16).padStart(4, '0'),
        g.readUInt16LE(6).toString(16).padStart(4, '0'), g.subarray(8, 10).toString('hex'), g.subarray(10, 16).toString('hex')].join('-');
      device = devices.find((x) => x.kind === 'partition' && x.partuuid?.toLowerCase() === guid)?.name;
    } else if (blob.length === 12) {
      const sig = blob.readUInt32LE(0);
      const offset = Number(blob.readBigUInt64LE(4));
      device = mbrPartitionAt(disks, devices, sig, offset);
    }
    if (device) out.push({ name: key[12], device });
  }
  return out;
}

/** The partition starting at byte `offset` of the MBR disk whose signature (at 0x1b8) is `sig`. */
function mbrPartitionAt(disks: GuestDisks, devices: readonly GuestDevice[], sig: number, offset: number): string | undefined {
  const hex = sig.toString(16).padStart(8, '0');
  // An MBR partition's PARTUUID is "<disk signature>-<nn>" (blkid); its start is on the device entry.
  for (const p of devices) {
    if (p.kind !== 'partition' || !p.partuuid || !p.partuuid.toLowerCase().startsWith(`${hex}-`)) continue;
    // DiskSet's device entries carry the partition (start in bytes).
    const part = (p as GuestDevice & { partition?: { start: number } }).partition;
    if (part && part.start === offset) return p.name;
  }
  void disks;
  return undefined;
}

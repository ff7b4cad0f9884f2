// The guest's icon, as libguestfs's inspect_get_icon finds it (lib/inspect-icon.c) when
// virt-inspector asks for it (favicon:false): a distro logo PNG at a fixed path per distro,
// accepted only when `file` would call it "PNG image data, W x H" with 16 ≤ W, H ≤ 1024 and
// it is no larger than the distro's limit (4·W·H bytes when none is given); Windows XP and 7
// take it from explorer.exe's bitmap resources with wrestool | bmptopnm [| pamcut] | pnmtopng
// (libguestfs does that only when it was built with those tools: we need them on PATH too),
// Windows 8 from a Windows Live PNG; Cirros renders its ASCII logo with pbmtext | pnmtopng.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TreeAccess } from './access.js';
import type { OperatingSystem } from './types.js';
import { findNocase } from './windows.js';

/** The PNG signature and the IHDR chunk header that libmagic's png entry requires (PNG spec 5.2, 11.2.2). */
const PNG_MAGIC = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
/** Geometry libguestfs accepts (get_png). */
export const ICON_MIN_SIDE = 16;
export const ICON_MAX_SIDE = 1024;
/** MAX_WINDOWS_EXPLORER_SIZE (lib/guestfs-internal.h). */
export const MAX_WINDOWS_EXPLORER_SIZE = 4 * 1000 * 1000;
/** Largest Cirros text logo downloaded. */
const MAX_CIRROS_LOGO = 1024;
/** Largest Windows 8 Windows Live PNG downloaded. */
const MAX_WIN8_PNG = 8192;

/** Width and height of a PNG as libmagic prints them (signed 32-bit, IHDR bytes 16..23), or null. */
export function pngGeometry(head: Uint8Array): { width: number; height: number } | null {
  if (head.length < 24) return null;
  for (let i = 0; i < PNG_MAGIC.length; i++) if (head[i] !== PNG_MAGIC[i]) return null;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return { width: dv.getInt32(16), height: dv.getInt32(20) };
}

/** get_png: the file when it is a reasonable PNG of at most maxSize bytes (0: 4·W·H). */
function getPng(t: TreeAccess, path: string, maxSize: number): Uint8Array | null {
  if (!t.isFile(path, true)) return null;
  const g = pngGeometry(t.readHead(path, 24) ?? new Uint8Array());
  if (!g) return null;
  const { width: w, height: h } = g;
  if (w < ICON_MIN_SIDE || h < ICON_MIN_SIDE || w > ICON_MAX_SIDE || h > ICON_MAX_SIDE) return null;
  return t.readFile(path, maxSize === 0 ? 4 * w * h : maxSize);
}

function findPng(t: TreeAccess, paths: readonly string[], maxSize: number): Uint8Array | null {
  for (const p of paths) {
    const r = getPng(t, p, maxSize);
    if (r) return r;
  }
  return null;
}

/** Per-distro logo paths and size limits (icon_fedora, icon_rhel, icon_debian...). */
const LINUX_ICONS: Record<string, (os: OperatingSystem) => [string[], number]> = {
  fedora: () => [['/usr/share/icons/hicolor/96x96/apps/fedora-logo-icon.png'], 0],
  debian: () => [['/usr/share/pixmaps/debian-logo.png'], 2048],
  ubuntu: () => [['/usr/share/icons/gnome/24x24/places/ubuntu-logo.png', '/usr/share/help/C/ubuntu-help/figures/ubuntu-logo.png'], 2048],
  mageia: () => [['/usr/share/icons/mageia.png'], 10240],
  opensuse: () => [['/usr/share/icons/hicolor/48x48/apps/distributor.png', '/usr/share/icons/hicolor/24x24/apps/distributor.png'], 10240],
  voidlinux: () => [['/usr/share/void-artwork/void-logo.png'], 20480],
  altlinux: () => [['/usr/share/icons/hicolor/48x48/apps/altlinux.png'], 20480],
  gentoo: () => [['/usr/share/icons/gentoo/48x48/gentoo.png'], 10240],
  openmandriva: () => [['/usr/share/icons/large/mandriva.png', '/usr/share/icons/mandriva.png'], 10240],
};
const RHEL_LIKE = ['rhel', 'redhat-based', 'centos', 'rocky', 'scientificlinux', 'oraclelinux'];
for (const d of RHEL_LIKE) {
  LINUX_ICONS[d] = (os) => [[os.majorVersion < 7 ? '/usr/share/pixmaps/redhat/shadowman-transparent.png' : '/usr/share/icons/hicolor/96x96/apps/system-logo-icon.png'], 102400];
}
LINUX_ICONS['suse-based'] = LINUX_ICONS.opensuse;
LINUX_ICONS.sles = LINUX_ICONS.opensuse;

/** Run a pipeline of host tools on `input`; the last one's output, or null when a tool is missing or fails. */
function pipeline(input: Uint8Array, cmds: [string, string[]][]): Uint8Array | null {
  let data: Uint8Array = input;
  for (const [cmd, args] of cmds) {
    const r = spawnSync(cmd, args, { input: data, maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'ignore'] });
    if (r.error || r.status !== 0) return null;
    data = r.stdout;
  }
  return data.length > 0 ? data : null;
}

/** wrestool -x --type=2 --name=N on a copy of the executable (it seeks: no pipe), then the rest of the pipeline. */
function fromExplorer(exe: Uint8Array, name: number, rest: [string, string[]][]): Uint8Array | null {
  const dir = mkdtempSync(join(tmpdir(), 'guestkit-icon-'));
  try {
    const file = join(dir, 'explorer.exe');
    writeFileSync(file, exe);
    const r = spawnSync('wrestool', ['-x', '--type=2', `--name=${name}`, file], { maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
    if (r.error || r.status !== 0) return null;
    return pipeline(r.stdout, rest);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function windowsIcon(t: TreeAccess, os: OperatingSystem): Uint8Array | null {
  const sr = os.windowsSystemroot;
  if (!sr) return null;
  const { majorVersion: major, minorVersion: minor } = os;
  const explorer = (rels: string[]): Uint8Array | null => {
    for (const rel of rels) {
      const p = findNocase(t, `${sr}/${rel}`);
      if (p && t.isFile(p, true)) return t.readFile(p, MAX_WINDOWS_EXPLORER_SIZE);
    }
    return null;
  };
  if (major === 5 && minor === 1) {
    const exe = explorer(['explorer.exe']);
    return exe && fromExplorer(exe, 143, [['bmptopnm', []], ['pnmtopng', []]]);
  }
  if (major === 6 && minor === 1) {
    const exe = explorer(['SysWOW64/explorer.exe', 'explorer.exe']);
    return exe && fromExplorer(exe, 6801, [['bmptopnm', []], ['pamcut', ['-bottom', '54']], ['pnmtopng', []]]);
  }
  if (major === 6 && minor === 2) {
    const p = findNocase(t, '/ProgramData/Microsoft/Windows Live/WLive48x48.png');
    return p && t.isFile(p, true) ? t.readFile(p, MAX_WIN8_PNG) : null;
  }
  return null;
}

/** libmagic's "ASCII text": printable ASCII and the usual whitespace only. */
function isAsciiText(b: Uint8Array): boolean {
  if (b.length === 0) return false;
  for (const c of b) if (!((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x0c)) return false;
  return true;
}

function cirrosIcon(t: TreeAccess): Uint8Array | null {
  const logo = t.readFile('/usr/share/cirros/logo', MAX_CIRROS_LOGO);
  if (!logo || !isAsciiText(logo)) return null;
  return pipeline(logo, [['pbmtext', []], ['pnmtopng', []]]);
}

/** The icon virt-inspector prints for this root (the guest mounted as its fstab says), or null. */
export function findIcon(t: TreeAccess, os: OperatingSystem): Uint8Array | null {
  if (os.type === 'linux' || os.type === 'hurd') {
    if (os.distro === 'cirros') return cirrosIcon(t);
    const spec = os.distro ? LINUX_ICONS[os.distro] : undefined;
    if (!spec) return null;
    const [paths, max] = spec(os);
    return findPng(t, paths, max);
  }
  if (os.type === 'windows') return windowsIcon(t, os);
  return null;
}

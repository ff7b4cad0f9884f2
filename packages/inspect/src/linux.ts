// Linux (and Hurd, CoreOS) root facts, as libguestfs's daemon/inspect_fs_unix.ml finds them:
// the release-file tests in its order (linux_root_tests), check_architecture over its list of
// binaries, check_hostname_linux, and inspect_fs.ml's package format/management rules.

import { shellUnquote } from '@guestkit/core';
import type { TreeAccess } from './access.js';
import { binaryArchitecture } from './elf.js';

/** What the per-filesystem checks fill in (libguestfs inspection_data). */
export interface InspectionData {
  osType?: string;
  distro?: string;
  productName?: string;
  productVariant?: string;
  version?: [number, number];
  arch?: string;
  hostname?: string;
  buildId?: string;
  packageFormat?: string;
  packageManagement?: string;
  windowsSystemroot?: string;
  windowsCurrentControlSet?: string;
  driveMappings?: { name: string; device: string }[];
}

type Parse = (file: string, t: TreeAccess, d: InspectionData) => boolean;

/** parse_version_from_major_minor: "(\d+)\.(\d+)" else "(\d+)", anywhere in the string. */
export function parseVersionFromMajorMinor(s: string, d: InspectionData): void {
  let m = /(\d+)\.(\d+)/.exec(s);
  if (m) {
    d.version = [toInt(m[1]), toInt(m[2])];
    return;
  }
  m = /(\d+)/.exec(s);
  if (m) d.version = [toInt(m[1]), 0];
}

/** OCaml int_of_string on a digit run (huge values are clamped rather than failing). */
function toInt(s: string): number {
  const n = Number(s);
  return Number.isSafeInteger(n) && n <= 0x7fffffff ? n : 0x7fffffff;
}

/** parse_key_value_strings: KEY=VALUE lines (comments and blank lines skipped). */
function keyValues(lines: readonly string[], unquote: (s: string) => string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    if (i < 0) continue;
    out.push([line.slice(0, i), unquote(line.slice(i + 1))]);
  }
  return out;
}

/** simple_unquote: strip one pair of surrounding quotes. */
function simpleUnquote(s: string): string {
  if (s.length >= 2 && ((s[0] === '"' && s[s.length - 1] === '"') || (s[0] === "'" && s[s.length - 1] === "'"))) return s.slice(1, -1);
  return s;
}

const OS_RELEASE_IDS: Record<string, string> = {
  alpine: 'alpinelinux', altlinux: 'altlinux', arch: 'archlinux', centos: 'centos', circle: 'circle',
  coreos: 'coreos', debian: 'debian', fedora: 'fedora', frugalware: 'frugalware', gentoo: 'gentoo',
  kali: 'kalilinux', kylin: 'kylin', mageia: 'mageia', neokylin: 'neokylin', openEuler: 'openeuler',
  openmandriva: 'openmandriva', opencloudos: 'opencloudos', tencentos: 'tencentos', opensuse: 'opensuse',
  pardus: 'pardus', pld: 'pldlinux', rhel: 'rhel', rocky: 'rocky', sles: 'sles', sled: 'sles',
  ubuntu: 'ubuntu', void: 'voidlinux',
};

const ROLLING = new Set(['archlinux', 'gentoo', 'voidlinux']);

export const parseOsRelease: Parse = (file, t, d) => {
  const lines = t.readLines(file);
  if (lines === null) return false;
  for (const [key, value] of keyValues(lines, shellUnquote)) {
    if (key === 'ID') {
      const distro = Object.prototype.hasOwnProperty.call(OS_RELEASE_IDS, value) ? OS_RELEASE_IDS[value]
        : value.startsWith('opensuse-') ? 'opensuse' : undefined;
      if (distro) d.distro = distro;
    } else if (key === 'PRETTY_NAME') {
      d.productName = value;
    } else if (key === 'VERSION_ID') {
      const m = /^V(\d+)Update(\d+)$/.exec(value); // NeoKylin
      if (m) d.version = [toInt(m[1]), toInt(m[2])];
      else parseVersionFromMajorMinor(value, d);
    } else if (key === 'BUILD_ID') {
      d.buildId = value;
    }
  }
  if (d.distro === undefined || d.productName === undefined) return false;
  // Debian and CentOS give only the major version in VERSION_ID: use the release files.
  if (['debian', 'centos', 'circle', 'rocky'].includes(d.distro) && d.version && d.version[1] === 0) return false;
  if (d.version === undefined && ROLLING.has(d.distro)) {
    d.version = [0, 0];
    return true;
  }
  return d.version !== undefined;
};

const LSB_IDS: Record<string, string> = { CoreOS: 'coreos', LinuxMint: 'linuxmint', Mageia: 'mageia', Ubuntu: 'ubuntu' };

export const parseLsbRelease: Parse = (file, t, d) => {
  const lines = t.readLines(file);
  if (lines === null) return false;
  let ok = false;
  for (const [key, value] of keyValues(lines, simpleUnquote)) {
    if (key === 'DISTRIB_ID') {
      const distro = Object.prototype.hasOwnProperty.call(LSB_IDS, value) ? LSB_IDS[value] : undefined;
      if (distro) {
        ok = true;
        d.distro = distro;
      }
    } else if (key === 'DISTRIB_RELEASE') {
      parseVersionFromMajorMinor(value, d);
    } else if (key === 'DISTRIB_DESCRIPTION') {
      ok = true;
      d.productName = value;
    }
  }
  return ok;
};

const parseSuseRelease: Parse = (file, t, d) => {
  const lines = t.readLines(file);
  if (lines === null || lines.length === 0) return false;
  const product = lines[0];
  d.productName = product;
  if (/^SUSE (Linux|LINUX) Enterprise /.test(product) || /^Novell Linux Desktop /.test(product)) {
    const ma = lines.length >= 2 ? /^VERSION = (\d+)/.exec(lines[1]) : null;
    const mi = lines.length >= 3 ? /^PATCHLEVEL = (\d+)/.exec(lines[2]) : null;
    d.distro = 'sles';
    d.version = ma ? [toInt(ma[1]), mi ? toInt(mi[1]) : 0] : undefined;
  } else if (/^(openSUSE|SuSE Linux|SUSE LINUX) /.test(product)) {
    if (lines.length >= 2) parseVersionFromMajorMinor(lines[1], d);
    d.distro = 'opensuse';
  }
  return true;
};

/** parse_generic: the first line is the product name; with `rex`, it must match (groups = major, minor). */
function generic(distro: string, rex?: RegExp): Parse {
  return (file, t, d) => {
    if (!t.isFile(file)) return false;
    const text = t.readText(file);
    if (text === null) return false;
    const first = text.split('\n')[0];
    if (first === '') return false;
    d.productName = first;
    d.distro = distro;
    if (rex) {
      const m = rex.exec(first);
      if (!m) return false;
      const ma = m[1] !== undefined && /^\d+$/.test(m[1]) ? toInt(m[1]) : undefined;
      const mi = m[2] !== undefined && /^\d+$/.test(m[2]) ? toInt(m[2]) : undefined;
      if (ma !== undefined) d.version = [ma, mi ?? 0];
      return true;
    }
    parseVersionFromMajorMinor(first, d);
    return true;
  };
}

const setDistro = (distro: string): Parse => (_f, _t, d) => {
  d.distro = distro;
  return true;
};

const RE = {
  fedora: /Fedora release (\d+)/,
  rhelOld: /Red Hat.*release (\d+).*Update (\d+)/,
  rhel: /Red Hat.*release (\d+)\.(\d+)/,
  rhelNoMinor: /Red Hat.*release (\d+)/,
  centosOld: /CentOS.*release (\d+).*Update (\d+)/,
  centos: /CentOS.*release (\d+)\.(\d+)/,
  centosNoMinor: /CentOS.*release (\d+)/,
  circle: /Circle Linux.*release (\d+)\.(\d+)/,
  circleNoMinor: /Circle Linux.*release (\d+)/,
  rocky: /Rocky Linux.*release (\d+)\.(\d+)/,
  rockyNoMinor: /Rocky Linux.*release (\d+)/,
  slOld: /Scientific Linux.*release (\d+).*Update (\d+)/,
  sl: /Scientific Linux.*release (\d+)\.(\d+)/,
  slNoMinor: /Scientific Linux.*release (\d+)/,
  oracleOld: /Oracle Linux.*release (\d+).*Update (\d+)/,
  oracle: /Oracle Linux.*release (\d+)\.(\d+)/,
  oracleNoMinor: /Oracle Linux.*release (\d+)/,
  openmandriva: /OpenMandriva.*release (\d+)\.(\d+)\.?(\d+)? .*/,
  opencloudos: /OpenCloudOS.*release (\d+)/,
  tencentos: /TencentOS.* (\d+)\.(\d+)/,
  frugalware: /Frugalware (\d+)\.(\d+)/,
  pld: /(\d+)\.(\d+) PLD Linux/,
};

/** linux_root_tests, in libguestfs's order: the first file that exists and parses wins. */
export const LINUX_ROOT_TESTS: [string, Parse][] = [
  ['/etc/os-release', parseOsRelease],
  ['/etc/lsb-release', parseLsbRelease],
  ['/etc/openmandriva-release', generic('openmandriva', RE.openmandriva)],
  ['/etc/opencloudos-release', generic('opencloudos', RE.opencloudos)],
  ['/etc/tencentos-release', generic('tencentos', RE.tencentos)],
  ['/etc/oracle-release', generic('oraclelinux', RE.oracleOld)],
  ['/etc/oracle-release', generic('oraclelinux', RE.oracle)],
  ['/etc/oracle-release', generic('oraclelinux', RE.oracleNoMinor)],
  ['/etc/centos-release', generic('centos', RE.centosOld)],
  ['/etc/centos-release', generic('centos', RE.centos)],
  ['/etc/centos-release', generic('centos', RE.centosNoMinor)],
  ['/etc/circle-release', generic('circle', RE.circle)],
  ['/etc/circle-release', generic('circle', RE.circleNoMinor)],
  ['/etc/rocky-release', generic('rocky', RE.rocky)],
  ['/etc/rocky-release', generic('rocky', RE.rockyNoMinor)],
  ['/etc/altlinux-release', generic('altlinux')],
  ['/etc/redhat-release', generic('fedora', RE.fedora)],
  ['/etc/redhat-release', generic('rhel', RE.rhelOld)],
  ['/etc/redhat-release', generic('rhel', RE.rhel)],
  ['/etc/redhat-release', generic('rhel', RE.rhelNoMinor)],
  ['/etc/redhat-release', generic('centos', RE.centosOld)],
  ['/etc/redhat-release', generic('centos', RE.centos)],
  ['/etc/redhat-release', generic('centos', RE.centosNoMinor)],
  ['/etc/redhat-release', generic('circle', RE.circle)],
  ['/etc/redhat-release', generic('circle', RE.circleNoMinor)],
  ['/etc/redhat-release', generic('rocky', RE.rocky)],
  ['/etc/redhat-release', generic('rocky', RE.rockyNoMinor)],
  ['/etc/redhat-release', generic('scientificlinux', RE.slOld)],
  ['/etc/redhat-release', generic('scientificlinux', RE.sl)],
  ['/etc/redhat-release', generic('scientificlinux', RE.slNoMinor)],
  ['/etc/redhat-release', generic('redhat-based')],
  ['/etc/redhat-release', setDistro('redhat-based')],
  ['/etc/debian_version', generic('debian')],
  ['/etc/pardus-release', generic('pardus')],
  ['/etc/arch-release', setDistro('archlinux')],
  ['/etc/gentoo-release', generic('gentoo')],
  ['/etc/meego-release', generic('meego')],
  ['/etc/slackware-version', generic('slackware')],
  ['/etc/ttylinux-target', generic('ttylinux')],
  ['/etc/SuSE-release', parseSuseRelease],
  ['/etc/SuSE-release', setDistro('suse-based')],
  ['/etc/cirros/version', generic('cirros')],
  ['/etc/br-version', (f, t, d) => generic(t.isFile('/usr/share/cirros/logo') ? 'cirros' : 'buildroot')(f, t, d)],
  ['/etc/alpine-release', generic('alpinelinux')],
  ['/etc/frugalware-release', generic('frugalware', RE.frugalware)],
  ['/etc/pld-release', generic('pldlinux', RE.pld)],
];

export function checkTests(t: TreeAccess, d: InspectionData, tests: readonly [string, Parse][] = LINUX_ROOT_TESTS): void {
  for (const [file, parse] of tests) {
    if (t.isFile(file, true) && parse(file, t, d)) return;
  }
}

export const ARCH_BINARIES = ['/bin/bash', '/bin/ls', '/bin/echo', '/bin/rm', '/bin/sh'];

/** check_architecture: the first listed binary whose header names an architecture. */
export function checkArchitecture(t: TreeAccess): string | undefined {
  for (const bin of ARCH_BINARIES) {
    if (!t.isFile(bin, true)) continue;
    const head = t.readHead(bin, 4096);
    const arch = head ? binaryArchitecture(head) : null;
    if (arch) return arch;
  }
  return undefined;
}

function hostnameFromFile(t: TreeAccess, file: string): string | undefined {
  const lines = t.readLines(file);
  return lines?.find((l) => l !== '' && !l.startsWith('#'));
}

/** check_hostname_linux: /etc/HOSTNAME, /etc/hostname, then HOSTNAME= of /etc/sysconfig/network (Augeas shellvars). */
export function checkHostnameLinux(t: TreeAccess): string | undefined {
  for (const f of ['/etc/HOSTNAME', '/etc/hostname']) {
    const h = hostnameFromFile(t, f);
    if (h !== undefined) return h;
  }
  if (t.isFile('/etc/sysconfig/network', false) && (t.size('/etc/sysconfig/network') ?? Infinity) <= 100_000) {
    const lines = t.readLines('/etc/sysconfig/network') ?? [];
    let v: string | undefined;
    for (const [k, val] of keyValues(lines.map((l) => l.trimStart()), shellUnquote)) if (k === 'HOSTNAME') v = val;
    return v;
  }
  return undefined;
}

export function checkLinuxRoot(t: TreeAccess, d: InspectionData, osType = 'linux'): void {
  d.osType = osType;
  checkTests(t, d);
  d.arch = checkArchitecture(t);
  d.hostname = checkHostnameLinux(t);
}

export function checkCoreosRoot(t: TreeAccess, d: InspectionData): void {
  d.osType = 'linux';
  d.distro = 'coreos';
  d.hostname = checkHostnameLinux(t);
}

/** check_coreos_usr / check_linux_usr: version from /lib/os-release, architecture. */
export function checkUsr(t: TreeAccess, d: InspectionData, coreos: boolean): void {
  d.osType = 'linux';
  if (coreos) d.distro = 'coreos';
  if (t.isFile('/lib/os-release', true)) parseOsRelease('/lib/os-release', t, d);
  else if (coreos && t.isFile('/share/coreos/lsb-release', true)) parseLsbRelease('/share/coreos/lsb-release', t, d);
  const arch = checkArchitecture(t);
  if (arch) d.arch = arch;
}

const RPM = new Set(['altlinux', 'centos', 'circle', 'fedora', 'kylin', 'mageia', 'mandriva', 'meego', 'neokylin',
  'opencloudos', 'tencentos', 'openeuler', 'openmandriva', 'opensuse', 'oraclelinux', 'redhat-based', 'rhel', 'rocky',
  'scientificlinux', 'sles', 'suse-based']);

/** check_package_format. */
export function packageFormat(distro: string | undefined): string | undefined {
  if (!distro) return undefined;
  if (RPM.has(distro)) return 'rpm';
  if (['debian', 'kalilinux', 'linuxmint', 'ubuntu'].includes(distro)) return 'deb';
  return ({ archlinux: 'pacman', gentoo: 'ebuild', pardus: 'pisi', alpinelinux: 'apk', voidlinux: 'xbps' } as Record<string, string>)[distro];
}

/** check_package_management (needs the tree for Fedora's /usr/bin/dnf). */
export function packageManagement(d: InspectionData, t: TreeAccess | null): string | undefined {
  const major = d.version ? d.version[0] : 0;
  switch (d.distro) {
    case undefined: return undefined;
    case 'meego': return 'yum';
    case 'fedora':
      if (major >= 22 && t?.isFile('/usr/bin/dnf', true)) return 'dnf';
      return major >= 1 ? 'yum' : undefined;
    case 'neokylin': return 'dnf';
    case 'centos': case 'circle': case 'kylin': case 'oraclelinux': case 'redhat-based': case 'rhel': case 'rocky': case 'scientificlinux':
      return major >= 8 ? 'dnf' : major >= 5 ? 'yum' : major >= 2 ? 'up2date' : undefined;
    case 'altlinux': case 'debian': case 'kalilinux': case 'linuxmint': case 'ubuntu': return 'apt';
    case 'archlinux': return 'pacman';
    case 'gentoo': return 'portage';
    case 'pardus': return 'pisi';
    case 'mageia': case 'mandriva': return 'urpmi';
    case 'opensuse': case 'sles': case 'suse-based': return 'zypper';
    case 'alpinelinux': return 'apk';
    case 'voidlinux': return 'xbps';
    case 'openmandriva': case 'opencloudos': case 'tencentos': case 'openeuler': return 'dnf';
    default: return undefined;
  }
}

// inspect_get_osinfo: the libosinfo short ID, by libguestfs's lib/inspect-osinfo.c rules.
import type { OperatingSystem } from './types.js';

export function osinfoOf(os: Pick<OperatingSystem, 'type' | 'distro' | 'majorVersion' | 'minorVersion' | 'productName' | 'productVariant' | 'buildId'>): string | undefined {
  const { type, distro } = os;
  const major = os.majorVersion, minor = os.minorVersion;
  if (!type || !distro) return undefined;
  if (type === 'linux') {
    switch (distro) {
      case 'centos':
        if (major >= 8) return `${distro}${major}`;
        if (major === 7) return `${distro}${major}.0`;
        if (major === 6) return `${distro}${major}.${minor}`;
        break;
      case 'circle': case 'rocky':
        if (major >= 8) return `${distro}${major}`;
        break;
      case 'debian':
        if (major >= 4) return `${distro}${major}`;
        break;
      case 'fedora': case 'mageia':
        return `${distro}${major}`;
      case 'sles': {
        const base = major >= 15 ? 'sle' : 'sles';
        return minor === 0 ? `${base}${major}` : `${base}${major}sp${minor}`;
      }
      case 'ubuntu':
        return `${distro}${major}.${String(minor).padStart(2, '0')}`;
      case 'archlinux': case 'gentoo': case 'voidlinux':
        return distro;
      case 'altlinux':
        return major >= 8 ? `alt${major}.${minor}` : `${distro}${major}.${minor}`;
      default: break;
    }
    if (distro !== 'unknown' && (major > 0 || minor > 0)) return `${distro}${major}.${minor}`;
    return undefined;
  }
  if (type === 'freebsd' || type === 'netbsd' || type === 'openbsd') return `${distro}${major}.${minor}`;
  if (type === 'dos') return distro === 'msdos' ? 'msdos6.22' : undefined;
  if (type === 'windows') {
    const name = os.productName, variant = os.productVariant;
    if (name === undefined || variant === undefined) return undefined;
    const server = variant.includes('Server');
    if (major === 5) {
      if (minor === 1) return 'winxp';
      if (minor === 2) return name.includes('XP') ? 'winxp' : name.includes('R2') ? 'win2k3r2' : 'win2k3';
    } else if (major === 6) {
      const t = [['win2k8', 'winvista'], ['win2k8r2', 'win7'], ['win2k12', 'win8'], ['win2k12r2', 'win8.1']][minor];
      if (t) return server ? t[0] : t[1];
    } else if (major === 10 && minor === 0) {
      if (server) return name.includes('2025') ? 'win2k25' : name.includes('2022') ? 'win2k22' : name.includes('2019') ? 'win2k19' : 'win2k16';
      const b = os.buildId !== undefined && /^\d+$/.test(os.buildId) ? Number(os.buildId) : -1;
      if (b < 0) return undefined;
      return b >= 22000 ? 'win11' : 'win10';
    }
  }
  return undefined;
}

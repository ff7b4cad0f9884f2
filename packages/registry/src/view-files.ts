// WindowsGuestFiles over core's guest view: paths are matched case-insensitively component by
// component (as libguestfs's case_sensitive_path does), files are read whole with the hive size
// limit, and the boot configuration store is also looked for on the guest's other filesystems
// (the "System Reserved" or EFI system partition, which inspection does not mount).

import { GuestView, allocFromDisk, GuestkitError, type DiskSet } from '@guestkit/core';
import { DEFAULT_BCD_PATHS, type WindowsGuestFiles } from './guest-hives.js';
import { REGISTRY_LIMITS } from './limits.js';

/** The real path of `path` in `view`, matching each component case-insensitively; null if none. */
export function caseInsensitivePath(view: GuestView, path: string): string | null {
  let cur = '/';
  for (const comp of path.split('/')) {
    if (comp === '' || comp === '.') continue;
    let entries: { name: string }[];
    try {
      entries = view.readdir(cur);
    } catch (e) {
      if (e instanceof GuestkitError && (e.code === 'NOT_FOUND' || e.code === 'NOT_DIR')) return null;
      throw e;
    }
    const lc = comp.toLowerCase();
    const hit = entries.find((e) => e.name === comp) ?? entries.find((e) => e.name.toLowerCase() === lc);
    if (!hit) return null;
    cur = cur === '/' ? `/${hit.name}` : `${cur}/${hit.name}`;
  }
  return cur;
}

function readWhole(view: GuestView, path: string): Uint8Array {
  const f = view.openFile(path);
  const buf = allocFromDisk(f.stat.size, path, REGISTRY_LIMITS.maxHiveBytes);
  let done = 0;
  while (done < buf.length) {
    const n = f.fs.read(f.ino, buf.subarray(done), done);
    if (n <= 0) break;
    done += n;
  }
  return done === buf.length ? buf : buf.subarray(0, done);
}

function filesOf(view: GuestView) {
  return {
    readFile(path: string): Uint8Array | null {
      const real = caseInsensitivePath(view, path);
      if (!real || view.typeOf(real, true) !== 'file') return null;
      return readWhole(view, real);
    },
    isDir(path: string): boolean {
      const real = caseInsensitivePath(view, path);
      return !!real && view.typeOf(real, true) === 'dir';
    },
  };
}

/**
 * The Windows guest mounted in `view` (its %SystemRoot% as inspection found it). With `disks`,
 * the BCD paths are also tried on every other NTFS or FAT filesystem of the guest.
 */
export function windowsGuestFiles(view: GuestView, systemRoot: string, disks?: DiskSet): WindowsGuestFiles {
  const main = filesOf(view);
  let others: ReturnType<typeof filesOf>[] | null = null;
  const otherViews = () => {
    if (others) return others;
    others = [];
    if (!disks) return others;
    const mounted = new Set(view.mounts.map((m) => m.device));
    for (const fse of disks.filesystems()) {
      if (mounted.has(fse.device.name) || !['ntfs', 'vfat'].includes(fse.type)) continue;
      try {
        const v = new GuestView();
        v.mount(disks.openFilesystem(fse.device.name), '/', { device: fse.device.name });
        others.push(filesOf(v));
      } catch {
        /* not readable: not where the BCD is */
      }
    }
    return others;
  };
  const bcd = new Set(DEFAULT_BCD_PATHS.map((p) => p.toLowerCase()));
  return {
    systemRoot,
    readFile(path: string) {
      const b = main.readFile(path);
      if (b || !bcd.has(path.toLowerCase())) return b;
      for (const o of otherViews()) {
        const x = o.readFile(path);
        if (x) return x;
      }
      return null;
    },
    isDir: (path: string) => main.isDir(path),
  };
}

// What the guest layer needs from the set of disks (-a images): their devices named as
// libguestfs names them, what each holds, and a way to open a filesystem on one. The disk
// set (disks.ts) provides it; keeping the guest layer on this small interface keeps it
// testable and independent of how devices are found.

import type { Filesystem } from '../fs/vfs.js';

export interface GuestDevice {
  /** Canonical name: /dev/sda, /dev/sda1, /dev/VG/LV. */
  name: string;
  kind: 'disk' | 'partition' | 'lv';
  /** Partitions: GPT unique GUID or MBR "<disk id>-<nn>" (blkid PARTUUID). */
  partuuid?: string;
  /** GPT partition name (blkid PARTLABEL). */
  partlabel?: string;
  /** Content type as blkid names it (ext4, vfat, swap, LVM2_member...), if any. */
  fsType?: string;
  uuid?: string;
  label?: string;
  /** LVs: volume group and LV names and UUIDs (for /dev/mapper and dm-uuid-LVM- names). */
  vg?: string;
  lv?: string;
  vgUuid?: string;
  lvUuid?: string;
}

export interface OpenFsOptions {
  /** Force the filesystem type (-m ...:FSTYPE); otherwise the probed type. */
  type?: string;
  /** Mount options (-m ...:OPTIONS), e.g. subvol=root. */
  options?: string;
}

export interface GuestDisks {
  /** Every device: whole disks, partitions and LVs, in libguestfs order. */
  devices(): readonly GuestDevice[];
  /**
   * Canonical device name for any accepted spelling (/dev/vda1, /dev/hda1, /dev/xvda1,
   * /dev/mapper/VG-LV, /dev/VG/LV), or null when there is no such device.
   */
  resolveDeviceName(name: string): string | null;
  /**
   * guestfs list_filesystems: the devices that may hold a filesystem (not partition-table
   * disks, extended partitions or PVs), each with its type or "unknown".
   */
  filesystems(): readonly { device: GuestDevice; type: string }[];
  /** Open the filesystem on a device (canonical or alias name). Cached: the same object per device. */
  openFilesystem(device: string, opts?: OpenFsOptions): Filesystem;
}

/** st_dev libguestfs's appliance would report: sd disks major 8 (16 minors each), LVs 253:N. */
export function deviceNumber(disks: GuestDisks, name: string): number {
  const m = /^\/dev\/sd([a-z]+)(\d*)$/.exec(name);
  if (m) {
    let idx = 0;
    for (const c of m[1]) idx = idx * 26 + (c.charCodeAt(0) - 96);
    idx -= 1;
    const part = m[2] ? Number(m[2]) : 0;
    return makedev(8, idx * 16 + part);
  }
  const lvs = disks.devices().filter((d) => d.kind === 'lv');
  const i = lvs.findIndex((d) => d.name === name);
  if (i >= 0) return makedev(253, i);
  return 0;
}

/** glibc's makedev encoding. */
export function makedev(major: number, minor: number): number {
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
}

export function major(dev: number): number {
  return (dev >>> 8) & 0xfff;
}

export function minor(dev: number): number {
  return (dev & 0xff) | ((dev >>> 12) & ~0xff);
}

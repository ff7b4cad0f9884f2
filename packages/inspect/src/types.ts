// What inspection finds about one operating system root: the facts virt-inspector prints
// (libguestfs's inspect_get_* calls), in the same vocabulary ("unknown" is left out).

export interface Application {
  name: string;
  displayName?: string;
  epoch: number;
  version?: string;
  release?: string;
  arch?: string;
  installPath?: string;
  publisher?: string;
  url?: string;
  sourcePackage?: string;
  summary?: string;
  description?: string;
  class?: string;
}

export interface FilesystemInfo {
  device: string;
  type?: string;
  label?: string;
  uuid?: string;
}

export interface OperatingSystem {
  /** Canonical device of the root filesystem. */
  root: string;
  /** linux, windows, freebsd, hurd... */
  type?: string;
  arch?: string;
  distro?: string;
  productName?: string;
  productVariant?: string;
  majorVersion: number;
  minorVersion: number;
  packageFormat?: string;
  packageManagement?: string;
  windowsSystemroot?: string;
  windowsCurrentControlSet?: string;
  hostname?: string;
  buildId?: string;
  osinfo?: string;
  /** Firmware guess: 'uefi' when the disks hold an EFI system partition (guestkit addition). */
  firmware?: 'uefi' | 'bios';
  /** [mountpoint, device], as virt-inspector sorts them (shortest mountpoint first). */
  mountpoints: { mountpoint: string; device: string }[];
  filesystems: FilesystemInfo[];
  /** Windows drive letter → device, sorted by letter. */
  driveMappings: { name: string; device: string }[];
  /** undefined when not asked for (--no-applications). */
  applications?: Application[];
  /** Base64 PNG/etc. of the distro logo, when asked for and found. */
  icon?: string;
}

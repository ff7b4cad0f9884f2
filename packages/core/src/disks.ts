// The disks of one guest (the -a images, in order) and every block device on them, named as
// libguestfs names them: /dev/sda, /dev/sdb... for the disks, /dev/sda1... for partitions
// (Linux numbering: MBR primaries 1-4, logicals from 5, GPT entry slot + 1), /dev/VG/LV for
// LVM logical volumes. Lists devices, partitions and filesystems as guestfs list_devices,
// list_partitions and list_filesystems do, probes each device's content, and opens
// filesystems for the guest view. Everything past the disk itself is read on first use, so
// `guestkit dump -a disk.img` of the whole disk works even when its partition table is corrupt.

import type { BlockDevice } from './block/device.js';
import { openImage, type OpenOptions } from './block/open.js';
import { SliceDevice } from './block/slice.js';
import { GuestkitError } from './errors.js';
import type { Partition, PartitionTable } from './volume/types.js';
import { readPartitionTable } from './volume/index.js';
import { GPT_TYPES_WITHOUT_FILESYSTEM, MBR_TYPE_LDM } from './volume/part-types.js';
import { probe, type ProbeResult } from './probe/index.js';
import { scanLvm, type LogicalVolume, type LvmScan } from './volume/lvm/index.js';
import type { Filesystem } from './fs/vfs.js';
import { openFilesystem as openFs, type FsOpenOptions } from './fs/index.js';
import type { GuestDevice, GuestDisks, OpenFsOptions } from './guest/disks-api.js';

/** One -a image: its path and, when forced, its format (--format). */
export interface DiskSpec {
  path: string;
  format?: string;
  /**
   * Logical sector size of the disk (--blocksize=512|4096, as virt-* tools take it): the unit of
   * MBR sector numbers, and the GPT sector size tried first. Default: the image's own (512).
   */
  blocksize?: number;
}

export type DeviceKind = 'disk' | 'partition' | 'lv';

/** One block device of the set. Its content is probed on first use and remembered. */
export class DeviceEntry implements GuestDevice {
  /** Canonical name: /dev/sda, /dev/sda1, /dev/VG/LV. */
  readonly name: string;
  readonly kind: DeviceKind;
  /** Reads the device (a partition reads a window of its disk). */
  readonly dev: BlockDevice;
  /** Partitions: their disk (/dev/sda). LVs: their volume group (/dev/VG). */
  readonly parent?: string;
  /** Partitions: the partition-table entry (start, size, type, name...). */
  readonly partition?: Partition;
  /** Partitions: the scheme of the table they come from. */
  readonly scheme?: PartitionTable['scheme'];
  /** LVs: what the LVM scan found. */
  readonly logicalVolume?: LogicalVolume;
  readonly vgUuid?: string;
  private probed?: { r: ProbeResult | null };

  constructor(init: {
    name: string;
    kind: DeviceKind;
    dev: BlockDevice;
    parent?: string;
    partition?: Partition;
    scheme?: PartitionTable['scheme'];
    logicalVolume?: LogicalVolume;
    vgUuid?: string;
  }) {
    this.name = init.name;
    this.kind = init.kind;
    this.dev = init.dev;
    if (init.parent !== undefined) this.parent = init.parent;
    if (init.partition) this.partition = init.partition;
    if (init.scheme) this.scheme = init.scheme;
    if (init.logicalVolume) this.logicalVolume = init.logicalVolume;
    if (init.vgUuid) this.vgUuid = init.vgUuid;
  }

  /** Size in bytes, as Linux exposes the device (blockdev --getsize64). */
  get size(): number {
    return this.dev.size;
  }

  /**
   * What the device holds, as `blkid -p` says (null: nothing recognised, or an LV that
   * cannot be read, such as a snapshot, which libguestfs would also list as "unknown" when
   * blkid fails on it).
   */
  probe(): ProbeResult | null {
    if (!this.probed) this.probed = { r: this.logicalVolume?.error ? null : probe(this.dev) };
    return this.probed.r;
  }

  get fsType(): string | undefined {
    return this.probe()?.type;
  }
  get uuid(): string | undefined {
    return this.probe()?.uuid;
  }
  get label(): string | undefined {
    return this.probe()?.label;
  }
  get partuuid(): string | undefined {
    return this.partition?.uuid;
  }
  get partlabel(): string | undefined {
    return this.partition?.name;
  }
  get vg(): string | undefined {
    return this.logicalVolume?.vg;
  }
  get lv(): string | undefined {
    return this.logicalVolume?.lv;
  }
  get lvUuid(): string | undefined {
    return this.logicalVolume?.uuid;
  }
  /** MBR partitions: the type byte (virt-filesystems' MBR column); undefined otherwise. */
  get mbrId(): number | undefined {
    return this.scheme === 'mbr' && this.partition ? parseInt(this.partition.type, 16) : undefined;
  }
}

/** An entry of list_filesystems: a device and its filesystem type ("unknown" when none). */
export interface FilesystemEntry {
  device: DeviceEntry;
  type: string;
  /**
   * btrfs subvolumes listed on their own (filesystems({ btrfsSubvolumes: true })): the path
   * from the top level. Open with openFilesystem(device.name, { options: `subvol=${path}` }).
   */
  subvolume?: string;
  /** The name libguestfs gives the mountable: the device, or btrfsvol:DEVICE/SUBVOLUME. */
  mountable: string;
}

/** `dev` seen with another logical sector size (reads and map unchanged). */
function withSectorSize(dev: BlockDevice, sectorSize: number): BlockDevice {
  if (sectorSize !== 512 && sectorSize !== 4096) {
    dev.close();
    throw new GuestkitError('USAGE', `--blocksize=${sectorSize}: the sector size must be 512 or 4096`);
  }
  return {
    size: dev.size,
    sectorSize,
    description: dev.description,
    pread: (buf, pos) => dev.pread(buf, pos),
    map: () => dev.map(),
    close: () => dev.close(),
  };
}

/** libguestfs's drive names: a..z, aa..az, ba... (bijective base 26, as Linux sd names disks). */
export function driveLetters(index: number): string {
  let s = '';
  let n = index + 1;
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(97 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

function driveIndex(letters: string): number {
  let n = 0;
  for (const c of letters) n = n * 26 + (c.charCodeAt(0) - 96);
  return n - 1;
}

/**
 * The disks of one guest. Open with DiskSet.open([{path, format?}...], options); close() when
 * done. All methods are synchronous; on-disk problems throw GuestkitError (CORRUPT, LOOP...).
 */
export class DiskSet implements GuestDisks {
  /** The whole disks, /dev/sda first, in -a order. */
  readonly disks: readonly DeviceEntry[];
  private tables = new Map<DeviceEntry, PartitionTable | null>();
  private parts = new Map<DeviceEntry, DeviceEntry[]>();
  private lvmScan?: { scan: LvmScan; lvs: DeviceEntry[] };
  private fsCache = new Map<string, Filesystem>();

  private constructor(disks: DeviceEntry[]) {
    this.disks = disks;
  }

  /** Open every image read-only (closing those already open if one fails). */
  static open(specs: readonly DiskSpec[], opts: OpenOptions = {}): DiskSet {
    if (specs.length === 0) throw new GuestkitError('USAGE', 'no disk image given (use -a IMAGE)');
    const disks: DeviceEntry[] = [];
    try {
      specs.forEach((s, i) => {
        let dev = openImage(s.path, { ...opts, format: s.format ?? opts.format });
        if (s.blocksize !== undefined && s.blocksize !== dev.sectorSize) dev = withSectorSize(dev, s.blocksize);
        disks.push(new DeviceEntry({ name: `/dev/sd${driveLetters(i)}`, kind: 'disk', dev }));
      });
    } catch (e) {
      for (const d of disks) d.dev.close();
      throw e;
    }
    return new DiskSet(disks);
  }

  /** The partition table of a disk (null: none), read on first use. */
  partitionTable(disk: DeviceEntry): PartitionTable | null {
    if (!this.tables.has(disk)) this.tables.set(disk, readPartitionTable(disk.dev));
    return this.tables.get(disk)!;
  }

  /** Partitions of one disk in number order. */
  partitionsOf(disk: DeviceEntry): DeviceEntry[] {
    let list = this.parts.get(disk);
    if (list) return list;
    const table = this.partitionTable(disk);
    list = (table?.partitions ?? []).map((p) => {
      const name = `${disk.name}${p.index}`;
      // Linux exposes an extended partition as a stub of 1 KiB (a sector on 4 KiB disks) so that
      // nothing writes over the EBRs (block/partitions/msdos.c).
      const size = p.kind === 'extended' ? Math.min(p.size, Math.max(table!.sectorSize, 1024)) : p.size;
      return new DeviceEntry({
        name,
        kind: 'partition',
        dev: new SliceDevice(disk.dev, p.start, size, name),
        parent: disk.name,
        partition: p,
        scheme: table!.scheme,
      });
    });
    this.parts.set(disk, list);
    return list;
  }

  /** All partitions of all disks, sorted as list_partitions sorts them (disk, then number). */
  partitions(): DeviceEntry[] {
    return this.disks.flatMap((d) => this.partitionsOf(d));
  }

  /** The LVM scan over every PV found on the disks and partitions (run on first use). */
  lvm(): LvmScan {
    return this.scanLvmOnce().scan;
  }

  /** Logical volumes as /dev/VG/LV devices, sorted by name as guestfs lvs sorts them. */
  lvs(): DeviceEntry[] {
    return this.scanLvmOnce().lvs;
  }

  private scanLvmOnce(): { scan: LvmScan; lvs: DeviceEntry[] } {
    if (this.lvmScan) return this.lvmScan;
    const candidates = [...this.unpartitionedDisks(), ...this.partitions()]
      .filter((d) => d.probe()?.type === 'LVM2_member')
      .map((d) => ({ name: d.name, dev: d.dev }));
    const scan = scanLvm(candidates);
    const vgUuid = new Map(scan.vgs.map((vg) => [vg.name, vg.uuid]));
    const lvs = [...scan.lvs]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(
        (lv) =>
          new DeviceEntry({ name: lv.name, kind: 'lv', dev: lv.dev, parent: `/dev/${lv.vg}`, logicalVolume: lv, vgUuid: vgUuid.get(lv.vg) }),
      );
    this.lvmScan = { scan, lvs };
    return this.lvmScan;
  }

  /** Disks with no partitions (no table, or an empty one): the whole disk may hold a filesystem. */
  private unpartitionedDisks(): DeviceEntry[] {
    return this.disks.filter((d) => this.partitionsOf(d).length === 0);
  }

  /** Every device in libguestfs order: whole disks, then partitions, then LVs. */
  devices(): DeviceEntry[] {
    return [...this.disks, ...this.partitions(), ...this.lvs()];
  }

  /**
   * guestfs list_filesystems: unpartitioned whole disks, then partitions (not MBR extended
   * ones, not LDM / Microsoft reserved / Windows snapshot partitions), then LVs, each with its
   * blkid type or "unknown". PVs (*_member) and LUKS containers are left out.
   */
  filesystems(opts: { btrfsSubvolumes?: boolean } = {}): FilesystemEntry[] {
    const out: FilesystemEntry[] = [];
    const check = (d: DeviceEntry) => {
      const t = d.probe()?.type ?? '';
      if (t === '') out.push({ device: d, type: 'unknown', mountable: d.name });
      else if (t.endsWith('_member') || t === 'crypto_LUKS' || t === 'BitLocker') return;
      else {
        out.push({ device: d, type: t, mountable: d.name });
        if (t === 'btrfs' && opts.btrfsSubvolumes) out.push(...this.btrfsSubvolumeEntries(d));
      }
    };
    for (const d of this.unpartitionedDisks()) check(d);
    for (const p of this.partitions()) {
      const part = p.partition!;
      if (part.kind === 'extended') continue;
      if (p.scheme === 'gpt' && GPT_TYPES_WITHOUT_FILESYSTEM.has(part.type)) continue;
      if (p.scheme === 'mbr' && parseInt(part.type, 16) === MBR_TYPE_LDM) continue;
      check(p);
    }
    for (const lv of this.lvs()) check(lv);
    return out;
  }

  /**
   * list_filesystems' btrfsvol:DEVICE/PATH entries of a btrfs device: every subvolume but the
   * default one (mounting the device gives that), in subvolume id order as `btrfs subvolume
   * list` prints them. None when the filesystem cannot be read.
   */
  private btrfsSubvolumeEntries(d: DeviceEntry): FilesystemEntry[] {
    let fs: Filesystem;
    try {
      fs = this.openFilesystem(d.name, { type: 'btrfs' });
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      return [];
    }
    const b = fs as Filesystem & { subvolumes?(): { id: number; path: string }[]; defaultSubvolId?: number };
    if (!b.subvolumes) return [];
    let vols: { id: number; path: string }[];
    try {
      vols = b.subvolumes();
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      return [];
    }
    // libguestfs runs `btrfs subvolume list` on a mount of the default subvolume, which names
    // the subvolumes below that one from it ("inner" for zstd/inner when zstd is the default);
    // such a name does not mount (subvol= starts at the top level), as with libguestfs.
    const top = vols.find((v) => v.id === b.defaultSubvolId)?.path;
    return [...vols]
      .sort((x, y) => x.id - y.id)
      .filter((v) => v.id !== b.defaultSubvolId)
      .map((v) => (top && v.path.startsWith(`${top}/`) ? v.path.slice(top.length + 1) : v.path))
      .map((path) => ({ device: d, type: 'btrfs', subvolume: path, mountable: `btrfsvol:${d.name}/${path}` }));
  }

  /**
   * Canonical name for any spelling libguestfs accepts: /dev/sdX[N], /dev/vdX[N], /dev/hdX[N],
   * /dev/xvdX[N] (all become /dev/sdX[N]), /dev/VG/LV, /dev/mapper/VG-LV ("--" stands for a
   * "-" inside a name). Null when there is no such device.
   */
  resolveDeviceName(name: string): string | null {
    return this.find(name)?.name ?? null;
  }

  /** The device a name refers to (any spelling resolveDeviceName accepts); throws NOT_FOUND. */
  resolve(name: string): DeviceEntry {
    const d = this.find(name);
    if (d) return d;
    throw new GuestkitError('NOT_FOUND', `${name}: no such device (devices here: ${this.describeDevices()})`);
  }

  private describeDevices(): string {
    const names: string[] = [];
    for (const d of this.disks) {
      names.push(d.name);
      try {
        for (const p of this.partitionsOf(d)) names.push(p.name);
      } catch {
        /* a corrupt table: list the disk alone */
      }
    }
    try {
      for (const lv of this.lvs()) names.push(lv.name);
    } catch {
      /* LVM metadata unreadable */
    }
    return names.length > 8 ? `${names.slice(0, 8).join(', ')}...` : names.join(', ');
  }

  private find(name: string): DeviceEntry | null {
    const m = /^\/dev\/(?!md)[a-ce-z]{1,2}d([a-z]+)(\d*)$/.exec(name);
    if (m) {
      const disk = this.disks[driveIndex(m[1])];
      if (!disk) return null;
      if (m[2] === '') return disk;
      if (/^0/.test(m[2])) return null;
      const n = Number(m[2]);
      return this.partitionsOf(disk).find((p) => p.partition!.index === n) ?? null;
    }
    let vg: string | undefined;
    let lv: string | undefined;
    const mapper = /^\/dev\/mapper\/(.+)$/.exec(name);
    if (mapper) {
      // dm names: "-" inside VG and LV names is doubled; the single "-" separates them.
      const split = /^((?:[^-]|--)+)-((?:[^-]|--)+)$/.exec(mapper[1]);
      if (!split) return null;
      vg = split[1].replace(/--/g, '-');
      lv = split[2].replace(/--/g, '-');
    } else {
      const two = /^\/dev\/([^/]+)\/([^/]+)$/.exec(name);
      if (!two) return null;
      [vg, lv] = [two[1], two[2]];
    }
    return this.lvs().find((d) => d.vg === vg && d.lv === lv) ?? null;
  }

  /**
   * Open the filesystem on a device (any accepted spelling), of the probed type unless
   * opts.type forces one. The same object is returned for the same device, type and options.
   */
  openFilesystem(device: string, opts: OpenFsOptions = {}): Filesystem {
    const d = this.resolve(device);
    const type = opts.type ?? d.probe()?.type;
    if (!type) throw new GuestkitError('UNKNOWN_FORMAT', `${d.name}: no filesystem found on the device`);
    const key = `${d.name}\0${type}\0${opts.options ?? ''}`;
    let fs = this.fsCache.get(key);
    if (!fs) {
      const fsOpts: FsOpenOptions = opts.options === undefined ? {} : { options: opts.options };
      // A multi-device btrfs: the reader gets every other device with the same fsid (as the
      // appliance's `btrfs device scan` registers them) and keeps them by devid.
      if (type === 'btrfs') {
        const others = this.btrfsMembers(d).filter((m) => m !== d);
        if (others.length) fsOpts.devices = others.map((m) => m.dev);
      }
      fs = openFs(d.dev, type, fsOpts);
      this.fsCache.set(key, fs);
    }
    return fs;
  }

  /**
   * The devices that hold the btrfs filesystem `d` belongs to (same fsid, the blkid UUID), in
   * device order, `d` included; just `d` when it is not btrfs. Devices that cannot be listed
   * (a corrupt partition table, unreadable LVM metadata) are passed over.
   */
  btrfsMembers(d: DeviceEntry): DeviceEntry[] {
    const fsid = d.fsType === 'btrfs' ? d.uuid : undefined;
    if (!fsid) return [d];
    const candidates: DeviceEntry[] = [];
    for (const disk of this.disks) {
      try {
        const parts = this.partitionsOf(disk);
        candidates.push(...(parts.length ? parts : [disk]));
      } catch (e) {
        if (!(e instanceof GuestkitError)) throw e;
      }
    }
    try {
      candidates.push(...this.lvs());
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
    }
    const same = (c: DeviceEntry) => {
      try {
        return c.fsType === 'btrfs' && c.uuid === fsid;
      } catch (e) {
        if (!(e instanceof GuestkitError)) throw e;
        return false;
      }
    };
    const out = candidates.filter((c) => c === d || same(c));
    return out.includes(d) ? out : [d, ...out];
  }

  /** Release the image files. Idempotent. */
  close(): void {
    for (const d of this.disks) d.dev.close();
  }
}

// FAT12/16/32 with VFAT long names, read-only (Microsoft "FAT: General Overview of On-Disk
// Format" v1.03), presented as Linux's vfat driver presents it in libguestfs's appliance.
//
// Inode numbers: FAT has none. The root is 1 (Linux's MSDOS_ROOT_INO); every other file is
// numbered by the byte offset of its short directory entry on the device divided by 32. That
// is unique, stable across opens and runs, and lets stat() find the entry again from the
// number alone (the same idea as Linux's i_pos). Linux itself shows arbitrary numbers.
//
// What Linux shows (fs/fat/inode.c, namei_vfat.c; mount with no options, umask 022 as in the
// appliance): owner 0:0; mode 0777 & ~umask for files and directories, without the write bits
// when the read-only attribute is set (files only); directory nlink = its subdirectories + 2;
// directory size = its clusters; mtime and ctime = the write time (2 s), atime = the access
// date at 00:00, crtime = creation time with 10-ms units; times in UTC; the root's times are 0.
// statfs: f_bsize = cluster size, f_blocks = data clusters, f_bfree = free clusters counted
// from the FAT (the FSInfo hint only with the "usefree" option), no inode counts.
// Mount options understood: uid=, gid=, umask=, fmask=, dmask=, usefree.

import type { BlockDevice } from '../../block/device.js';
import { readExact } from '../../block/device.js';
import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import type { DirEntry, Filesystem, Stat, StatFs, Timespec } from '../vfs.js';
import { S_IFDIR, S_IFREG } from '../vfs.js';
import { readBpb, labelText, formatVolId, type Bpb, type FatType } from './bpb.js';
import { FatTable, FIRST_CLUSTER } from './fat-table.js';
import { readFsInfo, type FsInfo } from './fsinfo.js';
import {
  ATTR_DIRECTORY, ATTR_LONG_NAME, ATTR_READ_ONLY, ATTR_VOLUME_ID, DIR_ENTRY_SIZE, DIR_FREE,
  DIR_FREE_LAST, LongNameAssembler, fatTimeToUnix, firstCluster, isDotEntry, parseLongNameSlot,
  parseShortEntry, shortNameText, type ShortEntry,
} from './dirent.js';

export { readBpb, parseBpb, type Bpb, type FatType } from './bpb.js';
export { FatTable } from './fat-table.js';

/** Root inode number (Linux MSDOS_ROOT_INO). */
export const FAT_ROOT_INO = 1;
/** statfs f_namelen of a vfat mount: FAT_LFN_LEN (255) * NLS_MAX_CHARSET_SIZE (6). */
export const FAT_NAME_MAX = 255 * 6;
/** Nodes (files and directories met by lookup/readdir) kept in memory. */
export const FAT_NODE_CACHE = 65536;
/** Directory listings kept for lookups. */
export const FAT_DIR_CACHE = 64;

export interface FatOpenOptions {
  /** Mount options as -m gives them: uid=, gid=, umask=, fmask=, dmask=, usefree. */
  options?: string;
}

interface Run {
  /** Index of the run's first cluster within the file. */
  index: number;
  cluster: number;
  count: number;
}

interface Node {
  ino: number;
  /** For messages: the name it was found under, or "inode N". */
  name: string;
  /** The directory it was found in; -1 when it was reopened from its number alone. */
  parent: number;
  attr: number;
  first: number;
  /** DIR_FileSize (files). */
  fileSize: number;
  entry?: ShortEntry;
  runs?: Run[];
  /** Clusters in `runs`; for a file, less than needed when the chain ends early. */
  chainClusters?: number;
  nlink?: number;
}

interface Listed {
  name: string;
  shortName: string;
  node: Node;
}

interface MountOptions {
  uid: number;
  gid: number;
  fmask: number;
  dmask: number;
  usefree: boolean;
}

function parseOptions(opts: string | undefined, what: string): MountOptions {
  const o: MountOptions = { uid: 0, gid: 0, fmask: 0o022, dmask: 0o022, usefree: false };
  for (const part of (opts ?? '').split(',')) {
    if (!part) continue;
    const [k, v] = part.split('=', 2);
    const num = (base: number) => {
      const n = v !== undefined && /^[0-9a-fA-F]+$/.test(v) ? parseInt(v, base) : NaN;
      if (!Number.isSafeInteger(n)) throw new GuestkitError('USAGE', `${what}: bad value for mount option ${k}: ${v ?? '(none)'}`);
      return n;
    };
    switch (k) {
      case 'uid': o.uid = num(10); break;
      case 'gid': o.gid = num(10); break;
      case 'umask': o.fmask = o.dmask = num(8) & 0o777; break;
      case 'fmask': o.fmask = num(8) & 0o777; break;
      case 'dmask': o.dmask = num(8) & 0o777; break;
      case 'usefree': o.usefree = true; break;
      default: break; // ro, noatime, shortname=..., utf8, iocharset=...: nothing to do read-only
    }
  }
  return o;
}

const asciiFold = (s: string) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

export class FatFilesystem implements Filesystem {
  readonly type = 'vfat';
  readonly rootIno = FAT_ROOT_INO;
  readonly label?: string;
  readonly uuid?: string;
  readonly warnings: string[] = [];
  readonly bpb: Bpb;
  readonly fat: FatTable;
  readonly fatType: FatType;
  readonly clusterSize: number;
  /** FSInfo contents (FAT32), or null when absent or invalid. */
  readonly fsInfo: FsInfo | null;
  private readonly what: string;
  private readonly opts: MountOptions;
  private readonly dataStart: number;
  private readonly rootRegion?: { start: number; bytes: number };
  private readonly nodes = new Map<number, Node>();
  private readonly dirCache = new Map<number, Listed[]>();
  /** Folded long and 8.3 names → first entry with that name, per cached listing (lookup). */
  private readonly nameIndex = new WeakMap<Listed[], Map<string, Listed>>();
  private readonly root: Node;
  private statfsCache?: StatFs;

  constructor(readonly device: BlockDevice, options: FatOpenOptions = {}) {
    this.what = `FAT filesystem on ${device.description}`;
    this.opts = parseOptions(options.options, this.what);
    this.bpb = readBpb(device);
    this.fatType = this.bpb.fatType;
    this.clusterSize = this.bpb.clusterSize;
    this.fat = new FatTable(device, this.bpb, `FAT${this.fatType} on ${device.description}`);
    this.dataStart = this.bpb.firstDataSector * this.bpb.bytsPerSec;
    const fsi = readFsInfo(device, this.bpb);
    this.fsInfo = fsi.info;
    if (this.bpb.dirty) this.warnings.push(`${this.what}: the volume was not properly unmounted; some data may be corrupt`);

    this.root = { ino: FAT_ROOT_INO, name: '/', parent: FAT_ROOT_INO, attr: ATTR_DIRECTORY, first: 0, fileSize: 0 };
    if (this.fatType === 32) {
      const rc = this.bpb.rootClus;
      if (rc < FIRST_CLUSTER || rc >= this.fat.maxCluster) {
        throw new GuestkitError('CORRUPT', `${this.what}: BPB_RootClus ${rc} is outside the data area`);
      }
      this.root.first = rc;
    } else {
      this.rootRegion = {
        start: (this.bpb.rsvdSecCnt + this.bpb.numFats * this.bpb.fatSz) * this.bpb.bytsPerSec,
        bytes: this.bpb.rootEntCnt * DIR_ENTRY_SIZE,
      };
    }
    this.nodes.set(FAT_ROOT_INO, this.root);

    // Label and UUID as blkid gives them: the root directory's volume-label entry first, then
    // the boot sector's BS_VolLab; "NO NAME" means none.
    this.label = this.rootVolumeLabel() ?? this.bpb.volLab;
    if (this.bpb.volId !== undefined) this.uuid = formatVolId(this.bpb.volId);
  }

  // ---- clusters and chains -------------------------------------------------------------

  private clusterOffset(c: number): number {
    return this.dataStart + (c - FIRST_CLUSTER) * this.clusterSize;
  }

  private describe(n: Node): string {
    return n.ino === FAT_ROOT_INO ? 'the root directory' : `"${n.name}" (inode ${n.ino})`;
  }

  private isDir(n: Node): boolean {
    return (n.attr & ATTR_DIRECTORY) !== 0;
  }

  /** The cluster runs of a node: a directory's whole chain, a file's as far as its size needs. */
  private runs(n: Node): Run[] {
    if (n.runs) return n.runs;
    const runs: Run[] = [];
    let total = 0;
    if (n.first !== 0) {
      const need = this.isDir(n) ? Infinity : Math.ceil(n.fileSize / this.clusterSize);
      if (need > 0) {
        this.fat.walk(n.first, this.describe(n), (cluster, count) => {
          const take = Math.min(count, need - total);
          runs.push({ index: total, cluster, count: take });
          total += take;
        }, need);
      }
    } else if (this.isDir(n) && n !== this.root) {
      throw new GuestkitError('CORRUPT', `${this.what}: directory ${this.describe(n)} has no clusters`);
    }
    n.runs = runs;
    n.chainClusters = total;
    return runs;
  }

  /** Read `len` bytes at byte `pos` of the node's cluster chain into `buf` at `bufOff`. */
  private readChain(n: Node, buf: Uint8Array, bufOff: number, pos: number, len: number): void {
    const runs = this.runs(n);
    const cs = this.clusterSize;
    while (len > 0) {
      const ci = Math.floor(pos / cs);
      // Binary search for the run holding cluster index ci.
      let lo = 0;
      let hi = runs.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (runs[mid].index <= ci) lo = mid;
        else hi = mid - 1;
      }
      const r = runs[lo];
      if (!r || ci >= r.index + r.count) {
        throw new GuestkitError(
          'CORRUPT',
          `${this.what}: cluster chain of ${this.describe(n)} ends after ${n.chainClusters} clusters, but its size needs ${Math.ceil(n.fileSize / cs)}`,
        );
      }
      const inRun = pos - r.index * cs;
      const avail = r.count * cs - inRun;
      const take = Math.min(len, avail);
      const devPos = this.clusterOffset(r.cluster) + inRun;
      if (devPos + take > this.device.size) {
        throw new GuestkitError(
          'CORRUPT',
          `${this.what}: ${this.describe(n)}: cluster ${r.cluster + Math.floor(inRun / cs)} is past the end of ${this.device.description} (${this.device.size} bytes)`,
        );
      }
      const view = buf.subarray(bufOff, bufOff + take);
      if (this.device.pread(view, devPos) !== take) {
        throw new GuestkitError('CORRUPT', `${this.what}: ${this.describe(n)}: short read at ${devPos}`);
      }
      bufOff += take;
      pos += take;
      len -= take;
    }
  }

  // ---- directories ---------------------------------------------------------------------

  /** Bytes of directory data: the fixed root region (FAT12/16) or the chain's clusters. */
  private dirBytes(n: Node): number {
    if (n === this.root && this.rootRegion) return this.rootRegion.bytes;
    this.runs(n);
    return n.chainClusters! * this.clusterSize;
  }

  /** The directory's 32-byte slots, a cluster (or 64 KiB of the root region) at a time. */
  private *slots(n: Node): Generator<{ b: Bytes; off: number; pos: number }> {
    const total = this.dirBytes(n);
    const chunk = this.rootRegion && n === this.root ? Math.min(65536, total) : this.clusterSize;
    for (let at = 0; at < total; at += chunk) {
      const len = Math.min(chunk, total - at);
      let buf: Uint8Array;
      let base: number;
      if (this.rootRegion && n === this.root) {
        base = this.rootRegion.start + at;
        buf = readExact(this.device, base, len, `${this.what}: root directory`);
      } else {
        buf = new Uint8Array(len);
        this.readChain(n, buf, 0, at, len);
        base = this.clusterOffset(this.clusterAt(n, at));
      }
      const b = new Bytes(buf, `${this.what}: directory ${this.describe(n)}`);
      for (let off = 0; off + DIR_ENTRY_SIZE <= len; off += DIR_ENTRY_SIZE) yield { b, off, pos: base + off };
    }
  }

  private clusterAt(n: Node, pos: number): number {
    const ci = Math.floor(pos / this.clusterSize);
    for (const r of this.runs(n)) if (ci < r.index + r.count) return r.cluster + (ci - r.index);
    throw new GuestkitError('CORRUPT', `${this.what}: ${this.describe(n)}: no cluster at byte ${pos}`);
  }

  /**
   * The entries of a directory as Linux's __fat_readdir sees them: free (0x00 and 0xE5) slots
   * are skipped, not taken as the end; volume labels and "."/".." are not listed; a long name
   * is used when its slots are complete and match the short entry's checksum.
   */
  private *entries(n: Node): Generator<Listed> {
    const asm = new LongNameAssembler();
    let count = 0;
    for (const { b, off, pos } of this.slots(n)) {
      const first = b.u8(off);
      const attr = b.u8(off + 11);
      if (first === DIR_FREE || (attr !== ATTR_LONG_NAME && first === DIR_FREE_LAST)) {
        asm.reset();
        continue;
      }
      if (attr === ATTR_LONG_NAME) {
        asm.add(parseLongNameSlot(b, off));
        continue;
      }
      const e = parseShortEntry(b, off);
      if (attr & ATTR_VOLUME_ID || isDotEntry(e.name)) {
        asm.reset();
        continue;
      }
      const longName = asm.finish(e.name);
      const shortName = shortNameText(e.name, e.ntRes);
      if (++count > LIMITS.maxDirEntries) {
        throw new GuestkitError('LIMIT', `${this.what}: directory ${this.describe(n)} has more than ${LIMITS.maxDirEntries} entries`);
      }
      const ino = pos / DIR_ENTRY_SIZE;
      const name = longName ?? shortName;
      const node: Node = {
        ino,
        name: n === this.root ? name : `${n.name}/${name}`,
        parent: n.ino,
        attr: e.attr,
        first: firstCluster(e, this.fatType === 32),
        fileSize: e.fileSize,
        entry: e,
      };
      yield { name, shortName, node };
    }
  }

  private listing(n: Node): Listed[] {
    let l = this.dirCache.get(n.ino);
    if (l) {
      this.dirCache.delete(n.ino);
      this.dirCache.set(n.ino, l);
      return l;
    }
    l = [...this.entries(n)];
    if (this.dirCache.size >= FAT_DIR_CACHE) this.dirCache.delete(this.dirCache.keys().next().value!);
    this.dirCache.set(n.ino, l);
    return l;
  }

  private remember(node: Node): Node {
    const have = this.nodes.get(node.ino);
    if (have) return have;
    if (this.nodes.size >= FAT_NODE_CACHE) {
      for (const k of this.nodes.keys()) {
        if (k !== FAT_ROOT_INO) {
          this.nodes.delete(k);
          break;
        }
      }
    }
    this.nodes.set(node.ino, node);
    return node;
  }

  /** The volume-label entry of the root directory, as blkid finds it (stops at a 0x00 slot). */
  private rootVolumeLabel(): string | undefined {
    try {
      for (const { b, off } of this.slots(this.root)) {
        const first = b.u8(off);
        if (first === DIR_FREE_LAST) return undefined;
        if (first === DIR_FREE) continue;
        const attr = b.u8(off + 11);
        if (attr !== ATTR_LONG_NAME && (attr & (ATTR_VOLUME_ID | ATTR_DIRECTORY)) === ATTR_VOLUME_ID) {
          return labelText(b.raw(off, 11));
        }
      }
    } catch (e) {
      if (e instanceof GuestkitError) {
        this.warnings.push(`${this.what}: volume label not read: ${e.message}`);
        return undefined;
      }
      throw e;
    }
    return undefined;
  }

  // ---- nodes ---------------------------------------------------------------------------

  private node(ino: number): Node {
    const have = this.nodes.get(ino);
    if (have) return have;
    // Not met yet (or evicted): the number is the entry's position (see the header comment).
    const pos = ino * DIR_ENTRY_SIZE;
    const inRoot = this.rootRegion && pos >= this.rootRegion.start && pos < this.rootRegion.start + this.rootRegion.bytes;
    const inData = pos >= this.dataStart && pos < this.clusterOffset(this.fat.maxCluster);
    const notFound = () => new GuestkitError('NOT_FOUND', `${this.what}: no inode ${ino}`);
    if (!Number.isSafeInteger(ino) || ino <= FAT_ROOT_INO || (!inRoot && !inData) || pos + DIR_ENTRY_SIZE > this.device.size) {
      throw notFound();
    }
    const b = new Bytes(readExact(this.device, pos, DIR_ENTRY_SIZE, `${this.what}: directory entry of inode ${ino}`), `${this.what}: directory entry of inode ${ino}`);
    const e = parseShortEntry(b, 0);
    if (e.name[0] === DIR_FREE || e.name[0] === DIR_FREE_LAST || e.attr === ATTR_LONG_NAME || e.attr & ATTR_VOLUME_ID || isDotEntry(e.name)) {
      throw notFound();
    }
    return this.remember({
      ino,
      name: `inode ${ino}`,
      parent: -1,
      attr: e.attr,
      first: firstCluster(e, this.fatType === 32),
      fileSize: e.fileSize,
      entry: e,
    });
  }

  private dirNode(ino: number): Node {
    const n = this.node(ino);
    if (!this.isDir(n)) throw new GuestkitError('NOT_DIR', `${this.what}: ${this.describe(n)} is not a directory`);
    return n;
  }

  /** Linux fat_subdirs(): entries with the directory bit, "." and ".." included; root + 2. */
  private nlink(n: Node): number {
    if (n.nlink !== undefined) return n.nlink;
    let count = 0;
    for (const { b, off } of this.slots(n)) {
      const first = b.u8(off);
      const attr = b.u8(off + 11);
      if (first === DIR_FREE || first === DIR_FREE_LAST || attr & ATTR_VOLUME_ID) continue;
      if (attr & ATTR_DIRECTORY) count++;
    }
    n.nlink = n === this.root ? count + 2 : count;
    return n.nlink;
  }

  // ---- Filesystem ----------------------------------------------------------------------

  stat(ino: number): Stat {
    const n = this.node(ino);
    const dir = this.isDir(n);
    const size = dir ? this.dirBytes(n) : n.fileSize;
    let mode: number;
    if (dir) {
      mode = S_IFDIR | (0o777 & ~this.opts.dmask);
    } else {
      let perm = 0o777;
      if (n.attr & ATTR_READ_ONLY) perm &= ~0o222;
      mode = S_IFREG | (perm & ~this.opts.fmask);
    }
    const cs = this.clusterSize;
    const zero: Timespec = { sec: 0, nsec: 0 };
    const e = n.entry;
    const mtime = e ? fatTimeToUnix(e.wrtTime, e.wrtDate) : zero;
    return {
      ino: n.ino,
      mode,
      nlink: dir ? this.nlink(n) : 1,
      uid: this.opts.uid,
      gid: this.opts.gid,
      size,
      blocks: (Math.ceil(size / cs) * cs) / 512,
      blksize: cs,
      rdev: 0,
      atime: e ? fatTimeToUnix(0, e.lstAccDate) : zero,
      mtime,
      ctime: { ...mtime },
      crtime: e ? fatTimeToUnix(e.crtTime, e.crtDate, e.crtTimeTenth) : zero,
    };
  }

  lookup(dirIno: number, name: string): number | null {
    const d = this.dirNode(dirIno);
    if (name === '.') return d.ino;
    if (name === '..') {
      if (d.parent < 0) throw new GuestkitError('UNSUPPORTED', `${this.what}: the parent of ${this.describe(d)} is not known (look it up by path)`);
      return d.parent;
    }
    // vfat ignores trailing dots and compares case-insensitively (ASCII letters, as with the
    // default iocharset), against the long name and the 8.3 alias alike; first match wins.
    const want = asciiFold(name.replace(/\.+$/, ''));
    if (!want) return null;
    // A name index per cached listing: a linear scan per lookup made walking a large (or
    // hostile, garbage-filled) directory quadratic (issue 7 bit-flip campaign, fat16).
    const listing = this.listing(d);
    let index = this.nameIndex.get(listing);
    if (!index) {
      index = new Map();
      for (const l of listing) {
        for (const k of [asciiFold(l.name), asciiFold(l.shortName)]) if (!index.has(k)) index.set(k, l);
      }
      this.nameIndex.set(listing, index);
    }
    const l = index.get(want);
    return l ? this.remember(l.node).ino : null;
  }

  *readdir(dirIno: number): Iterable<DirEntry> {
    const d = this.dirNode(dirIno);
    const cached = this.dirCache.get(d.ino);
    for (const l of cached ?? this.entries(d)) {
      const node = this.remember(l.node);
      yield { name: l.name, ino: node.ino, type: this.isDir(node) ? 'dir' : 'file' };
    }
  }

  readlink(ino: number): string {
    const n = this.node(ino);
    throw new GuestkitError('UNSUPPORTED', `${this.what}: ${this.describe(n)} is not a symbolic link (FAT has none)`);
  }

  read(ino: number, buf: Uint8Array, pos: number): number {
    const n = this.node(ino);
    if (this.isDir(n)) throw new GuestkitError('IS_DIR', `${this.what}: ${this.describe(n)} is a directory`);
    if (!Number.isSafeInteger(pos) || pos < 0) throw new GuestkitError('USAGE', `read at invalid position ${pos}`);
    if (pos >= n.fileSize || buf.length === 0) return 0;
    const len = Math.min(buf.length, n.fileSize - pos);
    if (n.first === 0) {
      throw new GuestkitError('CORRUPT', `${this.what}: ${this.describe(n)} has size ${n.fileSize} but no clusters`);
    }
    this.readChain(n, buf, 0, pos, len);
    return len;
  }

  statfs(): StatFs {
    if (this.statfsCache) return { ...this.statfsCache };
    const blocks = this.fat.clusterCount;
    let free: number | undefined;
    if (this.opts.usefree && this.fsInfo?.freeCount !== undefined && this.fsInfo.freeCount <= blocks) {
      free = this.fsInfo.freeCount;
    }
    free ??= this.fat.countFree();
    this.statfsCache = {
      bsize: this.clusterSize,
      frsize: this.clusterSize,
      blocks,
      bfree: free,
      bavail: free,
      files: 0,
      ffree: 0,
      favail: 0,
      namemax: FAT_NAME_MAX,
    };
    return { ...this.statfsCache };
  }

  listxattr(ino: number): string[] {
    this.node(ino);
    return [];
  }

  getxattr(ino: number, _name: string): Uint8Array | null {
    this.node(ino);
    return null;
  }
}

/** Open a FAT12/16/32 filesystem on `dev`. */
export function openFat(dev: BlockDevice, opts: FatOpenOptions = {}): FatFilesystem {
  return new FatFilesystem(dev, opts);
}

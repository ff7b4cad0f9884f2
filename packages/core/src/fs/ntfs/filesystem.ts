// The NTFS reader behind the Filesystem interface. Presentation follows ntfs-3g mounted the way
// libguestfs mounts it (no permissions option, streams_interface=xattr): every file 0777 and
// owned by root, inode numbers = MFT entry indexes, metadata files ($MFT...) hidden from
// listings, DOS names not listed, junctions and symbolic links shown as links with ntfs-3g's
// target translation, Interix special files decoded, named streams as user.* xattrs.
// Beyond ntfs-3g: lookup() falls back to a case-insensitive match ($UpCase) when no name matches
// exactly, and resolves "NAME:STREAM" to a named data stream; reparse points of other tags are
// shown as plain files or folders, with a note from extraInfo().

import type { BlockDevice } from '../../block/device.js';
import { readExact } from '../../block/device.js';
import { GuestkitError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { warn } from '../../warn.js';
import {
  S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK,
  type DirEntry, type FileType, type Filesystem, type Stat, type StatFs,
} from '../vfs.js';
import { AT } from './attribute.js';
import { bitIsSet, countFreeBits } from './bitmap.js';
import { formatSerial, parseBootSector, type BootSector } from './boot-sector.js';
import { DataStream, type NtfsVolumeContext } from './data-stream.js';
import { FileEntry, loadFileEntry } from './file-entry.js';
import { FILE_NAME_DOS, parseFileNameKey, type FileNameKey } from './file-name.js';
import { parseIndexRecord, parseIndexRoot, INDEX_VALUE_IS_LAST, type IndexValue } from './index-node.js';
import { INTX_DEVICE_SIZE, INTX_MAX_SIZE, interixDevice, interixKind, interixTarget, makedev } from './interix.js';
import { Mft } from './mft.js';
import { BoundedCache } from '../../util/bounded-cache.js';
import {
  IO_REPARSE_TAG_AF_UNIX, IO_REPARSE_TAG_LX_BLK, IO_REPARSE_TAG_LX_CHR, IO_REPARSE_TAG_LX_FIFO,
  IO_REPARSE_TAG_LX_SYMLINK, IO_REPARSE_TAG_MOUNT_POINT, IO_REPARSE_TAG_SYMLINK, IO_REPARSE_TAG_WOF,
  SYMLINK_FLAG_RELATIVE, parseLinkReparseData, parseLxSymlink, parseReparsePoint, reparseTagName,
  type ReparsePoint,
} from './reparse-point.js';
import { FILE_ATTRIBUTE, SI_ACCESS_TIME, SI_CREATION_TIME, SI_ENTRY_MODIFICATION_TIME, SI_MODIFICATION_TIME, type StandardInformation } from './standard-information.js';
import { ntfsTimespecAt } from './time.js';
import { UpCase } from './upcase.js';
import { VOLUME_IS_DIRTY, parseVolumeInformation, parseVolumeName } from './volume.js';

/** Fixed MFT entries, libfsntfs §4.1. */
export const FILE_MFT = 0;
export const FILE_VOLUME = 3;
export const FILE_ROOT = 5;
export const FILE_BITMAP = 6;
export const FILE_UPCASE = 10;
export const FILE_FIRST_USER = 16;
/** Inode numbers of named streams ("file:stream") start above every 48-bit MFT reference. */
export const STREAM_INO_BASE = 2 ** 48;
/** Longest NTFS name, in UTF-16 code units. */
export const NTFS_MAX_NAME_LEN = 255;
const FILE_CACHE = 1024;
const KIND_CACHE = 8192;
const STREAM_CACHE = 64;
/** $Bitmap is read in pieces of this size to count free clusters. */
const BITMAP_CHUNK = 1024 * 1024;
/** A directory walk reads the $I30 $INDEX_ALLOCATION in one piece up to this size. */
const WHOLE_INDEX_MAX = 16 * 1024 * 1024;
/** ntfs-3g's target for reparse points it cannot follow. */
const BAD_REPARSE = (tag: number) => `unsupported reparse tag 0x${tag.toString(16).padStart(8, '0')}`;
/** ntfs-3g's name for the folder where unresolved junction targets point. */
const MAPPING_DIR = '.NTFS-3G/';

export interface NtfsOptions {
  /** Mount options as -m gives them; understood: show_sys_files. */
  options?: string;
}

interface Kind {
  type: FileType;
  mode: number;
  size: number;
  blocks: number;
  rdev: number;
  target?: string;
  note?: string;
  /** user.* xattrs are offered (ntfs-3g: plain files and folders only). */
  xattrs: boolean;
}

export class NtfsFilesystem implements Filesystem {
  readonly type = 'ntfs';
  readonly device: BlockDevice;
  readonly rootIno = FILE_ROOT;
  readonly label?: string;
  readonly uuid: string;
  readonly warnings: string[] = [];
  readonly boot: BootSector;
  readonly mft: Mft;
  readonly version: string;
  readonly showSysFiles: boolean;
  readonly vol: NtfsVolumeContext;
  private upcaseTable?: UpCase;
  private readonly files = new BoundedCache<number, FileEntry>(FILE_CACHE);
  private readonly kinds = new BoundedCache<number, Kind>(KIND_CACHE);
  private readonly dataStreams = new BoundedCache<string, DataStream>(STREAM_CACHE);
  private readonly streamIds = new Map<string, number>();
  private readonly streamsById = new Map<number, { ino: number; name: string }>();
  private statfsCache?: StatFs;

  constructor(dev: BlockDevice, opts: NtfsOptions = {}) {
    this.device = dev;
    const opt = new Set((opts.options ?? '').split(',').map((s) => s.trim()).filter(Boolean));
    this.showSysFiles = opt.has('show_sys_files');
    this.boot = parseBootSector(readExact(dev, 0, 512, `NTFS boot sector of ${dev.description}`), `NTFS boot sector of ${dev.description}`);
    this.uuid = formatSerial(this.boot.serial);
    const volumeBytes = this.boot.clusterCount * this.boot.clusterSize;
    if (volumeBytes > dev.size) {
      this.note(`${dev.description}: the NTFS volume (${volumeBytes} bytes) is larger than the device (${dev.size} bytes); reads past the end will fail`);
    }
    this.vol = { dev, clusterSize: this.boot.clusterSize, clusterCount: this.boot.clusterCount };
    this.mft = new Mft(this.vol, this.boot);
    const volume = this.file(FILE_VOLUME);
    const name = volume.find(AT.VOLUME_NAME)[0];
    if (name?.resident) this.label = parseVolumeName(name.value);
    const info = volume.find(AT.VOLUME_INFORMATION)[0];
    if (info?.resident) {
      const vi = parseVolumeInformation(info.value);
      this.version = `${vi.majorVersion}.${vi.minorVersion}`;
      if (vi.flags & VOLUME_IS_DIRTY) this.note(`${dev.description}: the NTFS volume is marked dirty (not cleanly unmounted, or chkdsk is pending); reading it as it is`);
    } else {
      this.version = 'unknown';
    }
    const root = this.file(FILE_ROOT);
    if (!root.isDirectory) throw new GuestkitError('CORRUPT', `MFT entry ${FILE_ROOT} (root folder) is not a directory`);
  }

  private note(message: string): void {
    this.warnings.push(message);
    warn(message);
  }

  // ---------------------------------------------------------------- entries

  /** The file entry of MFT entry `ino` (cached). */
  file(ino: number): FileEntry {
    let f = this.files.get(ino);
    if (!f) {
      if (!Number.isSafeInteger(ino) || ino < 0 || ino >= STREAM_INO_BASE) {
        throw new GuestkitError('NOT_FOUND', `inode ${ino}: no such MFT entry`);
      }
      f = loadFileEntry(this.mft, this.vol, ino);
      this.files.set(ino, f);
    }
    return f;
  }

  private get upcase(): UpCase {
    if (!this.upcaseTable) {
      try {
        const s = this.file(FILE_UPCASE).stream(this.vol, AT.DATA);
        if (!s) throw new GuestkitError('CORRUPT', '$UpCase has no data');
        if (s.size !== 131072) this.note(`$UpCase is ${s.size} bytes (131,072 expected)`);
        this.upcaseTable = UpCase.fromBytes(s.readAll(LIMITS.maxMetadata));
      } catch (e) {
        if (!(e instanceof GuestkitError)) throw e;
        this.note(`${this.device.description}: ${e.message}; comparing names with a built-in upper-case table`);
        this.upcaseTable = UpCase.fallback();
      }
    }
    return this.upcaseTable;
  }

  private dataStream(ino: number, name: string): DataStream | null {
    const key = `${ino}:${name}`;
    let s = this.dataStreams.get(key);
    if (!s) {
      const f = this.file(ino);
      const found = f.stream(this.vol, AT.DATA, name);
      if (!found) return null;
      s = found;
      this.dataStreams.set(key, s);
    }
    return s;
  }

  private si(f: FileEntry): StandardInformation {
    if (!f.si) throw new GuestkitError('CORRUPT', `MFT entry ${f.index}: no $STANDARD_INFORMATION attribute`);
    return f.si;
  }

  private reparsePoint(f: FileEntry): ReparsePoint | null {
    const s = f.stream(this.vol, AT.REPARSE_POINT);
    if (!s) return null;
    return parseReparsePoint(s.readAll(16 * 1024), `MFT entry ${f.index}`);
  }

  // ---------------------------------------------------------------- kinds (ntfs-3g's getattr)

  private kind(ino: number): Kind {
    let k = this.kinds.get(ino);
    if (!k) {
      k = this.computeKind(this.file(ino));
      this.kinds.set(ino, k);
    }
    return k;
  }

  private computeKind(f: FileEntry): Kind {
    const flags = this.si(f).fileAttributes;
    if (flags & FILE_ATTRIBUTE.REPARSE_POINT) {
      const rp = this.reparsePoint(f);
      if (rp) {
        const k = this.reparseKind(f, rp);
        if (k) return k;
      }
    }
    if (f.isDirectory) return this.dirKind(f);
    // Size from the first $DATA extent's header (ntfs-3g: data size; allocated size, or the
    // total allocated size for compressed and sparse data).
    const first = f.find(AT.DATA)[0];
    const size = first ? first.dataSize : 0;
    const disk = first ? (first.resident ? (first.value.length + 7) & ~7 : first.compressedSize) : 0;
    const k: Kind = { type: 'file', mode: S_IFREG | 0o777, size, blocks: Math.floor((disk + 511) / 512), rdev: 0, xattrs: true };
    const data = flags & FILE_ATTRIBUTE.SYSTEM && first ? this.dataStream(f.index, '') : null;
    if (data) {
      if (f.index < FILE_FIRST_USER) {
        k.xattrs = false;
        return k;
      }
      // Interix special files (ntfs-3g: only with FILE_ATTRIBUTE_SYSTEM).
      if (!(flags & FILE_ATTRIBUTE.HIDDEN) && size <= 1) {
        return { ...k, type: size ? 'socket' : 'fifo', mode: (size ? S_IFSOCK : S_IFIFO) | 0o777, xattrs: false };
      }
      if (size > 8 && size <= INTX_MAX_SIZE) {
        const head = new Uint8Array(Math.min(size, 24));
        data.read(head, 0);
        const ix = interixKind(head, size);
        if (ix === 'symlink') {
          const all = new Uint8Array(size);
          data.read(all, 0);
          const target = interixTarget(all);
          return { ...k, type: 'symlink', mode: S_IFLNK | 0o777, size: Buffer.byteLength(target), target, xattrs: false };
        }
        if (ix && size === INTX_DEVICE_SIZE) {
          const d = interixDevice(head);
          const chr = ix === 'chardev';
          return { ...k, type: chr ? 'chardev' : 'blockdev', mode: (chr ? S_IFCHR : S_IFBLK) | 0o777, rdev: makedev(d.major, d.minor), xattrs: false };
        }
      }
    }
    return k;
  }

  private dirKind(f: FileEntry): Kind {
    // ntfs-3g: the size of a folder is the size of its $I30 index allocation (0 without one).
    const ia = f.find(AT.INDEX_ALLOCATION, '$I30')[0];
    const size = ia && !ia.resident ? ia.dataSize : 0;
    const blocks = ia && !ia.resident ? Math.floor(ia.allocatedSize / 512) : 0;
    return { type: 'dir', mode: S_IFDIR | 0o777, size, blocks, rdev: 0, xattrs: true };
  }

  /** Junctions, symbolic links and WSL special files; null for tags shown as plain entries. */
  private reparseKind(f: FileEntry, rp: ReparsePoint): Kind | null {
    const link = (target: string): Kind => {
      const data = f.find(AT.DATA)[0];
      const disk = data ? (data.resident ? (data.value.length + 7) & ~7 : data.compressedSize) : 0;
      return { type: 'symlink', mode: S_IFLNK | 0o777, size: Buffer.byteLength(target), blocks: Math.floor((disk + 511) / 512), rdev: 0, target, xattrs: false };
    };
    switch (rp.tag) {
      case IO_REPARSE_TAG_MOUNT_POINT:
      case IO_REPARSE_TAG_SYMLINK:
      case IO_REPARSE_TAG_LX_SYMLINK:
        return link(this.makeSymlink(f, rp) ?? BAD_REPARSE(rp.tag));
      case IO_REPARSE_TAG_AF_UNIX:
      case IO_REPARSE_TAG_LX_FIFO:
      case IO_REPARSE_TAG_LX_CHR:
      case IO_REPARSE_TAG_LX_BLK: {
        const flags = this.si(f).fileAttributes;
        if (!rp.valid || rp.data.length !== 0 || !(flags & FILE_ATTRIBUTE.RECALL_ON_OPEN)) return link(BAD_REPARSE(rp.tag));
        const mode = rp.tag === IO_REPARSE_TAG_AF_UNIX ? S_IFSOCK : rp.tag === IO_REPARSE_TAG_LX_FIFO ? S_IFIFO : rp.tag === IO_REPARSE_TAG_LX_CHR ? S_IFCHR : S_IFBLK;
        const type: FileType = mode === S_IFSOCK ? 'socket' : mode === S_IFIFO ? 'fifo' : mode === S_IFCHR ? 'chardev' : 'blockdev';
        // WSL keeps device numbers in an $EA named $LXDEV, which guestkit does not read (rdev 0).
        return { type, mode: mode | 0o777, size: 0, blocks: 0, rdev: 0, xattrs: false, note: mode === S_IFCHR || mode === S_IFBLK ? 'WSL device numbers ($LXDEV) not read' : undefined };
      }
      default: {
        const base = f.isDirectory ? this.dirKind(f) : null;
        const note = `reparse point ${reparseTagName(rp.tag)} (not followed)`;
        if (base) return { ...base, note, xattrs: false };
        const data = this.dataStream(f.index, '');
        return {
          type: 'file',
          mode: S_IFREG | 0o777,
          size: data?.size ?? 0,
          blocks: data ? Math.floor((data.diskSize + 511) / 512) : 0,
          rdev: 0,
          note,
          xattrs: false,
        };
      }
    }
  }

  // ---------------------------------------------------------------- symlink targets (ntfs-3g)

  /** ntfs-3g's ntfs_make_symlink with the mount point "": absolute targets start with "/". */
  private makeSymlink(f: FileEntry, rp: ReparsePoint): string | null {
    if (!rp.valid) return null;
    if (rp.tag === IO_REPARSE_TAG_LX_SYMLINK) return parseLxSymlink(rp);
    if (rp.tag === IO_REPARSE_TAG_MOUNT_POINT && !f.isDirectory) return null;
    const d = parseLinkReparseData(rp);
    if (!d) return null;
    const p = d.substituteName;
    if (rp.tag === IO_REPARSE_TAG_MOUNT_POINT) return this.fullLink(p, f.isDirectory);
    let kind: 'full' | 'abs' | 'rel';
    if (p[0] === '\\') kind = p[1] === '?' || p[1] === '\\' ? 'full' : 'abs';
    else kind = p[1] === ':' ? 'abs' : 'rel';
    const relative = (d.flags & SYMLINK_FLAG_RELATIVE) !== 0;
    if (kind === 'full') return relative ? null : this.fullLink(p, f.isDirectory);
    if (kind === 'abs') return relative ? this.absLink(p, f.isDirectory) : null;
    return relative ? this.relLink(f, p) : null;
  }

  /** "\??\C:\path" (directory junction) or "\??\Volume{...}\" (volume junction). */
  private fullLink(j: string, isdir: boolean): string | null {
    const count = j.length;
    let kind: 'dir' | 'vol' | 'none' = 'none';
    if (count >= 7 && j.startsWith('\\??\\') && j.charCodeAt(4) !== 0 && j[5] === ':' && j[6] === '\\') kind = 'dir';
    else if (count >= 12 && j.startsWith('\\??\\Volume{') && j[count - 1] === '\\') kind = 'vol';
    let full: string | null = null;
    if (kind === 'dir' && count > 7 && j.charCodeAt(7) !== 0 && !this.driveLetterDefined(j[4])) {
      const t = this.searchAbsolute(j.slice(7), isdir);
      if (t !== null) full = `/${t}`;
    }
    if ((kind === 'dir' && full === null) || kind === 'vol') {
      const t = this.mapped(j.slice(4, kind === 'vol' ? count - 1 : count));
      if (t) full = `/${MAPPING_DIR}${t}`;
    }
    return full;
  }

  /** "x:\path" or "\path" with the relative flag. */
  private absLink(j: string, isdir: boolean): string | null {
    const count = j.length;
    let kind: 'full' | 'abs' | 'rejected' = 'rejected';
    if (count >= 3 && j.charCodeAt(0) !== 0 && j[1] === ':' && j[2] === '\\') kind = 'full';
    else if (j[0] === '\\') kind = 'abs';
    let full: string | null = null;
    if ((kind === 'full' && count > 3 && j.charCodeAt(3) !== 0 && !this.driveLetterDefined(j[0])) || kind === 'abs') {
      const t = kind === 'abs' ? this.searchAbsolute(j.slice(1), isdir) : this.searchAbsolute(j.slice(3), isdir);
      if (t !== null) full = `/${t}`;
    }
    if (kind === 'full' && full === null) {
      const t = this.mapped(j);
      if (t) full = `/${MAPPING_DIR}${t}`;
    }
    return full;
  }

  /** Backslashes to slashes, drive letter upper-cased (ntfs-3g's .NTFS-3G mapping). */
  private mapped(s: string): string | null {
    if (!s) return null;
    let t = s.replace(/\\/g, '/');
    if (t[1] === ':' && t[0] >= 'a' && t[0] <= 'z') t = t[0].toUpperCase() + t.slice(1);
    return t;
  }

  /** ntfs-3g lets a user map a drive letter by creating /.NTFS-3G/X: on the volume. */
  private driveLetterDefined(letter: string): boolean {
    try {
      const dir = this.lookupExactOrFold(FILE_ROOT, '.NTFS-3G');
      return dir !== null && this.lookupExactOrFold(dir, `${letter.toUpperCase()}:`) !== null;
    } catch {
      return false;
    }
  }

  /** Translate a backslash path from the root, fixing the case of each component found. */
  private searchAbsolute(path: string, isdir: boolean): string | null {
    const count = path.length;
    const chars = path.split('');
    let ni: FileEntry | null = this.file(FILE_ROOT);
    let start = 0;
    let steps = 0;
    do {
      let len = 0;
      while (start + len < count && path[start + len] !== '\\') len++;
      const hit = ni!.isDirectory ? this.fixFileName(ni!.index, path.slice(start, start + len)) : null;
      ni = null;
      if (hit) {
        for (let i = 0; i < hit.name.length && i < len; i++) chars[start + i] = hit.name[i];
        ni = this.file(hit.ino);
        start += len;
        if (start < count) chars[start++] = '/';
      }
    } while (ni && ni.isDirectory && !this.isReparse(ni) && start < count && ++steps < LIMITS.maxSymlinks * 64);
    if (ni && ((ni.isDirectory ? isdir : !isdir) || this.isReparse(ni))) return chars.join('');
    return null;
  }

  /** Translate a relative backslash path from the link's folder (ntfs-3g's search_relative). */
  private relLink(f: FileEntry, path: string): string | null {
    const count = path.length;
    const chars = path.split('');
    let cur: FileEntry | null = this.parentOf(f);
    let pos = 0;
    let ok = true;
    let moreLinks = false;
    let max = 32;
    while (cur && ok && !moreLinks && pos < count - 1 && --max) {
      if (count >= pos + 2 && path[pos] === '.' && path[pos + 1] === '\\') {
        chars[pos + 1] = '/';
        pos += 2;
      } else if (count >= pos + 3 && path[pos] === '.' && path[pos + 1] === '.' && path[pos + 2] === '\\') {
        chars[pos + 2] = '/';
        pos += 3;
        cur = this.parentOf(cur);
        if (!cur) ok = false;
      } else {
        let lth = 0;
        while (pos + lth < count && path[pos + lth] !== '\\') lth++;
        const hit = lth > 0 && cur.isDirectory ? this.fixFileName(cur.index, path.slice(pos, pos + lth)) : null;
        if (!hit) ok = false;
        else {
          for (let i = 0; i < hit.name.length && i < lth; i++) chars[pos + i] = hit.name[i];
          cur = this.file(hit.ino);
          if (this.isReparse(cur)) moreLinks = true;
          if (pos + lth < count) {
            chars[pos + lth] = '/';
            pos += lth + 1;
          } else {
            pos += lth;
            if (!moreLinks && f.isDirectory !== cur.isDirectory) ok = false;
          }
        }
      }
    }
    return ok ? chars.join('') : null;
  }

  private parentOf(f: FileEntry): FileEntry | null {
    if (f.index === FILE_ROOT) return null;
    const fn = f.names[0];
    if (!fn) return null;
    try {
      return this.file(fn.parent);
    } catch {
      return null;
    }
  }

  private isReparse(f: FileEntry): boolean {
    return ((f.si?.fileAttributes ?? 0) & FILE_ATTRIBUTE.REPARSE_POINT) !== 0;
  }

  /** The first entry of `dir` equal to `name` ignoring case, with the directory's spelling. */
  private fixFileName(dir: number, name: string): { ino: number; name: string } | null {
    const hits = this.searchIndex(dir, name);
    return hits.length ? { ino: hits[0].value.entry, name: hits[0].name.name } : null;
  }

  // ---------------------------------------------------------------- directories ($I30)

  /**
   * The $I30 index of `dir`: its root and a reader of sub-nodes by VCN. With `whole` (a walk
   * that visits every node) the $INDEX_ALLOCATION is read in one piece when it is at most
   * WHOLE_INDEX_MAX bytes, and each node is parsed in place (once: the walk refuses a node
   * seen twice); otherwise each node is read on its own.
   */
  private indexOf(dir: FileEntry, whole = false) {
    const what = `MFT entry ${dir.index}: $I30 index`;
    const rootAttr = dir.find(AT.INDEX_ROOT, '$I30')[0];
    if (!rootAttr || !rootAttr.resident) throw new GuestkitError('CORRUPT', `${what}: no resident $INDEX_ROOT`);
    const root = parseIndexRoot(rootAttr.value, what);
    const cs = this.boot.clusterSize;
    // Index VCNs count clusters, or 512-byte blocks when an index entry is smaller than a cluster.
    const vcnSize = root.indexEntrySize >= cs ? cs : 512;
    let alloc: DataStream | null = null;
    let bitmap: Uint8Array | null = null;
    let all: Uint8Array | null = null;
    const node = (vcn: number): IndexValue[] => {
      if (!alloc) {
        alloc = dir.stream(this.vol, AT.INDEX_ALLOCATION, '$I30');
        if (!alloc) throw new GuestkitError('CORRUPT', `${what}: a sub-node at VCN ${vcn} but no $INDEX_ALLOCATION`);
        bitmap = dir.stream(this.vol, AT.BITMAP, '$I30')?.readAll(LIMITS.maxMetadata) ?? null;
        if (whole && alloc.size <= WHOLE_INDEX_MAX) all = alloc.readAll(WHOLE_INDEX_MAX);
      }
      const pos = vcn * vcnSize;
      const blockIndex = Math.floor(pos / root.indexEntrySize);
      if (pos % root.indexEntrySize !== 0) throw new GuestkitError('CORRUPT', `${what}: sub-node VCN ${vcn} is not on an index entry boundary`);
      if (bitmap && !bitIsSet(bitmap, blockIndex)) {
        throw new GuestkitError('CORRUPT', `${what}: sub-node VCN ${vcn} is marked free in the $I30 $BITMAP`);
      }
      if (pos + root.indexEntrySize > alloc.size) {
        throw new GuestkitError('CORRUPT', `${what}: sub-node VCN ${vcn} is past the end of the $INDEX_ALLOCATION (${alloc.size} bytes)`);
      }
      if (all) return parseIndexRecord(all.subarray(pos, pos + root.indexEntrySize), vcn, what);
      const buf = new Uint8Array(root.indexEntrySize);
      alloc.read(buf, pos);
      return parseIndexRecord(buf, vcn, what);
    };
    return { root, node, what };
  }

  /**
   * The values of the $I30 B-tree in order (the last-value markers left out); a node visited
   * twice is an index loop (CORRUPT). Gathered into one array by plain recursion: no generator
   * per tree level between each value and the caller.
   */
  private indexValues(dir: FileEntry): IndexValue[] {
    const { root, node, what } = this.indexOf(dir, true);
    const visited = new Set<number>();
    const out: IndexValue[] = [];
    const walk = (values: IndexValue[], depth: number): void => {
      for (const v of values) {
        if (v.subNodeVcn >= 0) {
          if (depth >= LIMITS.maxTreeDepth) throw new GuestkitError('CORRUPT', `${what}: deeper than ${LIMITS.maxTreeDepth} levels`);
          if (visited.has(v.subNodeVcn)) throw new GuestkitError('CORRUPT', `${what}: index loop (the node at VCN ${v.subNodeVcn} is reached twice)`);
          visited.add(v.subNodeVcn);
          walk(node(v.subNodeVcn), depth + 1);
        }
        if (!(v.flags & INDEX_VALUE_IS_LAST)) {
          if (out.length >= LIMITS.maxDirEntries * 3) throw new GuestkitError('LIMIT', `${what}: more than ${LIMITS.maxDirEntries * 3} index values`);
          out.push(v);
        }
      }
    };
    walk(root.values, 0);
    return out;
  }

  /** Entries of the $I30 index equal to `name` ignoring case, in index order. */
  private searchIndex(dirIno: number, name: string): { value: IndexValue; name: FileNameKey }[] {
    const dir = this.file(dirIno);
    if (!dir.isDirectory) return [];
    const { root, node, what } = this.indexOf(dir);
    const up = this.upcase;
    const hits: { value: IndexValue; name: FileNameKey }[] = [];
    const visited = new Set<number>();
    const search = (values: IndexValue[], depth: number): void => {
      const descend = (vcn: number) => {
        if (depth >= LIMITS.maxTreeDepth) throw new GuestkitError('CORRUPT', `${what}: deeper than ${LIMITS.maxTreeDepth} levels`);
        if (visited.has(vcn)) throw new GuestkitError('CORRUPT', `${what}: index loop (the node at VCN ${vcn} is reached twice)`);
        visited.add(vcn);
        search(node(vcn), depth + 1);
      };
      for (const v of values) {
        if (v.flags & INDEX_VALUE_IS_LAST) {
          if (v.subNodeVcn >= 0) descend(v.subNodeVcn);
          return;
        }
        const fn = parseFileNameKey(v.key, what);
        const c = up.collate(name, fn.name);
        if (c < 0) {
          if (v.subNodeVcn >= 0) descend(v.subNodeVcn);
          return;
        }
        if (c === 0) {
          if (v.subNodeVcn >= 0) descend(v.subNodeVcn);
          hits.push({ value: v, name: fn });
        }
      }
    };
    search(root.values, 0);
    return hits;
  }

  private lookupExactOrFold(dirIno: number, name: string): number | null {
    if (name.length === 0 || name.length > NTFS_MAX_NAME_LEN) return null;
    const hits = this.searchIndex(dirIno, name);
    if (hits.length === 0) return null;
    const exact = hits.find((h) => h.name.name === name);
    return (exact ?? hits[0]).value.entry;
  }

  // ---------------------------------------------------------------- Filesystem

  lookup(dirIno: number, name: string): number | null {
    if (dirIno >= STREAM_INO_BASE) throw new GuestkitError('NOT_DIR', `inode ${dirIno}: a named stream is not a directory`);
    const dir = this.file(dirIno);
    if (!dir.isDirectory || this.kind(dirIno).type !== 'dir') throw new GuestkitError('NOT_DIR', `MFT entry ${dirIno}: not a directory`);
    const ino = this.lookupExactOrFold(dirIno, name);
    if (ino !== null) return ino;
    // NAME:STREAM (and NAME:STREAM:$DATA, NAME::$DATA) names a data stream of NAME.
    const colon = name.indexOf(':');
    if (colon <= 0) return null;
    let stream = name.slice(colon + 1);
    if (stream.toUpperCase().endsWith(':$DATA')) stream = stream.slice(0, -6);
    if (stream.includes(':')) return null;
    const base = this.lookupExactOrFold(dirIno, name.slice(0, colon));
    if (base === null) return null;
    if (stream === '') return base;
    const f = this.file(base);
    const names = f.streamNames();
    const real = names.find((n) => n === stream) ?? names.find((n) => this.upcase.collate(n, stream) === 0);
    if (real === undefined) return null;
    const key = `${base}:${real}`;
    let id = this.streamIds.get(key);
    if (id === undefined) {
      id = STREAM_INO_BASE + this.streamIds.size + 1;
      this.streamIds.set(key, id);
      this.streamsById.set(id, { ino: base, name: real });
    }
    return id;
  }

  *readdir(dirIno: number): Iterable<DirEntry> {
    if (dirIno >= STREAM_INO_BASE) throw new GuestkitError('NOT_DIR', `inode ${dirIno}: a named stream is not a directory`);
    const dir = this.file(dirIno);
    if (!dir.isDirectory || this.kind(dirIno).type !== 'dir') throw new GuestkitError('NOT_DIR', `MFT entry ${dirIno}: not a directory`);
    const what = `MFT entry ${dirIno}: $I30 index`;
    let n = 0;
    for (const v of this.indexValues(dir)) {
      const fn = parseFileNameKey(v.key, what);
      if (fn.namespace === FILE_NAME_DOS) continue;
      if (v.entry === FILE_ROOT) continue; // the root's "." entry
      const metadata = v.entry < FILE_FIRST_USER;
      if (metadata && !this.showSysFiles) continue;
      if (++n > LIMITS.maxDirEntries) throw new GuestkitError('LIMIT', `${what}: more than ${LIMITS.maxDirEntries} entries`);
      let type: FileType;
      if (fn.fileAttributes & (FILE_ATTRIBUTE.REPARSE_POINT | FILE_ATTRIBUTE.SYSTEM) && !metadata) {
        type = this.kind(v.entry).type;
      } else {
        type = fn.fileAttributes & FILE_ATTRIBUTE.I30_INDEX_PRESENT ? 'dir' : 'file';
      }
      yield { name: fn.name, ino: v.entry, type };
    }
  }

  stat(ino: number): Stat {
    const stream = this.streamsById.get(ino);
    const f = this.file(stream ? stream.ino : ino);
    const si = this.si(f);
    const v = si.value;
    const blksize = Math.min(this.boot.clusterSize, 4096);
    if (stream) {
      const s = this.dataStream(stream.ino, stream.name)!;
      const alloc = s.resident ? (s.size + 7) & ~7 : s.allocatedSize;
      return {
        ino, mode: S_IFREG | 0o777, nlink: f.base.linkCount, uid: 0, gid: 0, size: s.size, blocks: Math.floor(alloc / 512), blksize, rdev: 0,
        atime: ntfsTimespecAt(v, SI_ACCESS_TIME), mtime: ntfsTimespecAt(v, SI_MODIFICATION_TIME),
        ctime: ntfsTimespecAt(v, SI_ENTRY_MODIFICATION_TIME), crtime: ntfsTimespecAt(v, SI_CREATION_TIME),
      };
    }
    const k = this.kind(ino);
    const nlink = k.type === 'dir' ? 1 : f.base.linkCount;
    return {
      ino, mode: k.mode, nlink, uid: 0, gid: 0, size: k.size, blocks: k.blocks, blksize, rdev: k.rdev,
      atime: ntfsTimespecAt(v, SI_ACCESS_TIME), mtime: ntfsTimespecAt(v, SI_MODIFICATION_TIME),
      ctime: ntfsTimespecAt(v, SI_ENTRY_MODIFICATION_TIME), crtime: ntfsTimespecAt(v, SI_CREATION_TIME),
    };
  }

  readlink(ino: number): string {
    if (this.streamsById.has(ino)) throw new GuestkitError('UNSUPPORTED', `inode ${ino}: not a symbolic link`);
    const k = this.kind(ino);
    if (k.type !== 'symlink' || k.target === undefined) throw new GuestkitError('UNSUPPORTED', `MFT entry ${ino}: not a symbolic link`);
    return k.target;
  }

  read(ino: number, buf: Uint8Array, pos: number): number {
    const stream = this.streamsById.get(ino);
    if (stream) return this.dataStream(stream.ino, stream.name)!.read(buf, pos);
    const k = this.kind(ino);
    if (k.type === 'dir') throw new GuestkitError('IS_DIR', `MFT entry ${ino}: is a directory`);
    const f = this.file(ino);
    if (this.isReparse(f) && k.type === 'file') {
      const rp = this.reparsePoint(f);
      if (rp && (rp.tag === IO_REPARSE_TAG_WOF || rp.tag === 0x80000013)) {
        throw new GuestkitError('UNSUPPORTED', `MFT entry ${ino}: data held by ${reparseTagName(rp.tag)} (Windows Overlay Filter or deduplication) cannot be read`);
      }
    }
    if (k.type !== 'file') return 0;
    const s = this.dataStream(ino, '');
    return s ? s.read(buf, pos) : 0;
  }

  statfs(): StatFs {
    if (!this.statfsCache) {
      const bits = this.boot.clusterSize >= this.boot.mftEntrySize
        ? Math.log2(this.boot.clusterSize / this.boot.mftEntrySize)
        : -Math.log2(this.boot.mftEntrySize / this.boot.clusterSize);
      const lcnBitmap = this.file(FILE_BITMAP).stream(this.vol, AT.DATA);
      if (!lcnBitmap) throw new GuestkitError('CORRUPT', 'MFT entry 6 ($Bitmap): no $DATA attribute');
      const bfree = this.countFree(lcnBitmap, this.boot.clusterSize, '$Bitmap');
      const mftBitmap = this.file(FILE_MFT).stream(this.vol, AT.BITMAP);
      if (!mftBitmap) throw new GuestkitError('CORRUPT', 'MFT entry 0 ($MFT): no $BITMAP attribute');
      const freeRecords = this.countFree(mftBitmap, this.boot.mftEntrySize, '$MFT:$BITMAP') + (mftBitmap.allocatedSize - mftBitmap.size) * 8;
      // ntfs-3g's statvfs: free inodes = free clusters' worth of MFT entries + free MFT entries.
      const onFree = bits >= 0 ? bfree * 2 ** bits : Math.floor(bfree / 2 ** -bits);
      const files = mftBitmap.allocatedSize * 8 + onFree;
      const ffree = Math.max(0, onFree + freeRecords);
      this.statfsCache = {
        bsize: this.boot.clusterSize,
        frsize: this.boot.clusterSize,
        blocks: this.boot.clusterCount,
        bfree,
        bavail: bfree,
        files,
        ffree,
        favail: ffree,
        namemax: NTFS_MAX_NAME_LEN,
      };
    }
    return { ...this.statfsCache };
  }

  /**
   * Clear bits of a bitmap whose bits stand for `unit`-byte pieces of the volume (clusters, MFT
   * entries). A bitmap describing more pieces than the device holds (plus a cluster of padding)
   * is refused: a hostile size over sparse runs would otherwise be counted for hours.
   */
  private countFree(s: DataStream, unit: number, what: string): number {
    const most = Math.ceil(this.device.size / unit / 8) + this.boot.clusterSize;
    if (s.size > most) {
      throw new GuestkitError('CORRUPT', `${what}: bitmap of ${s.size} bytes describes more than the ${this.device.size}-byte device holds`);
    }
    let free = 0;
    const chunk = new Uint8Array(Math.min(BITMAP_CHUNK, Math.max(1, s.size)));
    for (let pos = 0; pos < s.size; pos += chunk.length) {
      const n = s.read(chunk, pos);
      if (n === 0) break;
      free += countFreeBits(chunk.subarray(0, n));
    }
    return free;
  }

  listxattr(ino: number): string[] {
    if (this.streamsById.has(ino)) return [];
    if (ino !== FILE_ROOT && !this.kind(ino).xattrs) return [];
    return this.file(ino)
      .streamNames()
      .filter((n) => !(n.length > 9 && n.startsWith('ntfs-3g.')))
      .map((n) => `user.${n}`);
  }

  getxattr(ino: number, name: string): Uint8Array | null {
    if (this.streamsById.has(ino)) return null;
    const f = this.file(ino);
    const si = this.si(f);
    switch (name) {
      case 'system.ntfs_attrib':
      case 'system.ntfs_attrib_be': {
        let a = si.fileAttributes;
        if (f.isDirectory) a = (a & ~FILE_ATTRIBUTE.I30_INDEX_PRESENT) | FILE_ATTRIBUTE.DIRECTORY;
        const b = Buffer.alloc(4);
        if (name.endsWith('_be')) b.writeUInt32BE(a >>> 0);
        else b.writeUInt32LE(a >>> 0);
        return b;
      }
      case 'system.ntfs_reparse_data': {
        const s = f.stream(this.vol, AT.REPARSE_POINT);
        return s ? s.readAll(16 * 1024) : null;
      }
      case 'system.ntfs_crtime_be': {
        const b = Buffer.alloc(8);
        b.writeBigInt64BE(si.creationTime);
        return b;
      }
      case 'system.ntfs_times_be': {
        const b = Buffer.alloc(32);
        [si.creationTime, si.modificationTime, si.accessTime, si.entryModificationTime].forEach((t, i) => b.writeBigInt64BE(t, i * 8));
        return b;
      }
      case 'system.ntfs_dos_name': {
        const dos = f.names.find((n) => n.namespace === FILE_NAME_DOS);
        return dos ? Buffer.from(dos.name) : null;
      }
    }
    let stream: string;
    if (name.startsWith('user.') && name.length > 5) stream = name.slice(5);
    else if (/^(security|trusted|system)\../.test(name)) stream = `ntfs-3g.${name}`;
    else return null;
    if (ino !== FILE_ROOT && !this.kind(ino).xattrs) return null;
    const s = this.dataStream(ino, stream);
    return s ? s.readAll(LIMITS.maxAlloc) : null;
  }

  // ---------------------------------------------------------------- NTFS extras

  /** What `--extra-stats` may show beyond Stat: NTFS attributes, reparse tag notes. */
  extraInfo(ino: number): { attributes: number; reparseTag?: number; note?: string; streams: string[]; shortName?: string } {
    const stream = this.streamsById.get(ino);
    const f = this.file(stream ? stream.ino : ino);
    const si = this.si(f);
    const out: { attributes: number; reparseTag?: number; note?: string; streams: string[]; shortName?: string } = {
      attributes: si.fileAttributes,
      streams: f.streamNames(),
    };
    if (this.isReparse(f)) out.reparseTag = this.reparsePoint(f)?.tag;
    const note = stream ? undefined : this.kind(ino).note;
    if (note) out.note = note;
    const dos = f.names.find((n) => n.namespace === FILE_NAME_DOS);
    if (dos) out.shortName = dos.name;
    return out;
  }
}

// A read-only XFS filesystem behind the Filesystem interface (fs/vfs.ts): superblock and
// geometry, inode number → (AG, block, offset) decoding, inode forks, file data through the
// block map (holes and unwritten extents read as zeros), directories, symlinks, attributes,
// statfs, and the log (a dirty log is replayed into memory, log-recover.ts). Metadata blocks and
// inodes go through small bounded caches; file data is read straight into the caller's buffer.

import type { BlockDevice } from '../../block/device.js';
import { readExact } from '../../block/device.js';
import { Bytes } from '../../bytes.js';
import { corrupt, GuestkitError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { warn } from '../../warn.js';
import { fileTypeOfMode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, type DirEntry, type Filesystem, type Stat, type StatFs } from '../vfs.js';
import { parseAgf, parseAgi, XFS_AGF_CRC_OFF, XFS_AGI_CRC_OFF } from './agheader.js';
import { XfsAttrReader, type XfsAttrInode } from './attr.js';
import { BmapFork } from './bmbt.js';
import { xfsVerifyCksum } from './cksum.js';
import type { XfsContext } from './context.js';
import {
  XFS_DIFLAG_REALTIME,
  XFS_DINODE_CRC_OFF,
  XFS_DINODE_FMT_BTREE,
  XFS_DINODE_FMT_DEV,
  XFS_DINODE_FMT_EXTENTS,
  XFS_DINODE_FMT_LOCAL,
  parseDinode,
  type XfsDinode,
} from './dinode.js';
import { XFS_DIR3_FT, XfsDirReader, type XfsDirInode } from './dir.js';
import { xlogState, type XlogState } from './log.js';
import { xlogRecover } from './log-recover.js';
import { XlogReplayDevice } from './replay-device.js';
import { xfsStatfs, type XfsAgCounts } from './statfs.js';
import { parseSuperblock, XFS_SB_CRC_OFF, XFS_SB_MAGIC, type XfsSuperblock } from './superblock.js';
import { checkSymlinkSize, localSymlink, remoteSymlinkPayload, XFS_SYMLINK_CRC_OFF } from './symlink.js';

/** Metadata blocks kept (directory, attribute, btree blocks and inode clusters). */
const BLOCK_CACHE_ENTRIES = 2048;
/** Parsed inodes kept. */
const INODE_CACHE_ENTRIES = 4096;
/** Largest read that goes through the block cache (bigger ones bypass it). */
const CACHED_READ_MAX = 64 * 1024;
/** Inode cluster size before scaling by inode size (XFS_INODE_BIG_CLUSTER_SIZE). */
const XFS_INODE_BIG_CLUSTER_SIZE = 8192;
/** Warnings kept on the filesystem object. */
const MAX_WARNINGS = 100;

/** A parsed inode; the block maps of its forks are built on first use. */
export class XfsInode {
  private dmapCache: BmapFork | null | undefined;
  private amapCache: BmapFork | null | undefined;
  constructor(private readonly ctx: XfsContext, readonly core: XfsDinode) {}

  /** Block map of the data fork (extents or btree format), else null. */
  get dmap(): BmapFork | null {
    if (this.dmapCache === undefined) {
      const f = this.core.di_format;
      this.dmapCache = f === XFS_DINODE_FMT_EXTENTS || f === XFS_DINODE_FMT_BTREE ? new BmapFork(this.ctx, this.core.ino, 'data', f, this.core.dfork, this.core.nextents) : null;
    }
    return this.dmapCache;
  }

  /** Block map of the attribute fork (extents or btree format), else null. */
  get amap(): BmapFork | null {
    if (this.amapCache === undefined) {
      const f = this.core.di_aformat;
      this.amapCache = this.core.afork && (f === XFS_DINODE_FMT_EXTENTS || f === XFS_DINODE_FMT_BTREE) ? new BmapFork(this.ctx, this.core.ino, 'attr', f, this.core.afork, this.core.anextents) : null;
    }
    return this.amapCache;
  }
}

/**
 * A bounded cache that keeps recently used entries: two generations of at most `cap / 2`
 * entries each; a hit in the old generation moves the entry to the young one, and a full young
 * generation becomes the old one (dropping the previous old one). O(1), no per-entry deletes.
 */
class TwoGenCache<V> {
  private young = new Map<number, V>();
  private old = new Map<number, V>();
  constructor(private readonly cap: number) {}
  get(k: number): V | undefined {
    const y = this.young.get(k);
    if (y !== undefined) return y;
    const o = this.old.get(k);
    if (o !== undefined) this.set(k, o);
    return o;
  }
  set(k: number, v: V): void {
    if (this.young.size >= this.cap / 2) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(k, v);
  }
}

/** Directory names are bytes; shown as UTF-8 (invalid sequences become U+FFFD). */
function nameString(n: Uint8Array): string {
  return Buffer.from(n.buffer, n.byteOffset, n.length).toString('utf8');
}

export interface XfsOpenOptions {
  /**
   * Replay a dirty log into an in-memory overlay (default true), as mounting would; false
   * shows the on-disk state (with a warning).
   */
  replayJournal?: boolean;
}

export class XfsFilesystem implements Filesystem, XfsContext {
  readonly type = 'xfs';
  readonly device: BlockDevice;
  readonly rootIno: number;
  readonly label?: string;
  readonly uuid: string;
  readonly sb: XfsSuperblock;
  readonly where: string;
  readonly log: XlogState | null;
  /** What log recovery replayed (null when the log was clean or not replayed). */
  readonly replay: { transactions: number; blocks: number; replayed: Map<string, number>; skipped: Map<string, number> } | null = null;
  private readonly warningList: string[] = [];
  private readonly warnedKeys = new Set<string>();
  private readonly blockCache = new TwoGenCache<Bytes>(BLOCK_CACHE_ENTRIES);
  /** Cached blocks whose v5 header and CRC have been checked (and for which owner/address). */
  private readonly checked = new WeakMap<Bytes, string>();
  private readonly inodeCache = new TwoGenCache<XfsInode>(INODE_CACHE_ENTRIES);
  private readonly dirs: XfsDirReader;
  private readonly attrs: XfsAttrReader;
  private agCounts: XfsAgCounts[] | null = null;
  private readonly agShift: number;
  private readonly clusterBlocks: number;
  private readonly inoAgShift: number;

  constructor(dev: BlockDevice, opts: XfsOpenOptions = {}) {
    this.device = dev;
    this.where = dev.description;
    const head = readExact(dev, 0, Math.min(dev.size, 512), `xfs superblock on ${dev.description}`);
    const magic = head.length >= 4 ? new Bytes(head, 'xfs superblock').u32be(0) : 0;
    if (magic !== XFS_SB_MAGIC) {
      throw corrupt(`xfs superblock on ${dev.description}`, `bad magic 0x${magic.toString(16)} (expected 0x58465342 'XFSB')`);
    }
    let sbBytes = new Bytes(head, `xfs superblock on ${dev.description}`);
    const sectsize = sbBytes.u16be(102);
    if (sectsize > 512 && sectsize <= 32768 && sectsize <= dev.size) {
      sbBytes = new Bytes(readExact(dev, 0, sectsize, `xfs superblock on ${dev.description}`), `xfs superblock on ${dev.description}`);
    }
    this.sb = parseSuperblock(sbBytes, dev.description);
    const sb = this.sb;
    if (sb.hasCrc && !xfsVerifyCksum(sbBytes.buf.subarray(0, sb.sb_sectsize), XFS_SB_CRC_OFF)) {
      this.addWarning(`xfs superblock on ${dev.description}: checksum mismatch`);
    }
    if (sb.sb_features_incompat & (1 << 4)) this.addWarning(`xfs filesystem on ${dev.description} is marked as needing xfs_repair`);
    if (sb.sb_rblocks) this.addWarning(`xfs filesystem on ${dev.description} has a realtime section; files stored there cannot be read`);
    const fsBytes = sb.sb_dblocks * sb.sb_blocksize;
    if (fsBytes > dev.size) {
      this.addWarning(`xfs filesystem on ${dev.description} is ${fsBytes} bytes but the device has ${dev.size}: the image may be truncated`);
    }
    this.agShift = 2 ** sb.sb_agblklog;
    // XFS_INODE_BIG_CLUSTER_SIZE (8 KiB), times inode size / 256 on v5 (xfs_ialloc_setup_geometry).
    const clusterBytes = XFS_INODE_BIG_CLUSTER_SIZE * (sb.hasCrc ? sb.sb_inodesize / 256 : 1);
    this.clusterBlocks = Math.max(1, Math.min(16, clusterBytes / sb.sb_blocksize));
    this.inoAgShift = 2 ** (sb.sb_agblklog + sb.sb_inopblog);
    this.rootIno = sb.sb_rootino;
    this.uuid = sb.uuid;
    this.label = sb.sb_fname || undefined;
    this.dirs = new XfsDirReader(this);
    this.attrs = new XfsAttrReader(this);
    this.log = this.checkLog(opts.replayJournal !== false);
    if (this.log && !this.log.clean && opts.replayJournal !== false) {
      const r = this.recoverLog(this.log);
      if (r) {
        this.replay = r.summary;
        this.device = r.device;
        // The superblock as recovery left it (its counters are logged).
        const sbw = `xfs superblock on ${dev.description}`;
        this.sb = parseSuperblock(new Bytes(readExact(this.device, 0, sb.sb_sectsize, sbw), sbw), dev.description);
      }
    }
    // The root must be a readable directory.
    const root = this.inode(this.rootIno);
    if ((root.core.di_mode & S_IFMT) !== S_IFDIR) throw corrupt(`xfs filesystem on ${dev.description}`, `root inode ${this.rootIno} is not a directory`);
  }

  get warnings(): readonly string[] {
    return this.warningList;
  }

  private addWarning(msg: string): void {
    if (this.warnedKeys.has(msg) || this.warningList.length > MAX_WARNINGS) return;
    this.warnedKeys.add(msg);
    if (this.warningList.length === MAX_WARNINGS) msg = `xfs filesystem on ${this.where}: more than ${MAX_WARNINGS} warnings; the rest are not shown`;
    this.warningList.push(msg);
    warn(msg);
  }

  // ---- XfsContext: addresses and block reads ----

  private split(fsb: number): { agno: number; agbno: number } {
    const agno = Math.floor(fsb / this.agShift);
    return { agno, agbno: fsb - agno * this.agShift };
  }

  checkFsbRange(fsb: number, count: number, what: string): void {
    const sb = this.sb;
    if (!Number.isSafeInteger(fsb) || fsb < 0 || count < 1) throw corrupt(what, `block ${fsb} (+${count}) is invalid`);
    const { agno, agbno } = this.split(fsb);
    const agStart = agno * sb.sb_agblocks;
    if (agno >= sb.sb_agcount || agbno + count > sb.sb_agblocks || agStart + agbno + count > sb.sb_dblocks) {
      throw corrupt(what, `block ${fsb} (AG ${agno} block ${agbno}, ${count} blocks) is past the end of its allocation group or the filesystem`);
    }
  }

  fsbToByte(fsb: number, what: string): number {
    this.checkFsbRange(fsb, 1, what);
    const { agno, agbno } = this.split(fsb);
    return (agno * this.sb.sb_agblocks + agbno) * this.sb.sb_blocksize;
  }

  fsbToDaddr(fsb: number): number {
    const { agno, agbno } = this.split(fsb);
    return (agno * this.sb.sb_agblocks + agbno) * (this.sb.sb_blocksize / 512);
  }

  readFsBlocks(fsb: number, count: number, what: string): Bytes {
    this.checkFsbRange(fsb, count, what);
    const len = count * this.sb.sb_blocksize;
    const key = fsb * 64 + count;
    const cacheable = len <= CACHED_READ_MAX && count < 64;
    if (cacheable) {
      const hit = this.blockCache.get(key);
      if (hit) return hit;
    }
    if (len > LIMITS.maxMetadata) throw new GuestkitError('LIMIT', `${what}: ${len}-byte metadata read exceeds the limit`);
    const b = new Bytes(readExact(this.device, this.fsbToByte(fsb, what), len, what), what);
    if (cacheable) this.blockCache.set(key, b);
    return b;
  }

  checkV5(what: string, b: Bytes, crcOff: number, hdr: { blknoOff?: number; daddr?: number; ownerOff?: number; owner?: number; uuidOff?: number } = {}): void {
    // A cached block already checked for the same owner and address needs no second check.
    const sig = `${crcOff}:${hdr.owner}:${hdr.daddr}`;
    if (this.checked.get(b) === sig) return;
    if (hdr.uuidOff !== undefined) {
      const u = b.raw(hdr.uuidOff, 16);
      const m = this.sb.metaUuid;
      for (let i = 0; i < 16; i++) if (u[i] !== m[i]) throw corrupt(what, 'metadata UUID does not match the filesystem (a block from another filesystem?)');
    }
    if (hdr.blknoOff !== undefined && hdr.daddr !== undefined) {
      const blkno = b.u64beBig(hdr.blknoOff);
      if (blkno !== BigInt(hdr.daddr)) throw corrupt(what, `header says it is disk block ${blkno}, but it was read from ${hdr.daddr}`);
    }
    if (hdr.ownerOff !== undefined && hdr.owner !== undefined) {
      const owner = b.u64beBig(hdr.ownerOff);
      if (owner !== BigInt(hdr.owner)) throw corrupt(what, `header says it belongs to inode ${owner}`);
    }
    if (!xfsVerifyCksum(b.buf, crcOff)) this.addWarning(`${what}: checksum mismatch`);
    this.checked.set(b, sig);
  }

  // ---- inodes ----

  /** Parsed inode `ino` (cached), with its forks' block maps. */
  inode(ino: number): XfsInode {
    const hit = this.inodeCache.get(ino);
    if (hit) return hit;
    const sb = this.sb;
    const what = `xfs inode ${ino}`;
    if (!Number.isSafeInteger(ino) || ino <= 0) throw corrupt(what, 'invalid inode number');
    const agno = Math.floor(ino / this.inoAgShift);
    const agino = ino - agno * this.inoAgShift;
    const agbno = Math.floor(agino / sb.sb_inopblock);
    const offset = agino - agbno * sb.sb_inopblock;
    if (agno >= sb.sb_agcount || agbno >= sb.sb_agblocks) {
      throw corrupt(what, `inode number points to AG ${agno} block ${agbno}, outside the filesystem`);
    }
    // Read the whole inode cluster (what the kernel reads: 8 KiB, scaled by the inode size on
    // v5), aligned in the AG, so that walking a directory costs one read per cluster.
    let first = agbno - (agbno % this.clusterBlocks);
    let count = this.clusterBlocks;
    if (first + count > sb.sb_agblocks || agno * sb.sb_agblocks + first + count > sb.sb_dblocks) {
      first = agbno;
      count = 1;
    }
    const cluster = this.readFsBlocks(agno * this.agShift + first, count, what);
    const ib = cluster.slice((agbno - first) * sb.sb_blocksize + offset * sb.sb_inodesize, sb.sb_inodesize, what);
    const core = parseDinode(ib, ino, sb.hasCrc);
    if (sb.hasCrc && !xfsVerifyCksum(ib.buf, XFS_DINODE_CRC_OFF)) this.addWarning(`${what}: checksum mismatch`);
    if (sb.hasCrc) {
      const u = ib.raw(160, 16);
      const m = sb.metaUuid;
      for (let i = 0; i < 16; i++) if (u[i] !== m[i]) throw corrupt(what, 'di_uuid does not match the filesystem');
    }
    const inode = this.forks(core);
    this.inodeCache.set(ino, inode);
    return inode;
  }

  private forks(core: XfsDinode): XfsInode {
    const what = `xfs inode ${core.ino}`;
    const type = core.di_mode & S_IFMT;
    if (core.di_mode === 0) throw corrupt(what, 'inode is not in use (mode 0)');
    const fmt = core.di_format;
    switch (type) {
      case S_IFREG:
        if (fmt !== XFS_DINODE_FMT_EXTENTS && fmt !== XFS_DINODE_FMT_BTREE) throw corrupt(what, `regular file in data fork format ${fmt}`);
        break;
      case S_IFDIR:
      case S_IFLNK:
        if (fmt !== XFS_DINODE_FMT_LOCAL && fmt !== XFS_DINODE_FMT_EXTENTS && fmt !== XFS_DINODE_FMT_BTREE) throw corrupt(what, `data fork format ${fmt}`);
        break;
      case S_IFCHR:
      case S_IFBLK:
      case S_IFIFO:
      case S_IFSOCK:
        if (fmt !== XFS_DINODE_FMT_DEV) throw corrupt(what, `special file in data fork format ${fmt}`);
        break;
      default:
        throw corrupt(what, `unknown file type in mode 0${core.di_mode.toString(8)}`);
    }
    if (core.afork) {
      const af = core.di_aformat;
      if (af !== XFS_DINODE_FMT_EXTENTS && af !== XFS_DINODE_FMT_BTREE && af !== XFS_DINODE_FMT_LOCAL) throw corrupt(what, `attribute fork format ${af}`);
    }
    return new XfsInode(this, core);
  }

  stat(ino: number): Stat {
    const { core } = this.inode(ino);
    const sb = this.sb;
    const type = core.di_mode & S_IFMT;
    let rdev = 0;
    if (type === S_IFCHR || type === S_IFBLK) {
      // xfs_dev_t: sysv major in the top 14 bits, minor in the low 18 (xfs_to_linux_dev_t).
      const d = core.dfork.u32be(0);
      rdev = linuxEncodeDev((d >>> 18) & 0x1ff, d & 0x3ffff);
    }
    return {
      ino,
      mode: core.di_mode,
      nlink: core.di_nlink,
      uid: core.di_uid,
      gid: core.di_gid,
      size: core.di_size,
      blocks: core.di_nblocks * (sb.sb_blocksize / 512),
      blksize: Math.max(4096, sb.sb_blocksize),
      rdev,
      atime: core.di_atime,
      mtime: core.di_mtime,
      ctime: core.di_ctime,
      crtime: core.di_crtime,
    };
  }

  // ---- directories ----

  private dirInode(ino: number): XfsDirInode {
    const i = this.inode(ino);
    if ((i.core.di_mode & S_IFMT) !== S_IFDIR) throw new GuestkitError('NOT_DIR', `xfs inode ${ino} is not a directory`);
    return { ino, size: i.core.di_size, dfork: i.core.dfork, dmap: i.core.di_format === XFS_DINODE_FMT_LOCAL ? null : i.dmap };
  }

  lookup(dirIno: number, name: string): number | null {
    if (name === '' || name.includes('/')) return null;
    const dir = this.dirInode(dirIno);
    if (name === '.') return dirIno;
    if (name === '..') return this.parentOf(dir);
    const bytes = Buffer.from(name, 'utf8');
    if (bytes.length > 255) return null;
    const hit = this.dirs.lookup(dir, bytes);
    if (hit !== null || !name.includes('\ufffd')) return hit;
    // Names that are not valid UTF-8 on disk were shown with U+FFFD: match them as shown.
    for (const e of this.dirs.entries(dir)) if (nameString(e.name) === name) return e.ino;
    return null;
  }

  private parentOf(dir: XfsDirInode): number {
    if (!dir.dmap) {
      // Shortform: the parent is in the header.
      const b = dir.dfork; // xfs_dir2_sf_hdr: count, i8count, parent (8 bytes if i8count)
      const p = b.u8(1) ? b.u64beBig(2) : BigInt(b.u32be(2));
      if (p > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`xfs directory inode ${dir.ino}`, `parent inode ${p} is invalid`);
      return Number(p);
    }
    const hit = this.dirs.lookup(dir, Buffer.from('..'));
    return hit ?? dir.ino;
  }

  *readdir(dirIno: number): Iterable<DirEntry> {
    const dir = this.dirInode(dirIno);
    for (const e of this.dirs.entries(dir)) {
      let type: DirEntry['type'];
      if (e.ftype !== undefined && e.ftype > 0 && e.ftype < XFS_DIR3_FT.length) type = XFS_DIR3_FT[e.ftype];
      else {
        // Without ftype the type is the inode's; an unreadable inode leaves it unknown (as
        // Linux's DT_UNKNOWN), so that the listing goes on and stat() reports the problem.
        try {
          type = fileTypeOfMode(this.inode(e.ino).core.di_mode);
        } catch (err) {
          if (!(err instanceof GuestkitError)) throw err;
          type = 'unknown';
        }
      }
      yield { name: nameString(e.name), ino: e.ino, type };
    }
  }

  // ---- symlinks ----

  readlink(ino: number): string {
    const i = this.inode(ino);
    const what = `xfs inode ${ino}`;
    if ((i.core.di_mode & S_IFMT) !== S_IFLNK) throw new GuestkitError('UNSUPPORTED', `${what} is not a symbolic link`);
    const size = i.core.di_size;
    checkSymlinkSize(size, what);
    if (i.core.di_format === XFS_DINODE_FMT_LOCAL) return Buffer.from(localSymlink(i.core.dfork, size, what)).toString('utf8');
    const out = new Uint8Array(size);
    let done = 0;
    const v5 = this.sb.hasCrc;
    let n = 0;
    for (const e of i.dmap!.extents()) {
      if (done >= size) break;
      if (++n > 8 || e.blockcount > 8) throw corrupt(what, 'remote symlink maps too many blocks');
      const ew = `${what} remote symlink block ${e.startblock}`;
      const b = this.readFsBlocks(e.startblock, e.blockcount, ew);
      const part = remoteSymlinkPayload(b, v5, done, size - done, ino, ew);
      if (v5) this.checkV5(ew, b, XFS_SYMLINK_CRC_OFF, { blknoOff: 40, daddr: this.fsbToDaddr(e.startblock), uuidOff: 16 });
      out.set(part, done);
      done += part.length;
    }
    if (done !== size) throw corrupt(what, `remote symlink blocks hold ${done} of ${size} bytes`);
    return Buffer.from(out).toString('utf8');
  }

  // ---- file data ----

  read(ino: number, buf: Uint8Array, pos: number): number {
    const i = this.inode(ino);
    const what = `xfs inode ${ino}`;
    const type = i.core.di_mode & S_IFMT;
    if (type === S_IFDIR) throw new GuestkitError('IS_DIR', `${what} is a directory`);
    if (type !== S_IFREG) return 0;
    if (i.core.di_flags & XFS_DIFLAG_REALTIME) throw new GuestkitError('UNSUPPORTED', `${what}: file data on the realtime device is not supported`);
    const size = i.core.di_size;
    if (!Number.isSafeInteger(pos) || pos < 0) throw new GuestkitError('USAGE', `${what}: invalid read position ${pos}`);
    if (pos >= size) return 0;
    const len = Math.min(buf.length, size - pos);
    const bs = this.sb.sb_blocksize;
    const map = i.dmap!;
    let done = 0;
    while (done < len) {
      const p = pos + done;
      const fb = Math.floor(p / bs);
      const e = map.lookup(fb);
      if (!e || e.startoff > fb) {
        // A hole, up to the next extent or the end of the read.
        const holeEnd = e ? e.startoff * bs : Infinity;
        const n = Math.min(len - done, holeEnd - p);
        buf.fill(0, done, done + n);
        done += n;
        continue;
      }
      const extEnd = (e.startoff + e.blockcount) * bs;
      const n = Math.min(len - done, extEnd - p);
      if (e.unwritten) {
        buf.fill(0, done, done + n);
      } else {
        const dev = this.fsbToByte(e.startblock, what) + (p - e.startoff * bs);
        const got = this.device.pread(buf.subarray(done, done + n), dev);
        if (got !== n) throw corrupt(what, `short read of file data at byte ${dev} of ${this.where}`);
      }
      done += n;
    }
    return len;
  }

  // ---- attributes ----

  private attrInode(ino: number): XfsAttrInode {
    const i = this.inode(ino);
    return { ino, afork: i.core.afork, aformat: i.core.di_aformat, amap: i.core.di_aformat === XFS_DINODE_FMT_LOCAL ? null : i.amap };
  }

  listxattr(ino: number): string[] {
    return this.attrs.list(this.attrInode(ino));
  }

  getxattr(ino: number, name: string): Uint8Array | null {
    return this.attrs.get(this.attrInode(ino), name);
  }

  // ---- statfs and the log ----

  private agHeaders(): XfsAgCounts[] {
    if (this.agCounts) return this.agCounts;
    const sb = this.sb;
    // Read at each use, so a test can lower it (test/robustness/limits.test.ts).
    const max = LIMITS.xfsMaxAgHeaders;
    if (sb.sb_agcount > max) {
      throw new GuestkitError('LIMIT', `xfs filesystem on ${this.where}: ${sb.sb_agcount} allocation groups exceed the ${max} whose headers statfs reads`);
    }
    const out: XfsAgCounts[] = [];
    for (let agno = 0; agno < sb.sb_agcount; agno++) {
      const base = agno * sb.sb_agblocks * sb.sb_blocksize;
      const fw = `xfs AGF ${agno} on ${this.where}`;
      const iw = `xfs AGI ${agno} on ${this.where}`;
      const fb = new Bytes(readExact(this.device, base + sb.sb_sectsize, sb.sb_sectsize, fw), fw);
      const ib = new Bytes(readExact(this.device, base + 2 * sb.sb_sectsize, sb.sb_sectsize, iw), iw);
      if (sb.hasCrc) {
        if (!xfsVerifyCksum(fb.buf, XFS_AGF_CRC_OFF)) this.addWarning(`${fw}: checksum mismatch`);
        if (!xfsVerifyCksum(ib.buf, XFS_AGI_CRC_OFF)) this.addWarning(`${iw}: checksum mismatch`);
      }
      out.push({ agf: parseAgf(fb, agno, sb.sb_agblocks, fw), agi: parseAgi(ib, agno, sb.sb_agblocks, iw) });
    }
    this.agCounts = out;
    return out;
  }

  statfs(): StatFs {
    return xfsStatfs(this.sb, this.log === null || this.log.clean, () => this.agHeaders());
  }

  /**
   * Log recovery into an in-memory overlay (log-recover.ts). A log that cannot be replayed
   * leaves the on-disk state, with a warning saying why.
   */
  private recoverLog(st: XlogState): { device: BlockDevice; summary: NonNullable<XfsFilesystem['replay']> } | null {
    const sb = this.sb;
    const { logByte, logBBs } = logGeometry(this);
    const what = `xfs log on ${this.where}`;
    try {
      const res = xlogRecover(
        (bb, count) => {
          if (bb < 0 || count < 1 || bb + count > logBBs) throw corrupt(what, `read of blocks ${bb}+${count} outside the log`);
          return readExact(this.device, logByte + bb * 512, count * 512, `${what}, block ${bb}`);
        },
        logBBs,
        st,
        {
          hasCrc: sb.hasCrc,
          inodeSize: sb.sb_inodesize,
          sectSize: sb.sb_sectsize,
          metaUuid: sb.metaUuid,
          dataBBs: (sb.sb_dblocks * sb.sb_blocksize) / 512,
          blockBBs: sb.sb_blocksize / 512,
          inodesPerBlock: sb.sb_inopblock,
          agbToDaddr: (ag, agbno) => (ag * sb.sb_agblocks + agbno) * (sb.sb_blocksize / 512),
          agInoToIno: (ag, agino) => ag * this.inoAgShift + agino,
        },
        (daddr, count) => readExact(this.device, daddr * 512, count * 512, `xfs disk blocks ${daddr}+${count} on ${this.where}`),
        what,
      );
      const list = (m: Map<string, number>) => [...m].map(([k, v]) => `${v} ${k}`).join(', ');
      // Cancelled buffers and items already written back are skipped by design; other item
      // types are not replayed at all: say which.
      const notReplayed = new Map([...res.skipped].filter(([k]) => !k.includes('(cancelled') && !k.includes('newer on disk')));
      if (notReplayed.size) {
        this.addWarning(`${what}: log items not replayed: ${list(notReplayed)} (intent and quota items: their completed effects are logged as buffers; an unfinished intent would only change free space)`);
      }
      const summary = { transactions: res.transactions, blocks: res.overlay.size, replayed: res.replayed, skipped: res.skipped };
      return { device: new XlogReplayDevice(this.device, res.overlay), summary };
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      this.addWarning(
        `xfs filesystem on ${this.where} was not cleanly unmounted and its log cannot be replayed (${e.message}): ` +
          `showing the on-disk state (tail at cycle ${st.tailCycle} block ${st.tailBlk}, head at cycle ${st.headCycle} block ${st.headBlk}); recent changes may be missing`,
      );
      return null;
    }
  }

  private checkLog(replay: boolean): XlogState | null {
    const sb = this.sb;
    if (!sb.sb_logstart) {
      this.addWarning(`xfs filesystem on ${this.where} has an external log: its state is not checked`);
      return null;
    }
    const logByte = this.fsbToByte(sb.sb_logstart, `xfs log on ${this.where}`);
    const logBBs = (sb.sb_logblocks * sb.sb_blocksize) / 512;
    let st: XlogState;
    try {
      st = xlogState((bb, count) => {
        if (bb < 0 || count < 1 || bb + count > logBBs) throw corrupt(`xfs log on ${this.where}`, `read of blocks ${bb}+${count} outside the log`);
        const w = `xfs log block ${bb} on ${this.where}`;
        return new Bytes(readExact(this.device, logByte + bb * 512, count * 512, w), w);
      }, logBBs);
    } catch (e) {
      // An unreadable log (a truncated image) does not stop reading what is there.
      if (!(e instanceof GuestkitError)) throw e;
      this.addWarning(`xfs filesystem on ${this.where}: the log cannot be read, its state is unknown (${e.message})`);
      return null;
    }
    if (!st.clean && !replay) {
      this.addWarning(
        `xfs filesystem on ${this.where} was not cleanly unmounted: its log holds changes that were not replayed ` +
          `(tail at cycle ${st.tailCycle} block ${st.tailBlk}, head at cycle ${st.headCycle} block ${st.headBlk}${st.problem ? `; ${st.problem}` : ''}); recent changes may be missing`,
      );
    }
    return st;
  }
}

/** Log geometry of `sb`: byte offset of the internal log and its size in 512-byte blocks. */
function logGeometry(fs: XfsFilesystem): { logByte: number; logBBs: number } {
  const sb = fs.sb;
  return { logByte: fs.fsbToByte(sb.sb_logstart, `xfs log on ${fs.where}`), logBBs: (sb.sb_logblocks * sb.sb_blocksize) / 512 };
}

/** Linux's new_encode_dev (the st_rdev encoding). */
function linuxEncodeDev(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
}


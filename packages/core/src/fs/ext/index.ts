// The ext2/3/4 reader: a read-only `Filesystem` over a BlockDevice, after the kernel's
// ext4 disk-layout documentation (Documentation/filesystems/ext4/). Each on-disk structure
// has its own module; this one ties them together: block and inode caches, the journal
// overlay, directory listing and lookup, file reads, symlinks, xattrs and statfs.

import type { BlockDevice } from '../../block/device.js';
import { readExact } from '../../block/device.js';
import { GuestkitError, corrupt } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { warn } from '../../warn.js';
import {
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFCHR,
  S_IFBLK,
  fileTypeOfMode,
  type DirEntry,
  type DirEntryFn,
  type FileType,
  type Filesystem,
  type Stat,
  type StatFs,
} from '../vfs.js';
import { MAX_LBLK, type ExtContext, type Run } from './context.js';
import { LruCache } from './cache.js';
import {
  COMPAT_DIR_INDEX,
  COMPAT_HAS_JOURNAL,
  INCOMPAT_CASEFOLD,
  INCOMPAT_FILETYPE,
  INCOMPAT_FLEX_BG,
  INCOMPAT_RECOVER,
  RO_COMPAT_METADATA_CSUM,
  SUPERBLOCK_OFFSET,
  SUPERBLOCK_SIZE,
  fsUuid,
  hasCompat,
  hasIncompat,
  hasRoCompat,
  inodeTableBlocks,
  parseSuperblock,
  type Superblock,
} from './superblock.js';
import { descriptorBlock, parseGroupDesc, type GroupDesc } from './group-desc.js';
import {
  EXT4_CASEFOLD_FL,
  EXT4_EA_INODE_FL,
  EXT4_ENCRYPT_FL,
  EXT4_EXTENTS_FL,
  EXT4_INDEX_FL,
  EXT4_INLINE_DATA_FL,
  I_BLOCK_SIZE,
  inodeRdev,
  parseInode,
  inodeTimes,
  type Inode,
} from './inode.js';
import { ExtentTree } from './extent.js';
import { BlockMap } from './blockmap.js';
import {
  EXT4_NAME_LEN,
  FT_NAMES,
  decodeName,
  encodeNameCandidates,
  isDxNodeBlock,
  nameEquals,
  scanDirEntries,
  DirEntryCursor,
  verifyDirLeaf,
  type DirParseOptions,
} from './dir.js';
import { dirHash, dxLookup, parseDxNode, parseDxRoot, type DxNode, type DxRoot } from './htree.js';
import { inlineDirAreas, inlineFileData } from './inline.js';
import {
  XATTR_INDEX_POSIX_ACL_ACCESS,
  XATTR_INDEX_POSIX_ACL_DEFAULT,
  XATTR_SIZE_MAX,
  aclDiskToXattr,
  blockXattrs,
  inodeXattrs,
  xattrFullName,
  xattrSplitName,
  type XattrEntry,
} from './xattr.js';
import { parseJournalSuperblock, JBD2_MAGIC_NUMBER, JBD2_FEATURE_INCOMPAT_FAST_COMMIT } from './journal/superblock.js';
import { recoverJournal, type OverlayEntry } from './journal/recovery.js';
import { scanFastCommits, type FcOp } from './journal/fast-commit.js';
import { FcMapper, replayFastCommits, FC_MAX_RUNS_PER_INODE, type FcBlocks, type FcDirState, type FcInodeState } from './journal/fast-commit-replay.js';
import { FcAllocator } from './journal/fast-commit-alloc.js';
import { extStatfs } from './statfs.js';
import { casefoldName, EXT4_ENC_UTF8_12_1 } from './casefold.js';

export interface ExtOpenOptions {
  /** Replay the journal into an in-memory overlay when recovery is needed (default true). */
  replayJournal?: boolean;
  /** Verify metadata_csum checksums (mismatches become warnings). Default true. */
  verifyChecksums?: boolean;
  /** Bytes of metadata blocks kept in the cache (default 32 MiB). */
  cacheBytes?: number;
}

/** Bytes read in one pread when streaming directory blocks. */
const DIR_READ_CHUNK = 256 * 1024;
/** Inode-table blocks read at once when an inode misses the cache. */
const INODE_READAHEAD_BYTES = 64 * 1024;
/** Parsed inodes kept. */
const INODE_CACHE_ENTRIES = 8192;
/** Raw inode copies share ArrayBuffers of this size. */
const INODE_SLAB_BYTES = 64 * 1024;
/** Checksum-mismatch warnings recorded before they are only counted. */
const MAX_CSUM_WARNINGS = 20;
/** Linux PATH_MAX - 1: the longest symlink target. */
const MAX_SYMLINK = 4095;

/** Root directory inode (EXT4_ROOT_INO). */
export const EXT4_ROOT_INO = 2;

/** Cheap identification for probers: ext2/3/4 type, UUID and label, or null. */
export function probeExt(dev: BlockDevice): { type: 'ext2' | 'ext3' | 'ext4'; uuid: string; label: string } | null {
  if (dev.size < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE) return null;
  const buf = readExact(dev, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, 'ext superblock');
  if ((buf[0x38] | (buf[0x39] << 8)) !== 0xef53) return null;
  try {
    const sb = parseSuperblock(buf, dev.description);
    return { type: sb.fsType, uuid: fsUuid(sb), label: sb.s_volume_name };
  } catch {
    return null;
  }
}

export function openExt(dev: BlockDevice, opts: ExtOpenOptions = {}): ExtFs {
  return new ExtFs(dev, opts);
}

/** Per-inode state kept with the parsed inode: its block mapper. */
interface CachedInode {
  inode: Inode;
  mapper?: { map(lblk: number, maxLen: number): Run };
}

export class ExtFs implements Filesystem, ExtContext {
  readonly type: 'ext2' | 'ext3' | 'ext4';
  readonly device: BlockDevice;
  readonly rootIno = EXT4_ROOT_INO;
  readonly label?: string;
  readonly uuid?: string;
  readonly warnings: string[] = [];
  readonly where: string;
  readonly csum: boolean;
  sb: Superblock;
  /** Counters for tests and benchmarks. */
  readonly stats = { htreeLookups: 0, linearLookups: 0, dataPreads: 0, metaReads: 0, journalTransactions: 0, journalBlocks: 0, fastCommits: 0, fastCommitRecords: 0 };

  private readonly blocks: LruCache<number, Uint8Array>;
  /** Inode-table chunks (INODE_READAHEAD_BYTES, see rawInode), by first block. */
  private readonly itable: LruCache<number, Uint8Array>;
  private readonly inodes = new LruCache<number, CachedInode>(INODE_CACHE_ENTRIES);
  private readonly groupCache = new Map<number, GroupDesc>();
  private overlay: Map<number, OverlayEntry> | null = null;
  private overlayKeys: Float64Array = new Float64Array(0);
  private journalRead: ((jblk: number) => Uint8Array) | null = null;
  /** Fast-commit replay (see journal/fast-commit-replay.ts): replayed inodes and directories. */
  private fcInodes: Map<number, FcInodeState> | null = null;
  private fcDirs: Map<number, FcDirState> | null = null;
  /** Fast commits scanned, applied once the full transactions are in place. */
  private pendingFc: { ops: FcOp[]; commits: number } | null = null;
  private csumWarnings = 0;
  /** Reused buffer for directory blocks listed by readdir (never held past the call). */
  private dirScratch = new Uint8Array(0);
  /** Slab that raw inode copies are carved from (see inodeCopy). */
  private slab = new Uint8Array(0);
  private slabUsed = 0;
  private statfsCache?: StatFs;
  private readonly dirOpts: DirParseOptions;
  /** Casefolded directories fold names: the casefold feature with the utf8-12.1 encoding. */
  private readonly casefoldEncoding: boolean;

  constructor(dev: BlockDevice, opts: ExtOpenOptions = {}) {
    this.device = dev;
    this.where = dev.description;
    if (dev.size < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE) {
      throw new GuestkitError('UNKNOWN_FORMAT', `${dev.description}: too small for an ext2/3/4 filesystem (${dev.size} bytes)`);
    }
    this.sb = parseSuperblock(readExact(dev, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, `ext superblock of ${dev.description}`), dev.description);
    const sb = this.sb;
    this.type = sb.fsType;
    this.label = sb.s_volume_name;
    this.uuid = fsUuid(sb);
    this.csum = opts.verifyChecksums !== false && hasRoCompat(sb, RO_COMPAT_METADATA_CSUM);
    const cacheBytes = opts.cacheBytes ?? 32 * 1024 * 1024;
    this.blocks = new LruCache(Math.max(256, Math.floor(cacheBytes / sb.blockSize)));
    this.itable = new LruCache(Math.max(16, Math.floor(cacheBytes / INODE_READAHEAD_BYTES)));
    if (this.csum && !sb.checksumOk) this.checksumMismatch('superblock');
    const fsBytes = sb.s_blocks_count * sb.blockSize;
    if (fsBytes > dev.size) {
      this.addWarning(`${this.where}: filesystem claims ${fsBytes} bytes but the device has ${dev.size}; reads past the end will fail`);
    }
    this.dirOpts = { blockSize: sb.blockSize, filetype: hasIncompat(sb, INCOMPAT_FILETYPE), inodesCount: sb.s_inodes_count };
    this.casefoldEncoding = hasIncompat(sb, INCOMPAT_CASEFOLD) && sb.s_encoding === EXT4_ENC_UTF8_12_1;
    if (hasIncompat(sb, INCOMPAT_CASEFOLD) && !this.casefoldEncoding) {
      this.addWarning(`${this.where}: unknown filename encoding ${sb.s_encoding}: casefolded directories are searched by exact name`);
    }

    if (hasIncompat(sb, INCOMPAT_RECOVER)) this.loadJournal(opts.replayJournal !== false);
  }

  // ---- warnings ------------------------------------------------------------------------

  private addWarning(m: string): void {
    if (this.warnings.includes(m)) return;
    this.warnings.push(m);
    warn(m);
  }

  checksumMismatch(what: string): void {
    this.csumWarnings++;
    if (this.csumWarnings <= MAX_CSUM_WARNINGS) this.addWarning(`${this.where}: ${what}: metadata checksum does not match`);
    else if (this.csumWarnings === MAX_CSUM_WARNINGS + 1) this.addWarning(`${this.where}: more metadata checksum mismatches (not listed)`);
  }

  // ---- journal -------------------------------------------------------------------------

  private loadJournal(replay: boolean): void {
    const sb = this.sb;
    if (!replay) {
      this.addWarning(`${this.where}: the journal needs recovery but replay is disabled (--no-replay): showing the on-disk state, which may be inconsistent`);
      return;
    }
    if (!hasCompat(sb, COMPAT_HAS_JOURNAL) || sb.s_journal_inum === 0) {
      this.addWarning(`${this.where}: needs recovery from an external journal (device 0x${sb.s_journal_dev.toString(16)}), which guestkit does not replay: showing the on-disk state`);
      return;
    }
    const what = `journal (inode ${sb.s_journal_inum}) of ${this.where}`;
    try {
      const inode = this.inode(sb.s_journal_inum);
      const mapper = this.mapper({ inode });
      const nblocks = Math.floor(inode.i_size / sb.blockSize);
      // Journal blocks are read from the device as they are (never through the overlay).
      const readJ = (j: number): Uint8Array => {
        if (j < 0 || j >= nblocks) throw corrupt(what, `journal block ${j} is past the journal's ${nblocks} blocks`);
        const r = mapper.map(j, 1);
        if (r.pblk < 0) throw corrupt(what, `journal block ${j} is not mapped`);
        return readExact(this.device, r.pblk * sb.blockSize, sb.blockSize, `${what} block ${j}`);
      };
      const jsb = parseJournalSuperblock(readJ(0), what);
      if (jsb.s_blocksize !== sb.blockSize) throw corrupt(what, `journal block size ${jsb.s_blocksize} differs from the filesystem's ${sb.blockSize}`);
      if (jsb.s_maxlen > nblocks) throw corrupt(what, `journal s_maxlen ${jsb.s_maxlen} exceeds the journal inode's ${nblocks} blocks`);
      if (!jsb.checksumOk) this.addWarning(`${what}: journal superblock checksum does not match`);
      const res = recoverJournal(jsb, readJ, sb.s_blocks_count, what);
      for (const w of res.warnings) this.addWarning(`${what}: ${w}`);
      if (jsb.s_start !== 0 && jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_FAST_COMMIT) {
        // After the full transactions (the kernel's fc_do_one_pass follows do_one_pass).
        const fc = scanFastCommits((i) => readJ(jsb.last + 1 + i), jsb.s_maxlen - jsb.last - 1, res.endTransaction, sb.s_inode_size);
        if (fc.problem) this.addWarning(`${what}: ${fc.problem}`);
        if (fc.ops.length) this.pendingFc = { ops: fc.ops, commits: fc.commits };
      }
      if (res.overlay.size === 0) {
        this.applyPendingFastCommits(what);
        return;
      }
      this.journalRead = readJ;
      this.overlay = res.overlay;
      this.overlayKeys = Float64Array.from(res.overlay.keys()).sort();
      this.stats.journalTransactions = res.transactions;
      this.stats.journalBlocks = res.overlay.size;
      this.addWarning(
        `${this.where}: replayed ${res.transactions} journal transaction(s) (${res.overlay.size} blocks) in memory; the image is not modified`,
      );
      // The replayed log may carry a newer superblock and group descriptors (the kernel's
      // buffer cache sees the replayed copies): re-read everything through the overlay.
      this.blocks.clear();
      this.itable.clear();
      this.inodes.clear();
      this.groupCache.clear();
      const sbBlock = Math.floor(SUPERBLOCK_OFFSET / sb.blockSize);
      if (this.overlay.has(sbBlock)) {
        const blk = this.metaBlock(sbBlock, 'superblock');
        const off = SUPERBLOCK_OFFSET % sb.blockSize;
        const fresh = parseSuperblock(blk.slice(off, off + SUPERBLOCK_SIZE), this.device.description);
        if (fresh.blockSize === sb.blockSize && fresh.s_inode_size === sb.s_inode_size) this.sb = fresh;
        else this.addWarning(`${what}: the replayed superblock changes the geometry; keeping the on-disk one`);
      }
      this.applyPendingFastCommits(what);
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      this.overlay = null;
      this.journalRead = null;
      this.fcInodes = null;
      this.fcDirs = null;
      this.addWarning(`${this.where}: the journal needs recovery but cannot be replayed (${e.message}): showing the on-disk state`);
    }
  }

  /**
   * Replay the scanned fast commits over the state the full transactions left (read
   * through the block overlay), then show inodes and directories as replayed.
   */
  private applyPendingFastCommits(what: string): void {
    const fc = this.pendingFc;
    this.pendingFc = null;
    if (!fc) return;
    const sb = this.sb;
    const alloc = new FcAllocator({ sb, group: (g) => this.group(g), block: (pblk, w) => this.metaBlock(pblk, w) });
    const r = replayFastCommits(fc.ops, {
      // Unparsed: an inode a fast commit creates may be garbage on disk until it is replayed.
      raw: (ino) => this.rawInode(ino),
      lookup: (dir, name) => this.lookup(dir, name),
      decode: (name) => decodeName(name, 0, name.length),
      inodeSize: sb.s_inode_size,
      firstIno: sb.s_first_ino,
      blockSize: sb.blockSize,
      alloc,
      blocks: (ino, st) => this.fcBlocks(ino, st),
      dirGoal: (ino) => {
        // ext4_inode_to_goal_block (delalloc): a directory's goal is its flex group's first block.
        let g = Math.floor((ino - 1) / sb.s_inodes_per_group);
        const flex = hasIncompat(sb, INCOMPAT_FLEX_BG) ? 2 ** sb.s_log_groups_per_flex : 1;
        if (flex >= 4) g -= g % flex;
        return sb.s_first_data_block + g * sb.s_blocks_per_group;
      },
    });
    for (const m of [...r.skipped, ...alloc.problems].slice(0, 5)) this.addWarning(`${what}: fast commit: ${m}; skipped`);
    this.fcInodes = r.inodes;
    this.fcDirs = r.dirs;
    // The group descriptors as replay left them (free counts for statfs).
    for (const [g, gd] of alloc.changedGroups) this.groupCache.set(g, gd);
    this.statfsCache = undefined;
    this.inodes.clear();
    this.stats.fastCommits = fc.commits;
    this.stats.fastCommitRecords = fc.ops.length;
    this.addWarning(
      `${this.where}: replayed ${fc.commits} fast commit(s) (${fc.ops.length} records: ${r.inodes.size} inodes, ${r.dirs.size} directories) in memory; the image is not modified`,
    );
  }

  /** The block mapping of an inode in a fast-commit replay state (see FcReplayHooks.blocks). */
  private fcBlocks(ino: number, st: FcInodeState): FcBlocks | null {
    const i = parseInode(this.sb, ino, st.raw);
    if (i.i_flags & EXT4_INLINE_DATA_FL) return null;
    const extents = (i.i_flags & EXT4_EXTENTS_FL) !== 0;
    const tree = st.emptyTree ? null : extents ? new ExtentTree(this, i) : new BlockMap(this, i);
    const nodes = tree instanceof ExtentTree ? tree.nodeBlocks(FC_MAX_RUNS_PER_INODE) : [];
    return { map: (l, n) => new FcMapper(tree, st.ranges).map(l, n), nodes, extents };
  }

  /** Replayed contents of block `pblk`, if the journal has it. */
  private overlayBlock(pblk: number): Uint8Array | undefined {
    const e = this.overlay?.get(pblk);
    if (!e) return undefined;
    const data = this.journalRead!(e.jblk).slice();
    if (e.escaped) new DataView(data.buffer).setUint32(0, JBD2_MAGIC_NUMBER);
    return data;
  }

  /** First overlay block in [from, to), or -1. */
  private overlayIn(from: number, to: number): number {
    const k = this.overlayKeys;
    let lo = 0;
    let hi = k.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (k[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < k.length && k[lo] < to ? k[lo] : -1;
  }

  // ---- block I/O -----------------------------------------------------------------------

  /**
   * Read `count` physical blocks from `pblk` into dst[dstOff..] (whole blocks), through the
   * journal overlay. One pread for each stretch without replayed blocks.
   */
  private readPhysBlocks(dst: Uint8Array, pblk: number, count: number, what: string): void {
    const bs = this.sb.blockSize;
    if (pblk + count > this.sb.s_blocks_count) {
      throw corrupt(what, `blocks ${pblk}..${pblk + count - 1} are past the end of the filesystem (${this.sb.s_blocks_count} blocks)`);
    }
    let done = 0;
    while (done < count) {
      const o = this.overlay ? this.overlayIn(pblk + done, pblk + count) : -1;
      const stop = o < 0 ? count : o - pblk;
      if (stop > done) {
        this.preadExact(dst.subarray(done * bs, stop * bs), (pblk + done) * bs, what);
        done = stop;
      }
      if (o >= 0) {
        dst.set(this.overlayBlock(o)!, done * bs);
        done++;
      }
    }
  }

  private preadExact(dst: Uint8Array, pos: number, what: string): void {
    this.stats.dataPreads++;
    if (pos + dst.length > this.device.size) {
      throw corrupt(what, `range ${pos}+${dst.length} is past the end of ${this.device.description} (${this.device.size} bytes)`);
    }
    const n = this.device.pread(dst, pos);
    if (n !== dst.length) throw corrupt(what, `short read at ${pos} of ${this.device.description}`);
  }

  metaBlock(pblk: number, what: string): Uint8Array {
    const cached = this.blocks.get(pblk);
    if (cached) return cached;
    if (!Number.isSafeInteger(pblk) || pblk < 0 || pblk >= this.sb.s_blocks_count) {
      throw corrupt(what, `block ${pblk} is past the end of the filesystem (${this.sb.s_blocks_count} blocks)`);
    }
    this.stats.metaReads++;
    const buf = new Uint8Array(this.sb.blockSize);
    this.readPhysBlocks(buf, pblk, 1, what);
    this.blocks.set(pblk, buf);
    return buf;
  }

  // ---- groups and inodes ---------------------------------------------------------------

  group(g: number): GroupDesc {
    let gd = this.groupCache.get(g);
    if (gd) return gd;
    const sb = this.sb;
    if (g < 0 || g >= sb.groupCount) throw corrupt(`ext group descriptor ${g}`, `group ${g} does not exist (${sb.groupCount} groups)`);
    const nr = Math.floor(g / sb.descPerBlock);
    const blk = descriptorBlock(sb, nr);
    const buf = this.metaBlock(blk, `group descriptor block ${nr}`);
    const off = (g % sb.descPerBlock) * sb.descSize;
    gd = parseGroupDesc(sb, g, buf.subarray(off, off + sb.descSize));
    if (!gd.checksumOk && this.csum) this.checksumMismatch(`group descriptor ${g}`);
    const itb = inodeTableBlocks(sb);
    if (gd.bg_inode_table < 1 || gd.bg_inode_table + itb > sb.s_blocks_count) {
      throw corrupt(`ext group descriptor ${g}`, `inode table at block ${gd.bg_inode_table} (+${itb}) is outside the filesystem`);
    }
    this.groupCache.set(g, gd);
    return gd;
  }

  /** The parsed on-disk inode `ino` (no liveness check). */
  inode(ino: number): Inode {
    return this.cachedInode(ino).inode;
  }

  /**
   * Inode `ino`, parsed, from the cache or read. `keep` false: not added to the cache when
   * read (a directory a recursive listing reads once: thousands of them would only fill the
   * cache, and make every young-generation GC copy them).
   */
  private cachedInode(ino: number, keep = true): CachedInode {
    const c = this.inodes.get(ino);
    if (c) return c;
    const fc = this.fcInodes?.get(ino);
    const inode = parseInode(this.sb, ino, fc ? fc.raw : this.rawInode(ino));
    // A fast-commit replayed inode: the kernel computes a fresh checksum when it writes it.
    if (fc) inode.checksumOk = true;
    if (!inode.checksumOk && this.csum) this.checksumMismatch(`inode ${ino}`);
    const entry: CachedInode = { inode };
    if (keep) this.inodes.set(ino, entry);
    return entry;
  }

  /** A copy of on-disk inode `ino` (s_inode_size bytes, through the journal overlay). */
  private rawInode(ino: number): Uint8Array {
    const sb = this.sb;
    if (!Number.isInteger(ino) || ino < 1 || ino > sb.s_inodes_count) {
      throw new GuestkitError('NOT_FOUND', `${this.where}: inode ${ino} does not exist (${sb.s_inodes_count} inodes)`);
    }
    const g = Math.floor((ino - 1) / sb.s_inodes_per_group);
    const index = (ino - 1) % sb.s_inodes_per_group;
    const gd = this.group(g);
    const bs = sb.blockSize;
    const byteOff = index * sb.s_inode_size;
    // The table is read INODE_READAHEAD_BYTES at a time (chunks aligned from its start), one
    // pread and one buffer per chunk, kept in this.itable.
    const per = Math.max(1, Math.floor(INODE_READAHEAD_BYTES / bs));
    const rel = Math.floor(byteOff / bs);
    const first = rel - (rel % per);
    const key = gd.bg_inode_table + first;
    let chunk = this.itable.get(key);
    if (!chunk) {
      const count = Math.min(per, inodeTableBlocks(sb) - first);
      chunk = new Uint8Array(count * bs);
      this.stats.metaReads++;
      this.readPhysBlocks(chunk, key, count, `inode table blocks ${key}..${key + count - 1} (inode ${ino})`);
      this.itable.set(key, chunk);
    }
    // A copy: a cached inode must not pin its inode-table chunk.
    return this.inodeCopy(chunk, (rel - first) * bs + (byteOff % bs), sb.s_inode_size);
  }

  /**
   * A copy of raw inode bytes, carved from a shared slab: one ArrayBuffer per INODE_SLAB_BYTES
   * instead of one per inode (thousands of small ArrayBuffers make the GC the bottleneck of
   * a recursive listing). A slab lives while any inode carved from it is cached.
   */
  private inodeCopy(src: Uint8Array, off: number, len: number): Uint8Array {
    if (this.slabUsed + len > this.slab.length) {
      this.slab = new Uint8Array(Math.max(INODE_SLAB_BYTES, len));
      this.slabUsed = 0;
    }
    const dst = this.slab.subarray(this.slabUsed, this.slabUsed + len);
    dst.set(src.subarray(off, off + len));
    this.slabUsed += len;
    return dst;
  }

  /** An inode a directory entry may name: in use (Linux: ext4_iget refuses i_links_count 0). */
  private live(ino: number, keep = true): CachedInode {
    const c = this.cachedInode(ino, keep);
    if (c.inode.i_links_count === 0 && ino !== EXT4_ROOT_INO) {
      throw corrupt(`${this.where}: inode ${ino}`, 'the inode is not in use (link count 0)');
    }
    return c;
  }

  private mapper(c: CachedInode): { map(lblk: number, maxLen: number): Run } {
    if (!c.mapper) {
      const i = c.inode;
      if (i.i_flags & EXT4_INLINE_DATA_FL) throw corrupt(`inode ${i.ino}`, 'inline-data inode has no block map');
      const fc = this.fcInodes?.get(i.ino);
      if (fc && (fc.emptyTree || fc.ranges.length)) {
        const base = fc.emptyTree ? null : i.i_flags & EXT4_EXTENTS_FL ? new ExtentTree(this, i) : new BlockMap(this, i);
        c.mapper = new FcMapper(base, fc.ranges);
      } else {
        c.mapper = i.i_flags & EXT4_EXTENTS_FL ? new ExtentTree(this, i) : new BlockMap(this, i);
      }
    }
    return c.mapper;
  }

  // ---- stat ----------------------------------------------------------------------------

  stat(ino: number): Stat {
    const i = this.live(ino).inode;
    const t = i.i_mode & S_IFMT;
    const tm = inodeTimes(i);
    return {
      ino,
      mode: i.i_mode,
      nlink: i.i_links_count,
      uid: i.i_uid,
      gid: i.i_gid,
      size: i.i_size,
      blocks: i.blocks512,
      blksize: this.sb.blockSize,
      rdev: t === S_IFCHR || t === S_IFBLK ? inodeRdev(i) : 0,
      atime: tm.atime,
      mtime: tm.mtime,
      ctime: tm.ctime,
      crtime: tm.crtime,
    };
  }

  // ---- file data -----------------------------------------------------------------------

  private checkReadable(i: Inode, what: string): void {
    if (i.i_flags & EXT4_ENCRYPT_FL) {
      throw new GuestkitError('UNSUPPORTED', `${this.where}: inode ${i.ino} is encrypted (fscrypt); cannot read its ${what}`);
    }
  }

  read(ino: number, buf: Uint8Array, pos: number): number {
    const c = this.live(ino);
    const i = c.inode;
    const t = i.i_mode & S_IFMT;
    if (t === S_IFDIR) throw new GuestkitError('IS_DIR', `${this.where}: inode ${ino} is a directory`);
    if (!Number.isInteger(pos) || pos < 0) throw new GuestkitError('USAGE', `read at invalid offset ${pos}`);
    if (t !== S_IFREG && t !== S_IFLNK) return 0;
    if (pos >= i.i_size || buf.length === 0) return 0;
    this.checkReadable(i, 'contents');
    const n = Math.min(buf.length, i.i_size - pos);
    this.readData(c, buf.subarray(0, n), pos);
    return n;
  }

  /** Read dst.length bytes of the file at pos (within i_size): inline data or mapped blocks. */
  private readData(c: CachedInode, dst: Uint8Array, pos: number): void {
    const i = c.inode;
    if (i.i_flags & EXT4_INLINE_DATA_FL) {
      const data = inlineFileData(i);
      dst.fill(0);
      if (pos < data.length) dst.set(data.subarray(pos, Math.min(data.length, pos + dst.length)));
      return;
    }
    const m = this.mapper(c);
    const bs = this.sb.blockSize;
    const end = pos + dst.length;
    let lblk = Math.floor(pos / bs);
    const endLblk = Math.ceil(end / bs);
    // No extent or block map addresses a block at or past 2^32: what an i_size beyond that
    // covers is a hole (and block numbers up there would lose precision as doubles, where
    // `lblk += len` stops advancing).
    if (endLblk > MAX_LBLK) {
      const holeFrom = Math.max(pos, MAX_LBLK * bs);
      dst.subarray(holeFrom - pos).fill(0);
      if (holeFrom === pos) return;
      dst = dst.subarray(0, holeFrom - pos);
      return this.readData(c, dst, pos);
    }
    // Each run covers at least one block: bounded by the blocks of dst.
    while (lblk < endLblk) {
      let r = m.map(lblk, endLblk - lblk);
      let len = r.len;
      if (r.pblk >= 0 && !r.unwritten) {
        // Coalesce physically contiguous runs into one pread.
        while (lblk + len < endLblk) {
          const nx = m.map(lblk + len, endLblk - lblk - len);
          if (nx.pblk !== r.pblk + len || nx.unwritten) break;
          len += nx.len;
        }
      }
      const from = Math.max(pos, lblk * bs);
      const to = Math.min(end, (lblk + len) * bs);
      const d = dst.subarray(from - pos, to - pos);
      if (r.pblk < 0 || r.unwritten) d.fill(0);
      else this.readPhysBytes(d, r.pblk, from - lblk * bs, `data of inode ${i.ino}`);
      lblk += len;
    }
  }

  /** Read dst.length bytes starting `off` bytes into physical block pblk, through the overlay. */
  private readPhysBytes(dst: Uint8Array, pblk: number, off: number, what: string): void {
    const bs = this.sb.blockSize;
    const first = pblk + Math.floor(off / bs);
    const nblocks = Math.ceil(((off % bs) + dst.length) / bs);
    if (first + nblocks > this.sb.s_blocks_count) {
      throw corrupt(what, `blocks ${first}..${first + nblocks - 1} are past the end of the filesystem (${this.sb.s_blocks_count} blocks)`);
    }
    if (!this.overlay || this.overlayIn(first, first + nblocks) < 0) {
      this.preadExact(dst, pblk * bs + off, what);
      return;
    }
    const tmp = new Uint8Array(nblocks * bs);
    this.readPhysBlocks(tmp, first, nblocks, what);
    dst.set(tmp.subarray(off % bs, (off % bs) + dst.length));
  }

  // ---- symlinks ------------------------------------------------------------------------

  readlink(ino: number): string {
    const c = this.live(ino);
    const i = c.inode;
    if ((i.i_mode & S_IFMT) !== S_IFLNK) throw new GuestkitError('USAGE', `${this.where}: inode ${ino} is not a symbolic link`);
    this.checkReadable(i, 'link target');
    if (i.i_size === 0) throw corrupt(`symlink inode ${ino}`, 'empty link target');
    if (i.i_size > MAX_SYMLINK) throw corrupt(`symlink inode ${ino}`, `link target of ${i.i_size} bytes is longer than ${MAX_SYMLINK}`);
    let bytes: Uint8Array;
    if (this.isFastSymlink(i)) {
      // nd_terminate_link(i_data, i_size, sizeof(i_data) - 1)
      bytes = i.i_block.subarray(0, Math.min(i.i_size, I_BLOCK_SIZE - 1));
    } else {
      bytes = new Uint8Array(i.i_size);
      this.readData(c, bytes, 0);
    }
    const nul = bytes.indexOf(0);
    return decodeName(bytes, 0, nul < 0 ? bytes.length : nul);
  }

  /** ext4_inode_is_fast_symlink. */
  private isFastSymlink(i: Inode): boolean {
    if (i.i_flags & EXT4_EA_INODE_FL) return i.i_size > 0 && i.i_size < I_BLOCK_SIZE;
    if (i.i_flags & EXT4_INLINE_DATA_FL) return false;
    const eaBlocks = i.i_file_acl ? this.sb.clusterSize / 512 : 0;
    return i.blocks512 - eaBlocks === 0;
  }

  // ---- directories ---------------------------------------------------------------------

  private dirInode(ino: number, keep = true): CachedInode {
    const c = this.live(ino, keep);
    if ((c.inode.i_mode & S_IFMT) !== S_IFDIR) throw new GuestkitError('NOT_DIR', `${this.where}: inode ${ino} is not a directory`);
    return c;
  }

  /** Check the leaf block buf[off, off + len), block `lblk` of directory `i`. */
  private verifyLeaf(buf: Uint8Array, off: number, len: number, i: Inode, lblk: number): void {
    if (!this.csum) return;
    if (lblk === 0 && i.i_flags & EXT4_INDEX_FL) return; // dx root: verified by the htree code.
    const ok = verifyDirLeaf(buf, i.csumSeed, off, len);
    if (ok === false) this.checksumMismatch(`directory inode ${i.ino} block ${lblk}`);
  }

  /**
   * Directory blocks as (lblk, buffer, count) chunks given to `fn` until it returns true:
   * each contiguous run (up to DIR_READ_CHUNK) comes in one pread. No read-ahead:
   * directories are spread over the block groups (the Orlov allocator), so neighbouring
   * blocks are rarely the next directory. Holes are skipped whole (a directory claiming a
   * huge size costs one step per hole). With `reuse`, every chunk is read into the same
   * buffer (this.dirScratch), valid until `fn` returns.
   */
  private eachDirChunk(c: CachedInode, reuse: boolean, fn: (lblk: number, buf: Uint8Array, count: number) => boolean | void): void {
    const i = c.inode;
    const bs = this.sb.blockSize;
    const nblocks = Math.ceil(i.i_size / bs);
    const m = this.mapper(c);
    const chunkBlocks = Math.max(1, Math.floor(DIR_READ_CHUNK / bs));
    let lblk = 0;
    while (lblk < nblocks) {
      const r = m.map(lblk, nblocks - lblk);
      if (r.pblk < 0 || r.unwritten) {
        lblk += r.len;
        continue;
      }
      const len = Math.min(r.len, chunkBlocks);
      if (reuse && this.dirScratch.length < len * bs) this.dirScratch = new Uint8Array(chunkBlocks * bs);
      const buf = reuse ? this.dirScratch : new Uint8Array(len * bs);
      this.readPhysBlocks(buf, r.pblk, len, `directory inode ${i.ino} blocks ${lblk}..${lblk + len - 1}`);
      if (fn(lblk, buf, len) === true) return;
      lblk += len;
    }
  }

  /** Type of an entry whose file_type byte is missing (no filetype feature) or unknown. */
  private entryTypeOf(ino: number): FileType {
    try {
      return fileTypeOfMode(this.inode(ino).i_mode);
    } catch (e) {
      if (e instanceof GuestkitError) return 'unknown';
      throw e;
    }
  }

  /**
   * Give `fn` the entries of one directory block or inline area ("." and ".." left out); a
   * bad entry is a warning and the rest of the block is skipped (as the kernel does). `where`
   * is the block's number in the directory, or an inline area's name. `count` is the number
   * of entries given so far for this directory; returns the new count.
   */
  private collect(cur: DirEntryCursor, buf: Uint8Array, start: number, end: number, dirIno: number, where: number | string, count: number, fn: DirEntryFn): number {
    cur.reset(buf, start, end);
    while (cur.next()) {
      const nameOff = cur.off + 8;
      const nameLen = cur.nameLen;
      if (buf[nameOff] === 0x2e && (nameLen === 1 || (nameLen === 2 && buf[nameOff + 1] === 0x2e))) continue;
      if (count >= LIMITS.maxDirEntries) {
        throw new GuestkitError('LIMIT', `${this.where}: directory inode ${dirIno} has more than ${LIMITS.maxDirEntries} entries`);
      }
      count++;
      const ft = cur.fileType;
      fn(decodeName(buf, nameOff, nameLen), cur.inode, ft >= 1 && ft <= 7 ? FT_NAMES[ft] : this.entryTypeOf(cur.inode));
    }
    if (cur.error) {
      const w = typeof where === 'number' ? `block ${where}` : where;
      this.addWarning(`${this.where}: directory inode ${dirIno}, ${w}: ${cur.error}; rest of the block skipped`);
    }
    return count;
  }

  /**
   * All entries of a directory, read eagerly: each contiguous run of blocks (up to
   * DIR_READ_CHUNK) in one pread into a reused buffer (see eachDirChunk), names decoded as they
   * are found, so a listing allocates only the entries it returns. htree interior blocks are
   * not entries.
   */
  readdir(dirIno: number): DirEntry[] {
    const out: DirEntry[] = [];
    this.forEachEntry(dirIno, (name, ino, type) => {
      out.push({ name, ino, type });
    });
    return out;
  }

  /**
   * readdir's entries given one by one to `fn` (no object per entry: a recursive listing
   * makes tens of thousands). All of a directory's blocks are read before it returns; `fn`
   * may stat inodes but must not read another directory of this filesystem.
   */
  forEachEntry(dirIno: number, fn: DirEntryFn): void {
    const fc = this.fcDirs?.get(dirIno);
    if (!fc) {
      this.readdirOnDisk(dirIno, fn);
      return;
    }
    // Fast-commit replay: on-disk entries (none in a directory it created) with the
    // replayed names removed or replaced, then the added names.
    if (fc.fresh) this.dirInode(dirIno);
    else {
      this.readdirOnDisk(dirIno, (name, ino, type) => {
        if (!fc.names.has(name)) fn(name, ino, type);
      });
    }
    for (const [name, ino] of fc.names) if (ino !== 0) fn(name, ino, this.entryTypeOf(ino));
  }

  private readdirOnDisk(dirIno: number, fn: DirEntryFn): void {
    // Not cached when not already: its blocks are all read here, once (see cachedInode).
    const c = this.dirInode(dirIno, false);
    const i = c.inode;
    const cur = new DirEntryCursor(this.dirOpts);
    let count = 0;
    if (i.i_flags & EXT4_INLINE_DATA_FL) {
      const { areas } = inlineDirAreas(i);
      for (const [k, a] of areas.entries()) {
        count = this.collect(cur, a, 0, a.length, dirIno, k === 0 ? 'inline data in i_block' : 'inline data in system.data', count, fn);
      }
      return;
    }
    const bs = this.sb.blockSize;
    this.eachDirChunk(c, true, (lblk, buf, len) => {
      for (let k = 0; k < len; k++) {
        const off = k * bs;
        if (lblk + k > 0 && isDxNodeBlock(buf, off, bs)) continue;
        this.verifyLeaf(buf, off, bs, i, lblk + k);
        count = this.collect(cur, buf, off, off + bs, dirIno, lblk + k, count, fn);
      }
    });
  }

  lookup(dirIno: number, name: string): number | null {
    const c = this.dirInode(dirIno);
    const i = c.inode;
    if (name.length === 0 || name.includes('/') || name.includes('\0')) return null;
    const fc = this.fcDirs?.get(dirIno);
    if (fc) {
      if (name === '.') return dirIno;
      if (name === '..' && fc.fresh) return fc.parent;
      const v = fc.names.get(name);
      if (v !== undefined) return v === 0 ? null : v;
      if (fc.fresh) return null;
    }
    const candidates = encodeNameCandidates(name).filter((b) => b.length <= EXT4_NAME_LEN);
    if (candidates.length === 0) return null;
    // A casefolded directory (generic_ci_match): names compare by their utf8 casefolding; a
    // name the kernel does not take for UTF-8 compares by its bytes. Each byte spelling of
    // `name` is folded on its own.
    const casefold = (i.i_flags & EXT4_CASEFOLD_FL) !== 0 && this.casefoldEncoding;
    const foldOf: readonly (Uint8Array | null)[] = casefold ? candidates.map((c) => casefoldName(c)) : NO_FOLDS;
    const folds: readonly Uint8Array[] = casefold ? foldOf.filter((f): f is Uint8Array => f !== null) : NO_FOLDS;
    const match = (buf: Uint8Array, nameOff: number, nameLen: number) => {
      for (const w of candidates) if (nameEquals(buf, nameOff, nameLen, w)) return true;
      if (folds.length === 0) return false;
      const f = casefoldName(buf.subarray(nameOff, nameOff + nameLen));
      if (f) for (const w of folds) if (nameEquals(f, 0, f.length, w)) return true;
      return false;
    };

    if (i.i_flags & EXT4_INLINE_DATA_FL) {
      const { parent, areas } = inlineDirAreas(i);
      if (name === '.') return dirIno;
      if (name === '..') return parent;
      for (const a of areas) {
        const found = this.searchBlock(a, dirIno, 'inline data', match);
        if (found !== null) return found;
      }
      return null;
    }

    if (name === '.') return dirIno;
    if (name === '..') {
      // The ".." entry of block 0 (in an htree directory that is the dx root, which no leaf
      // search visits).
      const b0 = this.dirBlock(c, 0);
      if (!b0) return null;
      let parent: number | null = null;
      scanDirEntries(b0, 0, b0.length, this.dirOpts, (inode, nameOff, nameLen) => {
        if (nameLen !== 2 || b0[nameOff] !== 0x2e || b0[nameOff + 1] !== 0x2e) return false;
        parent = inode;
        return true;
      });
      return parent;
    }
    if (i.i_flags & EXT4_INDEX_FL && hasCompat(this.sb, COMPAT_DIR_INDEX) && !(i.i_flags & EXT4_ENCRYPT_FL)) {
      // ext4fs_dirhash: a casefolded directory hashes the folded name (its bytes if invalid).
      const hashed = casefold ? candidates.map((c, k) => foldOf[k] ?? c) : candidates;
      const r = this.htreeLookup(c, hashed, match);
      if (r !== undefined) return r;
    }
    this.stats.linearLookups++;
    const bs = this.sb.blockSize;
    let found: number | null = null;
    this.eachDirChunk(c, false, (lblk, buf, len) => {
      for (let k = 0; k < len && found === null; k++) {
        const blk = buf.subarray(k * bs, (k + 1) * bs);
        if (lblk + k > 0 && isDxNodeBlock(blk)) continue;
        found = this.searchBlock(blk, dirIno, `block ${lblk + k}`, match);
      }
      return found !== null;
    });
    return found;
  }

  /** The inode of the entry of `buf` that `match`es, or null. Bad entries: see collect. */
  private searchBlock(buf: Uint8Array, dirIno: number, where: string, match: (buf: Uint8Array, off: number, len: number) => boolean): number | null {
    let found: number | null = null;
    const bad = scanDirEntries(buf, 0, buf.length, this.dirOpts, (inode, nameOff, nameLen) => {
      if (!match(buf, nameOff, nameLen)) return false;
      found = inode;
      return true;
    });
    if (bad && found === null) this.addWarning(`${this.where}: directory inode ${dirIno}, ${where}: ${bad}; rest of the block skipped`);
    return found;
  }

  /** One directory block by logical number, through the block cache. */
  private dirBlock(c: CachedInode, lblk: number): Uint8Array | null {
    const r = this.mapper(c).map(lblk, 1);
    if (r.pblk < 0 || r.unwritten) return null;
    return this.metaBlock(r.pblk, `directory inode ${c.inode.ino} block ${lblk}`);
  }

  /** htree lookup; undefined when the index is unusable (then the caller scans linearly). */
  private htreeLookup(c: CachedInode, candidates: Uint8Array[], match: (buf: Uint8Array, off: number, len: number) => boolean): number | null | undefined {
    const i = c.inode;
    const sb = this.sb;
    const nblocks = Math.ceil(i.i_size / sb.blockSize);
    const rootBuf = this.dirBlock(c, 0);
    if (!rootBuf) return this.badIndex(i, 'block 0 is a hole');
    let root = parsedDx.get(rootBuf) as DxRoot | string | undefined;
    if (root === undefined) {
      root = parseDxRoot(sb, rootBuf, this.csum, i.csumSeed);
      parsedDx.set(rootBuf, root);
      if (typeof root !== 'string' && !root.checksumOk) this.checksumMismatch(`htree root of directory inode ${i.ino}`);
    }
    if (typeof root === 'string') return this.badIndex(i, root);
    this.stats.htreeLookups++;
    const node = (lblk: number): DxNode | string => {
      const b = this.dirBlock(c, lblk);
      if (!b) return `index block ${lblk} is a hole`;
      let n = parsedDx.get(b);
      if (n === undefined) {
        n = parseDxNode(sb, b, this.csum, i.csumSeed);
        parsedDx.set(b, n);
        if (typeof n !== 'string' && !n.checksumOk) this.checksumMismatch(`htree node ${lblk} of directory inode ${i.ino}`);
      }
      return n;
    };
    const leaf = (lblk: number): number | null => {
      const b = this.dirBlock(c, lblk);
      if (!b) return null;
      if (!verifiedLeaves.has(b)) {
        this.verifyLeaf(b, 0, b.length, i, lblk);
        verifiedLeaves.add(b);
      }
      return this.searchBlock(b, i.ino, `block ${lblk}`, match);
    };
    for (const cand of candidates) {
      const h = dirHash(cand, root.hashVersion, sb.s_hash_seed);
      if (h === undefined) return undefined;
      const r = dxLookup(root, h, nblocks, node, leaf);
      if (typeof r === 'string') return this.badIndex(i, r);
      if (r !== null) return r;
    }
    return null;
  }

  private badIndex(i: Inode, why: string): undefined {
    this.addWarning(`${this.where}: htree index of directory inode ${i.ino} is unusable (${why}); searching it linearly`);
    return undefined;
  }

  // ---- extended attributes -------------------------------------------------------------

  private xattrEntries(c: CachedInode): XattrEntry[] {
    const i = c.inode;
    const out = inodeXattrs(i);
    if (i.i_file_acl !== 0) {
      const buf = this.metaBlock(i.i_file_acl, `xattr block ${i.i_file_acl} of inode ${i.ino}`);
      out.push(...blockXattrs(buf, i.i_file_acl, i.ino, this.csum ? this.sb.csumSeed : undefined, (w) => this.checksumMismatch(w)));
    }
    return out;
  }

  listxattr(ino: number): string[] {
    const out: string[] = [];
    for (const e of this.xattrEntries(this.live(ino))) {
      const n = xattrFullName(e.e_name_index, e.name);
      if (n !== null) out.push(n);
    }
    return out;
  }

  getxattr(ino: number, name: string): Uint8Array | null {
    const want = xattrSplitName(name);
    if (!want) return null;
    const c = this.live(ino);
    for (const e of this.xattrEntries(c)) {
      if (e.e_name_index !== want.index || e.name !== want.name) continue;
      let v: Uint8Array;
      if (e.value) v = e.value.slice();
      else v = this.eaInodeValue(c.inode, e);
      if (want.index === XATTR_INDEX_POSIX_ACL_ACCESS || want.index === XATTR_INDEX_POSIX_ACL_DEFAULT) {
        v = aclDiskToXattr(v, `ACL ${name} of inode ${ino}`);
      }
      return v;
    }
    return null;
  }

  /** ea_inode: the value is the contents of its own inode. */
  private eaInodeValue(owner: Inode, e: XattrEntry): Uint8Array {
    const vc = this.cachedInode(e.e_value_inum);
    const vi = vc.inode;
    if (!(vi.i_flags & EXT4_EA_INODE_FL)) {
      throw corrupt(`inode ${owner.ino}`, `xattr ${e.name} names value inode ${e.e_value_inum}, which is not an EA inode`);
    }
    if (vi.i_size !== e.e_value_size || e.e_value_size > XATTR_SIZE_MAX) {
      throw corrupt(`inode ${owner.ino}`, `xattr value inode ${e.e_value_inum} has ${vi.i_size} bytes, the entry says ${e.e_value_size}`);
    }
    const v = new Uint8Array(e.e_value_size);
    if (v.length) this.readData(vc, v, 0);
    return v;
  }

  // ---- statfs --------------------------------------------------------------------------

  statfs(): StatFs {
    if (this.statfsCache) return this.statfsCache;
    const sb = this.sb;
    let journalBlocks = 0;
    if (hasCompat(sb, COMPAT_HAS_JOURNAL) && sb.s_journal_inum !== 0) {
      // j_total_len: the journal inode's size, capped by the journal superblock's s_maxlen.
      try {
        const ji = this.inode(sb.s_journal_inum);
        journalBlocks = Math.floor(ji.i_size / sb.blockSize);
        const r = this.mapper(this.cachedInode(sb.s_journal_inum)).map(0, 1);
        if (r.pblk >= 0) {
          const jsb = this.metaBlock(r.pblk, 'journal superblock');
          const dv = new DataView(jsb.buffer, jsb.byteOffset, jsb.byteLength);
          if (dv.getUint32(0) === JBD2_MAGIC_NUMBER) journalBlocks = Math.min(journalBlocks, dv.getUint32(0x10));
        }
      } catch (e) {
        if (!(e instanceof GuestkitError)) throw e;
      }
    }
    this.statfsCache = extStatfs(sb, (g) => this.group(g), journalBlocks);
    return this.statfsCache;
  }
}

/** The casefolded spellings of a name looked up outside a casefolded directory: none. */
const NO_FOLDS: readonly never[] = [];

/** Parsed htree nodes and checksum-verified leaves, keyed by their (cached) block buffers. */
const parsedDx = new WeakMap<Uint8Array, DxNode | string>();
const verifiedLeaves = new WeakSet<Uint8Array>();


// The btrfs reader behind the Filesystem interface (btrfs docs, "On-disk Format" and
// "Trees"): superblock → sys_chunk_array → chunk tree (logical → physical map) → root tree
// (ROOT_ITEMs of all trees) → the fs tree of the mounted subvolume, whose items keyed by inode
// number are INODE_ITEM, INODE_REF, XATTR_ITEM, DIR_ITEM / DIR_INDEX and EXTENT_DATA.
//
// What is mounted, as Linux mounts it: the default subvolume (root tree DIR_ITEM "default",
// else the top level, tree 5), or the one given by the mount options `subvol=PATH` (a path
// from the top level, which must name a subvolume) or `subvolid=N` (0 means 5). Subvolumes
// below it appear as directories (their root directory, inode 256) and are entered by lookup
// and readdir; a subvolume entry that the root tree does not link there (in a snapshot of a
// directory that held a subvolume, or a deleted subvolume) is an empty directory (inode 2).
//
// Inode numbers (handles): the Filesystem interface has one number per file, but btrfs inode
// numbers repeat in every subvolume. A handle is slot × 2^40 + objectid, where a subvolume
// gets a slot the first time it is seen and the mounted subvolume has slot 0 — so in the
// mounted subvolume handles are the btrfs inode numbers. Objectids ≥ 2^40 or slots beyond
// 4095 (never seen in practice) get handles from a table, from 2^52 up. stat().ino is always
// the btrfs objectid, as Linux shows it (256 for every subvolume root; Linux tells subvolumes
// apart by st_dev, which this interface does not carry).

import type { BlockDevice } from '../../block/device.js';
import { allocFromDisk } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { warn } from '../../warn.js';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, fileTypeOfMode, type DirEntry, type Filesystem, type Stat, type StatFs } from '../vfs.js';
import { parseBlockGroupItem, type BlockGroupItem } from './block-group.js';
import { BoundedCache } from '../../util/bounded-cache.js';
import { BG, parseChunk, parseSysChunkArray, profileName, type Chunk } from './chunk.js';
import { BTRFS_MAX_COMPRESSED, decompressExtent } from './compression.js';
import { canVerify, csumTypeName } from './csum.js';
import { parseDevItem, type DevItem } from './dev-item.js';
import { BtrfsDevices } from './devices.js';
import { btrfsNameHash, ftToFileType, parseDirItems, sameBytes } from './dir.js';
import {
  BTRFS_FILE_EXTENT_INLINE, BTRFS_FILE_EXTENT_PREALLOC, BTRFS_COMPRESS_NONE, compressionName, parseFileExtent, type FileExtent,
} from './extent-data.js';
import { kernelDevToLinux, parseInodeItem, parseInodeRefs, type InodeItem } from './inode.js';
import {
  BTRFS_BLOCK_GROUP_ITEM_KEY, BTRFS_BLOCK_GROUP_TREE_OBJECTID, BTRFS_CHUNK_ITEM_KEY,
  BTRFS_CSUM_TREE_OBJECTID, BTRFS_DEV_ITEMS_OBJECTID, BTRFS_DEV_ITEM_KEY, BTRFS_DIR_INDEX_KEY, BTRFS_DIR_ITEM_KEY,
  BTRFS_EMPTY_SUBVOL_DIR_OBJECTID, BTRFS_EXTENT_DATA_KEY, BTRFS_EXTENT_TREE_OBJECTID, BTRFS_FIRST_CHUNK_TREE_OBJECTID,
  BTRFS_FIRST_FREE_OBJECTID, BTRFS_FREE_SPACE_TREE_OBJECTID, BTRFS_FS_TREE_OBJECTID, BTRFS_INODE_ITEM_KEY,
  BTRFS_INODE_REF_KEY, BTRFS_ROOT_ITEM_KEY, BTRFS_ROOT_REF_KEY, U64_MAX, searchKey,
} from './key.js';
import { allRootBackrefs, defaultSubvolume, findRootItem, parseRootRef, rootBackrefs, type RootItem } from './root-tree.js';
import { btrfsStatfs } from './statfs.js';
import { COMPAT_RO, INCOMPAT, INCOMPAT_SUPPORTED, readSuperblock, type Superblock } from './superblock.js';
import { Tree, TreeBlockReader } from './tree.js';
import { getXattr, listXattrs } from './xattr.js';

export interface BtrfsOpenOptions {
  /** Mount options as -m gives them: subvol=PATH, subvolid=N (others are ignored). */
  options?: string;
  /** The other devices of a multi-device filesystem (any order; others are ignored with a warning). */
  devices?: readonly BlockDevice[];
}

/** Handles: slot × SLOT_SPAN + objectid. */
export const BTRFS_SLOT_SPAN = 2 ** 40;
export const BTRFS_MAX_SLOTS = 4096;
/** First handle of the overflow table. */
export const BTRFS_OVERFLOW_BASE = 2 ** 52;
/** Subvolumes (fs trees) held open; beyond this many the filesystem is refused (LIMIT). */
export const BTRFS_MAX_SUBVOLUMES = 65536;
/** Longest symlink target read (PATH_MAX). */
const SYMLINK_MAX = 4096;
const INODE_CACHE = 16384;
const EXTENT_CACHE = 32;

/** A file inside one subvolume: (fs tree id, objectid). */
interface Loc {
  tree: number;
  oid: number;
}

interface FsTree {
  root: RootItem;
  tree: Tree;
}

export interface BtrfsSubvolume {
  id: number;
  /** Parent subvolume id (0 for the top level). */
  parent: number;
  /** Path from the top level, as `btrfs subvolume list` prints it ("" for the top level). */
  path: string;
  readonly: boolean;
}

export class BtrfsFilesystem implements Filesystem {
  readonly type = 'btrfs';
  readonly device: BlockDevice;
  readonly rootIno: number;
  readonly label?: string;
  readonly uuid: string;
  readonly warnings: string[] = [];
  readonly sb: Superblock;
  readonly devs: BtrfsDevices;
  readonly reader: TreeBlockReader;
  readonly rootTree: Tree;
  readonly chunkTree: Tree;
  /** DEV_ITEMs from the chunk tree (all devices of the filesystem). */
  readonly devItems: DevItem[] = [];
  /** Tree id of the mounted subvolume. */
  readonly subvolId: number;
  readonly defaultSubvolId: number;

  private readonly fsTrees = new Map<number, FsTree | null>();
  private readonly slotOfTree = new Map<number, number>();
  private readonly treeOfSlot: number[] = [];
  private readonly links = new Map<string, boolean>();
  private readonly overflow = new Map<string, number>();
  private readonly overflowRev: Loc[] = [];
  private readonly inodes = new BoundedCache<number, InodeItem>(INODE_CACHE);
  private readonly extents = new BoundedCache<number, Uint8Array>(EXTENT_CACHE);
  private statfsCache?: StatFs;

  constructor(dev: BlockDevice, opts: BtrfsOpenOptions = {}) {
    this.device = dev;
    const note = (m: string) => this.note(m);
    this.sb = readSuperblock(dev, note);
    const sb = this.sb;
    this.uuid = sb.fsid;
    if (sb.label) this.label = sb.label;
    const unknown = (sb.incompatFlags & ~INCOMPAT_SUPPORTED) >>> 0;
    if (unknown || sb.incompatFlagsHigh) {
      const names = Object.entries(INCOMPAT).filter(([, v]) => unknown & v).map(([k]) => k.toLowerCase());
      throw new GuestkitError('UNSUPPORTED', `${dev.description}: btrfs incompat features not supported: ${names.join(', ') || `0x${unknown.toString(16)}`}`);
    }
    if (sb.flagsHi & 0x6) throw new GuestkitError('UNSUPPORTED', `${dev.description}: btrfs metadump image (btrfs-image), not a filesystem`);
    if (!canVerify(sb.csumType)) {
      this.note(`${dev.description}: btrfs ${csumTypeName(sb.csumType)} checksums are not verified (not built in); tree blocks are checked by their headers only`);
    }
    if (sb.flagsLo & (1 << 2)) this.note(`${dev.description}: the btrfs filesystem has its error flag set (the kernel found an error when it was last mounted)`);
    if (sb.logRoot) {
      this.note(`${dev.description}: the btrfs log tree is not empty (fsync'ed changes after the last commit are not replayed; run 'btrfs rescue zero-log' on a copy if needed)`);
    }

    this.devs = new BtrfsDevices(dev, sb, opts.devices ?? [], note);
    for (const c of parseSysChunkArray(sb.sysChunkArray, sb.sectorSize)) this.devs.chunks.add(c, sb.sysChunkArray.what);
    this.reader = new TreeBlockReader(this.devs, sb, note);
    this.chunkTree = new Tree(this.reader, sb.chunkRoot, sb.chunkRootLevel, 'btrfs chunk tree', sb.chunkRootGeneration);
    const chunks: Chunk[] = [];
    for (const it of this.chunkTree.range(
      searchKey(BTRFS_FIRST_CHUNK_TREE_OBJECTID, BTRFS_CHUNK_ITEM_KEY, 0),
      searchKey(BTRFS_FIRST_CHUNK_TREE_OBJECTID, BTRFS_CHUNK_ITEM_KEY, U64_MAX),
    )) {
      chunks.push(parseChunk(it.data, 0, it.data.length, it.key.offset, sb.sectorSize));
    }
    for (const c of chunks) this.devs.chunks.add(c, 'btrfs chunk tree');
    for (const it of this.chunkTree.range(
      searchKey(BTRFS_DEV_ITEMS_OBJECTID, BTRFS_DEV_ITEM_KEY, 0),
      searchKey(BTRFS_DEV_ITEMS_OBJECTID, BTRFS_DEV_ITEM_KEY, U64_MAX),
    )) {
      if (this.devItems.length >= 65536) throw new GuestkitError('LIMIT', 'btrfs chunk tree: more than 65536 devices');
      this.devItems.push(parseDevItem(it.data, 0));
    }
    const missing = this.devItems.filter((d) => !this.devs.byId.has(d.devid)).map((d) => d.devid);
    if (missing.length) this.devs.reportMissing(missing, this.devItems.length);

    this.rootTree = new Tree(this.reader, sb.root, sb.rootLevel, 'btrfs root tree', sb.generation);
    this.defaultSubvolId = defaultSubvolume(this.rootTree, sb.rootDirObjectid);
    this.subvolId = this.chooseSubvolume(opts.options ?? '');
    const fst = this.fsTree(this.subvolId);
    if (!fst) throw new GuestkitError('NOT_FOUND', `${dev.description}: btrfs subvolume ${this.subvolId} does not exist`);
    this.slotOfTree.set(this.subvolId, 0);
    this.treeOfSlot.push(this.subvolId);
    this.rootIno = this.handle({ tree: this.subvolId, oid: fst.root.rootDirid });
    const root = this.inode({ tree: this.subvolId, oid: fst.root.rootDirid });
    if ((root.mode & S_IFMT) !== S_IFDIR) {
      throw new GuestkitError('CORRUPT', `btrfs subvolume ${this.subvolId}: root directory ${fst.root.rootDirid} is not a directory`);
    }
  }

  private note(message: string): void {
    this.warnings.push(message);
    warn(message);
  }

  // ---------------------------------------------------------------- subvolumes

  /** The fs tree of subvolume `id`, or null when it does not exist (or is being deleted). */
  private fsTree(id: number): FsTree | null {
    let t = this.fsTrees.get(id);
    if (t === undefined) {
      if (id !== BTRFS_FS_TREE_OBJECTID && (id < BTRFS_FIRST_FREE_OBJECTID || id >= 2 ** 48)) {
        t = null;
      } else {
        const root = findRootItem(this.rootTree, id);
        t = root && root.refs > 0 ? { root, tree: new Tree(this.reader, root.bytenr, root.level, `btrfs subvolume ${id}`, root.generation) } : null;
      }
      if (this.fsTrees.size >= BTRFS_MAX_SUBVOLUMES) {
        throw new GuestkitError('LIMIT', `${this.device.description}: more than ${BTRFS_MAX_SUBVOLUMES} btrfs subvolumes in use`);
      }
      this.fsTrees.set(id, t);
    }
    return t;
  }

  /** The fs tree of subvolume `id` (for tools and tests). */
  subvolumeTree(id: number): Tree {
    return this.treeOf({ tree: id, oid: 0 });
  }

  private treeOf(loc: Loc): Tree {
    const t = this.fsTree(loc.tree);
    if (!t) throw new GuestkitError('NOT_FOUND', `btrfs subvolume ${loc.tree} does not exist`);
    return t.tree;
  }

  private chooseSubvolume(options: string): number {
    let subvol: string | undefined;
    let subvolid: number | undefined;
    for (const o of options.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (o.startsWith('subvol=')) subvol = o.slice(7);
      else if (o.startsWith('subvolid=')) {
        const v = o.slice(9);
        if (!/^\d+$/.test(v)) throw new GuestkitError('USAGE', `btrfs mount option ${o}: not a subvolume id`);
        subvolid = Number(v) === 0 ? BTRFS_FS_TREE_OBJECTID : Number(v);
      }
    }
    if (subvol === undefined) {
      if (subvolid === undefined) return this.defaultSubvolId;
      if (!this.fsTree(subvolid)) throw new GuestkitError('NOT_FOUND', `${this.device.description}: btrfs subvolume id ${subvolid} does not exist`);
      return subvolid;
    }
    const top = this.fsTree(BTRFS_FS_TREE_OBJECTID);
    if (!top) throw new GuestkitError('CORRUPT', `${this.device.description}: the btrfs top-level subvolume (tree 5) is missing`);
    let at: Loc = { tree: BTRFS_FS_TREE_OBJECTID, oid: top.root.rootDirid };
    const parts = subvol.split('/').filter((p) => p && p !== '.');
    for (let i = 0; i < parts.length; i++) {
      if (parts[i] === '..') throw new GuestkitError('USAGE', `btrfs mount option subvol=${subvol}: '..' is not allowed`);
      const next = this.lookupLoc(at, Buffer.from(parts[i], 'utf8'));
      if (!next) {
        const where = i ? ` (no ${parts[i]} in ${parts.slice(0, i).join('/')})` : '';
        throw new GuestkitError('NOT_FOUND', `${this.device.description}: btrfs subvolume ${subvol} does not exist${where}`);
      }
      at = next;
    }
    const t = this.fsTree(at.tree);
    if (!t || at.oid !== t.root.rootDirid) {
      throw new GuestkitError('NOT_FOUND', `${this.device.description}: ${subvol} is not a btrfs subvolume`);
    }
    if (subvolid !== undefined && subvolid !== at.tree) {
      throw new GuestkitError('USAGE', `btrfs mount options: subvol=${subvol} is subvolume ${at.tree}, not subvolid=${subvolid}`);
    }
    return at.tree;
  }

  /** All linked subvolumes with their paths from the top level (`btrfs subvolume list -a`, roughly). */
  subvolumes(): BtrfsSubvolume[] {
    const refs = [...allRootBackrefs(this.rootTree)];
    const byChild = new Map(refs.map((r) => [r.child, r]));
    const pathOf = (id: number, depth = 0): string => {
      if (id === BTRFS_FS_TREE_OBJECTID) return '';
      const r = byChild.get(id);
      if (!r || depth > LIMITS.maxTreeDepth * 64) throw new GuestkitError('CORRUPT', `btrfs subvolume ${id}: no path to the top level`);
      const parent = pathOf(r.parent, depth + 1);
      const dir = this.dirPath({ tree: r.parent, oid: r.dirid });
      return [parent, dir, Buffer.from(r.name).toString('utf8')].filter(Boolean).join('/');
    };
    const out: BtrfsSubvolume[] = [];
    for (const r of refs) {
      const t = this.fsTree(r.child);
      out.push({ id: r.child, parent: r.parent, path: pathOf(r.child), readonly: !!t && (t.root.flags & 1) !== 0 });
    }
    return out.sort((a, b) => a.id - b.id);
  }

  /** Path of directory `loc` inside its subvolume, by INODE_REFs up to the subvolume root. */
  private dirPath(loc: Loc): string {
    const t = this.fsTree(loc.tree);
    if (!t) return '';
    const parts: string[] = [];
    let oid = loc.oid;
    for (let depth = 0; oid !== t.root.rootDirid; depth++) {
      if (depth > 4096) throw new GuestkitError('LOOP', `btrfs subvolume ${loc.tree}: directory ${loc.oid} has no path to the root (INODE_REF loop)`);
      let found = false;
      for (const it of t.tree.range(searchKey(oid, BTRFS_INODE_REF_KEY, 0), searchKey(oid, BTRFS_INODE_REF_KEY, U64_MAX))) {
        const ref = parseInodeRefs(it.data)[0];
        if (!ref) continue;
        parts.unshift(Buffer.from(ref.name).toString('utf8'));
        oid = it.key.offset;
        found = true;
        break;
      }
      if (!found) throw new GuestkitError('CORRUPT', `btrfs subvolume ${loc.tree}: directory ${oid} has no INODE_REF`);
    }
    return parts.join('/');
  }

  /** ROOT_BACKREFs of a subvolume (for tools that show where it is linked). */
  backrefs(id: number) {
    return rootBackrefs(this.rootTree, id);
  }

  // ---------------------------------------------------------------- handles

  private slot(tree: number): number {
    let s = this.slotOfTree.get(tree);
    if (s === undefined) {
      s = this.treeOfSlot.length;
      this.treeOfSlot.push(tree);
      this.slotOfTree.set(tree, s);
    }
    return s;
  }

  private handle(loc: Loc): number {
    const s = this.slot(loc.tree);
    if (s < BTRFS_MAX_SLOTS && loc.oid < BTRFS_SLOT_SPAN) return s * BTRFS_SLOT_SPAN + loc.oid;
    const k = `${loc.tree}:${loc.oid}`;
    let h = this.overflow.get(k);
    if (h === undefined) {
      h = BTRFS_OVERFLOW_BASE + this.overflowRev.length;
      this.overflowRev.push(loc);
      this.overflow.set(k, h);
    }
    return h;
  }

  private loc(h: number): Loc {
    if (!Number.isSafeInteger(h) || h < 0) throw new GuestkitError('NOT_FOUND', `btrfs inode handle ${h}: no such inode`);
    if (h >= BTRFS_OVERFLOW_BASE) {
      const l = this.overflowRev[h - BTRFS_OVERFLOW_BASE];
      if (!l) throw new GuestkitError('NOT_FOUND', `btrfs inode handle ${h}: no such inode`);
      return l;
    }
    const s = Math.floor(h / BTRFS_SLOT_SPAN);
    const tree = this.treeOfSlot[s];
    if (tree === undefined) throw new GuestkitError('NOT_FOUND', `btrfs inode handle ${h}: no such inode`);
    return { tree, oid: h - s * BTRFS_SLOT_SPAN };
  }

  /** The subvolume (tree id) and btrfs inode number behind a handle. */
  locate(h: number): { subvolume: number; objectid: number } {
    const l = this.loc(h);
    return { subvolume: l.tree, objectid: l.oid };
  }

  // ---------------------------------------------------------------- inodes

  /** The empty directory Linux shows for a subvolume entry without a matching ROOT_REF. */
  private isPlaceholder(loc: Loc): boolean {
    return loc.oid === BTRFS_EMPTY_SUBVOL_DIR_OBJECTID;
  }

  private inode(loc: Loc, h = this.handle(loc)): InodeItem {
    let ino = this.inodes.get(h);
    if (!ino) {
      if (this.isPlaceholder(loc)) {
        // new_simple_dir(): a read-only empty directory, mode 0755, owned by root; Linux gives
        // it the current time, this reader the times of the subvolume's root directory.
        const r = this.inode({ tree: loc.tree, oid: this.fsTree(loc.tree)!.root.rootDirid });
        ino = { generation: 0, size: 0, nbytes: 0, nlink: 1, uid: 0, gid: 0, mode: S_IFDIR | 0o755, rdev: 0, flags: 0, atime: r.mtime, ctime: r.mtime, mtime: r.mtime, otime: r.mtime };
      } else {
        const it = this.treeOf(loc).find(searchKey(loc.oid, BTRFS_INODE_ITEM_KEY, 0));
        if (!it) throw new GuestkitError('NOT_FOUND', `btrfs subvolume ${loc.tree}: inode ${loc.oid} does not exist`);
        ino = parseInodeItem(it.data);
      }
      this.inodes.set(h, ino);
    }
    return ino;
  }

  stat(h: number): Stat {
    const loc = this.loc(h);
    const i = this.inode(loc, h);
    const type = i.mode & S_IFMT;
    const ss = this.sb.sectorSize;
    return {
      ino: loc.oid,
      mode: i.mode,
      nlink: i.nlink,
      uid: i.uid,
      gid: i.gid,
      size: i.size,
      blocks: (Math.ceil(i.nbytes / ss) * ss) / 512,
      blksize: ss,
      rdev: type === S_IFCHR || type === S_IFBLK ? kernelDevToLinux(i.rdev) : 0,
      atime: i.atime,
      mtime: i.mtime,
      ctime: i.ctime,
      crtime: i.otime,
    };
  }

  // ---------------------------------------------------------------- directories

  private dirLoc(h: number): Loc {
    const loc = this.loc(h);
    if ((this.inode(loc).mode & S_IFMT) !== S_IFDIR) throw new GuestkitError('NOT_DIR', `btrfs inode ${loc.oid} (subvolume ${loc.tree}): Not a directory`);
    return loc;
  }

  /**
   * Where a directory entry points. A subvolume entry (location (id, ROOT_ITEM, -1)) leads into
   * that subvolume only when the root tree links it there (ROOT_REF (dir's subvolume, child)
   * with this directory and name), as the kernel's fixup_tree_root_location() requires;
   * otherwise — a snapshot of a directory that held a subvolume, a deleted subvolume — Linux
   * shows an empty directory with inode 2, and so does this reader.
   */
  private entryTarget(dir: Loc, location: { objectid: number; type: number }, name: Uint8Array): Loc {
    if (location.type === BTRFS_ROOT_ITEM_KEY) {
      const child = location.objectid;
      const t = this.fsTree(child);
      if (t && this.linked(dir, child, name)) return { tree: child, oid: t.root.rootDirid };
      return { tree: dir.tree, oid: BTRFS_EMPTY_SUBVOL_DIR_OBJECTID };
    }
    if (location.type !== BTRFS_INODE_ITEM_KEY) {
      throw new GuestkitError('CORRUPT', `btrfs subvolume ${dir.tree}: directory ${dir.oid} has an entry whose location has key type ${location.type}`);
    }
    return { tree: dir.tree, oid: location.objectid };
  }

  private linked(dir: Loc, child: number, name: Uint8Array): boolean {
    const k = `${dir.tree}:${dir.oid}:${child}`;
    let ok = this.links.get(k);
    if (ok === undefined) {
      const it = this.rootTree.find(searchKey(dir.tree, BTRFS_ROOT_REF_KEY, child));
      const ref = it ? parseRootRef(it.data, child, dir.tree) : null;
      ok = !!ref && ref.dirid === dir.oid && sameBytes(ref.name, name);
      if (this.links.size < BTRFS_MAX_SUBVOLUMES) this.links.set(k, ok);
    }
    return ok;
  }

  private lookupLoc(dir: Loc, name: Uint8Array): Loc | null {
    if (this.isPlaceholder(dir)) return null;
    const it = this.treeOf(dir).find(searchKey(dir.oid, BTRFS_DIR_ITEM_KEY, btrfsNameHash(name)));
    if (!it) return null;
    for (const d of parseDirItems(it.data)) {
      if (sameBytes(d.name, name)) return this.entryTarget(dir, d.location, d.name);
    }
    return null;
  }

  lookup(dirIno: number, name: string): number | null {
    const dir = this.dirLoc(dirIno);
    if (name === '' || name === '.' || name === '..' || name.includes('/')) return null;
    const nb = Buffer.from(name, 'utf8');
    if (nb.length > 255) return null;
    const loc = this.lookupLoc(dir, nb);
    return loc ? this.handle(loc) : null;
  }

  *readdir(dirIno: number): Iterable<DirEntry> {
    const dir = this.dirLoc(dirIno);
    if (this.isPlaceholder(dir)) return;
    let n = 0;
    for (const it of this.treeOf(dir).range(searchKey(dir.oid, BTRFS_DIR_INDEX_KEY, 2), searchKey(dir.oid, BTRFS_DIR_INDEX_KEY, U64_MAX))) {
      for (const d of parseDirItems(it.data)) {
        if (++n > LIMITS.maxDirEntries) throw new GuestkitError('LIMIT', `btrfs directory ${dir.oid}: more than ${LIMITS.maxDirEntries} entries`);
        const target = this.entryTarget(dir, d.location, d.name);
        yield {
          name: Buffer.from(d.name.buffer, d.name.byteOffset, d.name.length).toString('utf8'), // (a view: no copy)
          ino: this.handle(target),
          type: d.location.type === BTRFS_ROOT_ITEM_KEY ? 'dir' : ftToFileType(d.type),
        };
      }
    }
  }

  // ---------------------------------------------------------------- data

  readlink(h: number): string {
    const loc = this.loc(h);
    const i = this.inode(loc);
    if ((i.mode & S_IFMT) !== S_IFLNK) throw new GuestkitError('UNSUPPORTED', `btrfs inode ${loc.oid}: not a symbolic link`);
    const buf = allocFromDisk(i.size, `btrfs inode ${loc.oid}: symbolic link`, SYMLINK_MAX);
    const n = this.read(h, buf, 0);
    return Buffer.from(buf.subarray(0, n)).toString('utf8');
  }

  read(h: number, buf: Uint8Array, pos: number): number {
    const loc = this.loc(h);
    const i = this.inode(loc);
    const type = i.mode & S_IFMT;
    if (type === S_IFDIR) throw new GuestkitError('IS_DIR', `btrfs inode ${loc.oid}: Is a directory`);
    if (!Number.isSafeInteger(pos) || pos < 0 || pos >= i.size || buf.length === 0) return 0;
    const len = Math.min(buf.length, i.size - pos);
    const end = pos + len;
    const tree = this.treeOf(loc);
    const what = `btrfs subvolume ${loc.tree} inode ${loc.oid}`;
    const before = tree.findLE(searchKey(loc.oid, BTRFS_EXTENT_DATA_KEY, pos));
    const from = before && before.key.objectid === loc.oid && before.key.type === BTRFS_EXTENT_DATA_KEY ? before.key.offset : pos;
    let cur = pos;
    for (const it of tree.range(searchKey(loc.oid, BTRFS_EXTENT_DATA_KEY, from), searchKey(loc.oid, BTRFS_EXTENT_DATA_KEY, U64_MAX))) {
      const e = parseFileExtent(it.data, it.key.offset);
      if (e.fileOffset >= end) break;
      const eEnd = e.fileOffset + e.numBytes;
      if (eEnd <= cur) continue;
      if (e.fileOffset > cur) {
        buf.fill(0, cur - pos, e.fileOffset - pos);
        cur = e.fileOffset;
      }
      const stop = Math.min(end, eEnd);
      this.readExtent(e, cur - e.fileOffset, buf.subarray(cur - pos, stop - pos), `${what} extent at file offset ${e.fileOffset}`);
      cur = stop;
    }
    if (cur < end) buf.fill(0, cur - pos, end - pos);
    return len;
  }

  /** The file extent items of a file, in file order (like `filefrag -v`; for tools and tests). */
  fileExtents(h: number): FileExtent[] {
    const loc = this.loc(h);
    if (this.isPlaceholder(loc)) return [];
    const out: FileExtent[] = [];
    for (const it of this.treeOf(loc).range(searchKey(loc.oid, BTRFS_EXTENT_DATA_KEY, 0), searchKey(loc.oid, BTRFS_EXTENT_DATA_KEY, U64_MAX))) {
      out.push(parseFileExtent(it.data, it.key.offset));
    }
    return out;
  }

  /** Fill `out` with the extent's bytes from `skip` bytes into the part the item covers. */
  private readExtent(e: FileExtent, skip: number, out: Uint8Array, what: string): void {
    if (e.type === BTRFS_FILE_EXTENT_INLINE) {
      const data = e.compression === BTRFS_COMPRESS_NONE
        ? e.inline!
        : decompressExtent(e.compression, e.inline!, e.ramBytes, this.sb.sectorSize, `${what} (inline, ${compressionName(e.compression)})`);
      const n = Math.max(0, Math.min(out.length, data.length - skip));
      if (n > 0) out.set(data.subarray(skip, skip + n));
      out.fill(0, n);
      return;
    }
    if (e.type === BTRFS_FILE_EXTENT_PREALLOC || e.diskBytenr === 0) {
      out.fill(0);
      return;
    }
    if (e.compression === BTRFS_COMPRESS_NONE) {
      this.devs.read(e.diskBytenr + e.offset + skip, out, what);
      return;
    }
    let data = this.extents.get(e.diskBytenr);
    if (!data || data.length !== e.ramBytes) {
      if (e.diskNumBytes > BTRFS_MAX_COMPRESSED + this.sb.sectorSize) {
        throw new GuestkitError('CORRUPT', `${what}: compressed extent of ${e.diskNumBytes} bytes on disk (btrfs writes at most ${BTRFS_MAX_COMPRESSED})`);
      }
      const src = allocFromDisk(e.diskNumBytes, what, BTRFS_MAX_COMPRESSED + this.sb.sectorSize);
      this.devs.read(e.diskBytenr, src, what);
      data = decompressExtent(e.compression, src, e.ramBytes, this.sb.sectorSize, `${what} (${compressionName(e.compression)} extent at logical ${e.diskBytenr})`);
      this.extents.set(e.diskBytenr, data);
    }
    const at = e.offset + skip;
    out.set(data.subarray(at, at + out.length));
  }

  // ---------------------------------------------------------------- xattrs

  listxattr(h: number): string[] {
    const loc = this.loc(h);
    if (this.isPlaceholder(loc)) return [];
    return listXattrs(this.treeOf(loc), loc.oid).map((x) => x.name);
  }

  getxattr(h: number, name: string): Uint8Array | null {
    const loc = this.loc(h);
    if (this.isPlaceholder(loc)) return null;
    return getXattr(this.treeOf(loc), loc.oid, name);
  }

  // ---------------------------------------------------------------- statfs

  /** Block group items, one per chunk (from the extent tree or the block group tree). */
  blockGroups(): BlockGroupItem[] {
    const treeId = this.sb.compatRoFlags & COMPAT_RO.BLOCK_GROUP_TREE ? BTRFS_BLOCK_GROUP_TREE_OBJECTID : BTRFS_EXTENT_TREE_OBJECTID;
    const root = findRootItem(this.rootTree, treeId);
    if (!root) throw new GuestkitError('CORRUPT', `btrfs root tree: no ${treeId === BTRFS_EXTENT_TREE_OBJECTID ? 'extent' : 'block group'} tree`);
    const tree = new Tree(this.reader, root.bytenr, root.level, treeId === BTRFS_EXTENT_TREE_OBJECTID ? 'btrfs extent tree' : 'btrfs block group tree', root.generation);
    const out: BlockGroupItem[] = [];
    for (const c of this.devs.chunks.all()) {
      const it = tree.find(searchKey(c.logical, BTRFS_BLOCK_GROUP_ITEM_KEY, c.length));
      if (!it) {
        this.note(`btrfs chunk at logical ${c.logical} (${profileName(c.type)}) has no block group item; counted as empty`);
        out.push({ start: c.logical, length: c.length, used: 0, flags: c.type });
        continue;
      }
      out.push(parseBlockGroupItem(it.data, c.logical, c.length));
    }
    return out;
  }

  statfs(): StatFs {
    if (!this.statfsCache) {
      const rootsUsed: number[] = [];
      for (const id of [BTRFS_EXTENT_TREE_OBJECTID, BTRFS_CSUM_TREE_OBJECTID, BTRFS_FREE_SPACE_TREE_OBJECTID]) {
        const r = findRootItem(this.rootTree, id);
        if (r) rootsUsed.push(r.bytesUsed);
      }
      this.statfsCache = btrfsStatfs({
        sb: this.sb,
        blockGroups: this.blockGroups(),
        devices: this.devItems.filter((d) => this.devs.byId.has(d.devid)),
        globalRootsUsed: rootsUsed,
        freeSpaceTree: (this.sb.compatRoFlags & COMPAT_RO.FREE_SPACE_TREE) !== 0,
      });
    }
    return this.statfsCache;
  }

  /** Data / metadata / system profiles in use, e.g. { data: 'single', metadata: 'dup', system: 'dup' }. */
  profiles(): { data: string[]; metadata: string[]; system: string[] } {
    const out = { data: new Set<string>(), metadata: new Set<string>(), system: new Set<string>() };
    for (const c of this.devs.chunks.all()) {
      if (c.type & BG.DATA) out.data.add(profileName(c.type));
      if (c.type & BG.METADATA) out.metadata.add(profileName(c.type));
      if (c.type & BG.SYSTEM) out.system.add(profileName(c.type));
    }
    return { data: [...out.data], metadata: [...out.metadata], system: [...out.system] };
  }

  /** The file type of a handle (cheap: from the cached inode). */
  fileType(h: number) {
    return fileTypeOfMode(this.inode(this.loc(h)).mode);
  }
}

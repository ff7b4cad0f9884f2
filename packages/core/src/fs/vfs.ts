// The read-only filesystem interface every filesystem reader implements (ext, fat, ntfs,
// xfs, btrfs). It is inode-based, like FUSE's low-level API: path resolution, symlink
// confinement and mounts belong to the guest view above, never to a filesystem.

import type { BlockDevice } from '../block/device.js';

export type FileType = 'file' | 'dir' | 'symlink' | 'chardev' | 'blockdev' | 'fifo' | 'socket' | 'unknown';

export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

export function fileTypeOfMode(mode: number): FileType {
  switch (mode & S_IFMT) {
    case S_IFREG: return 'file';
    case S_IFDIR: return 'dir';
    case S_IFLNK: return 'symlink';
    case S_IFCHR: return 'chardev';
    case S_IFBLK: return 'blockdev';
    case S_IFIFO: return 'fifo';
    case S_IFSOCK: return 'socket';
    default: return 'unknown';
  }
}

export interface Timespec {
  sec: number;
  nsec: number;
}

export interface Stat {
  /** Inode number as the filesystem names it (shown by ls -i, stat). */
  ino: number;
  /** Type and permission bits, as st_mode. */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  /** Allocated size in 512-byte units, as st_blocks. */
  blocks: number;
  blksize: number;
  /** Device number for char/block devices, Linux encoding (major << 8 | minor for small ones). */
  rdev: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  /** Creation time, where the filesystem keeps one. */
  crtime?: Timespec;
}

export interface DirEntry {
  name: string;
  ino: number;
  /** From the directory entry when the filesystem stores it, else from the inode. */
  type: FileType;
}

/** Receives one directory entry (Filesystem.forEachEntry). */
export type DirEntryFn = (name: string, ino: number, type: FileType) => void;

export interface StatFs {
  /** Block size (f_bsize). */
  bsize: number;
  /** Fragment size (f_frsize); statvfs's block counts are in these units. */
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  namemax: number;
}

export interface Filesystem {
  /** Filesystem type as blkid/libguestfs names it: ext2, ext3, ext4, vfat, ntfs, xfs, btrfs. */
  readonly type: string;
  readonly device: BlockDevice;
  readonly rootIno: number;
  readonly label?: string;
  readonly uuid?: string;
  stat(ino: number): Stat;
  /** Inode of `name` in directory `dirIno`, or null. Names are exact (case rules are the fs's). */
  lookup(dirIno: number, name: string): number | null;
  /** Entries of a directory, without "." and "..". Streams large directories. */
  readdir(dirIno: number): Iterable<DirEntry>;
  /**
   * readdir's entries given one at a time to `fn`, without an object per entry (recursive
   * listings). Optional; `fn` may stat inodes but must not read another directory.
   */
  forEachEntry?(dirIno: number, fn: DirEntryFn): void;
  readlink(ino: number): string;
  /** Read up to buf.length bytes at pos; returns bytes read (0 at or past EOF). Holes read as zeros. */
  read(ino: number, buf: Uint8Array, pos: number): number;
  statfs(): StatFs;
  listxattr(ino: number): string[];
  getxattr(ino: number, name: string): Uint8Array | null;
  /**
   * Filesystem-specific facts about one inode for `ls --extra-stats` and inspection
   * (NTFS attributes and reparse tag, ext flags...). Optional.
   */
  extraInfo?(ino: number): Record<string, unknown>;
  /** Warnings gathered while opening (journal replayed, checksum mismatch...). */
  readonly warnings?: readonly string[];
}

// Messages between the FUSE server (main thread) and its guest-I/O workers. The core reader
// API is synchronous, so every guest access runs in a worker; the main thread only answers
// FUSE callbacks and never blocks on guest I/O.

/** What a worker needs to open the same guest as the server (structured-cloneable). */
export interface WorkerInit {
  argv: Record<string, unknown>;
  rawArgs: string[];
}

export type Request =
  | { id: number; op: 'getattr'; path: string }
  | { id: number; op: 'readdir'; path: string }
  | { id: number; op: 'readlink'; path: string }
  | { id: number; op: 'open'; path: string }
  | { id: number; op: 'read'; path: string; pos: number; len: number }
  | { id: number; op: 'statfs'; path: string }
  | { id: number; op: 'listxattr'; path: string }
  | { id: number; op: 'getxattr'; path: string; name: string }
  | { id: number; op: 'access'; path: string };

/** Stat as sent back: times in ms since the epoch (what fuse-native passes to the kernel). */
export interface WireStat {
  mountId: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  blocks: number;
  blksize: number;
  rdev: number;
  atime: number;
  mtime: number;
  ctime: number;
}

export interface Reply {
  id: number;
  /** Negative errno on failure. */
  errno?: number;
  /** Message of a corrupt-data (EIO) failure, logged once per path by the server. */
  message?: string;
  result?: unknown;
}

/**
 * Numbers per entry in a readdir reply: mountId, ino, mode, nlink, uid, gid, size, blocks,
 * blksize, rdev, atime, mtime, ctime (ms). nlink is NaN when the inode could not be stat'ed
 * (then mode is the directory entry's type only).
 */
export const STAT_FIELDS = 13;

/** readdir reply: names, and STAT_FIELDS numbers per name in `meta`. */
export interface DirReply {
  names: string[];
  meta: Float64Array;
}

export const ENOENT = -2;
export const EIO = -5;
export const ENOTDIR = -20;
export const EISDIR = -21;
export const EINVAL = -22;
export const EROFS = -30;
export const ENODATA = -61;
export const ELOOP = -40;
export const ENOSYS = -38;
export const ENOTCONN = -107;

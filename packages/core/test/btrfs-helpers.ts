// Shared by the btrfs*.test.ts files: opening images, walking, reading, the fixture manifest
// and the kernel's view recorded by images/recipes/btrfs-guestfs.mjs.
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { RawFile } from '../src/block/raw.js';
import type { BlockDevice } from '../src/block/device.js';
import { openBtrfs, type BtrfsFilesystem, type BtrfsOpenOptions } from '../src/fs/btrfs/index.js';
import { setWarningSink } from '../src/warn.js';
import type { DirEntry } from '../src/fs/vfs.js';

/** Warnings printed by the reader go here instead of stderr. */
export const warnings: string[] = [];
setWarningSink((m) => warnings.push(m));

export interface ManifestEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  hostIno: number;
  rdev: number;
  atime: { sec: number; nsec: number };
  mtime: { sec: number; nsec: number };
  target?: string;
  xattrs: Record<string, string>;
  sha256?: string;
}

const opened: BlockDevice[] = [];
export function closeAll(): void {
  for (const d of opened.splice(0)) d.close();
}

export function openImage(paths: string | string[], opts: BtrfsOpenOptions = {}): BtrfsFilesystem {
  const list = Array.isArray(paths) ? paths : [paths];
  const devs = list.map((p) => new RawFile(p));
  opened.push(...devs);
  return openBtrfs(devs[0], { ...opts, devices: [...(opts.devices ?? []), ...devs.slice(1)] });
}

export function loadManifest(dir: string, opts: { withoutBigdir?: boolean } = {}): ManifestEntry[] {
  const m: ManifestEntry[] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  return opts.withoutBigdir ? m.filter((e) => e.path !== 'bigdir' && !e.path.startsWith('bigdir/')) : m;
}

/** Handle of `path` ('' is the root), following no symlinks. */
export function resolve(fs: BtrfsFilesystem, path: string, from = fs.rootIno): number {
  let ino = from;
  for (const c of path.split('/').filter(Boolean)) {
    const next = fs.lookup(ino, c);
    if (next === null) throw new Error(`${path}: ${c} not found`);
    ino = next;
  }
  return ino;
}

export interface WalkEntry extends DirEntry {
  path: string;
}

/** Every entry under `ino`, depth-first by readdir. */
export function walk(fs: BtrfsFilesystem, ino = fs.rootIno, prefix = ''): WalkEntry[] {
  const out: WalkEntry[] = [];
  const stack: [number, string][] = [[ino, prefix]];
  while (stack.length) {
    const [d, p] = stack.pop()!;
    for (const e of fs.readdir(d)) {
      const path = p + e.name;
      out.push({ ...e, path });
      if (e.type === 'dir') stack.push([e.ino, path + '/']);
    }
  }
  return out;
}

/** sha256 of a file read with an odd-sized buffer (exercises ranged reads). */
export function sha256Of(fs: BtrfsFilesystem, ino: number, size: number, chunk = 65521): string {
  const h = createHash('sha256');
  const buf = new Uint8Array(chunk);
  for (let pos = 0; pos < size; ) {
    const n = fs.read(ino, buf, pos);
    if (n === 0) throw new Error(`short read at ${pos} of ${size}`);
    h.update(buf.subarray(0, n));
    pos += n;
  }
  return h.digest('hex');
}

export function readAll(fs: BtrfsFilesystem, ino: number): Buffer {
  const st = fs.stat(ino);
  const b = new Uint8Array(st.size);
  const n = fs.read(ino, b, 0);
  return Buffer.from(b.subarray(0, n));
}

export function hex(b: Uint8Array | null): string | null {
  return b === null ? null : Buffer.from(b).toString('hex');
}

// ---- the kernel's view (btrfs-guestfs oracles) --------------------------------------------

export interface OracleRec {
  ino: number;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  atime: [number, number];
  mtime: [number, number];
  blocks: number;
  target: string;
}

function findTime(s: string): [number, number] {
  const [i, f = ''] = s.split('.');
  return [Number(i), Number((f + '000000000').slice(0, 9))];
}

export interface Oracle {
  list: Map<string, OracleRec>;
  /** path → [major, minor] */
  rdev: Map<string, [number, number]>;
  sha256: Map<string, string>;
  /** path → { name: hex } */
  xattrs: Map<string, Record<string, string>>;
  statvfs: { bsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number; namelen: number };
  subvols: string;
  defaultSubvol: string;
}

const rel = (p: string) => (p === '.' ? '' : p.replace(/^\.\//, ''));

export function loadOracle(dir: string, name: string): Oracle {
  const f = (ext: string) => readFileSync(join(dir, `${name}.oracle.${ext}`), 'utf8');
  const list = new Map<string, OracleRec>();
  for (const line of f('list').split('\n')) {
    if (!line) continue;
    const x = line.split('\t');
    list.set(rel(x[10]), {
      ino: Number(x[0]), type: x[1], mode: parseInt(x[2], 8), uid: Number(x[3]), gid: Number(x[4]), size: Number(x[5]),
      nlink: Number(x[6]), atime: findTime(x[7]), mtime: findTime(x[8]), blocks: Number(x[9]), target: x[11],
    });
  }
  const rdev = new Map<string, [number, number]>();
  for (const line of f('rdev').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m) rdev.set(rel(m[3]), [parseInt(m[1], 16), parseInt(m[2], 16)]);
  }
  const sha256 = new Map<string, string>();
  for (const line of f('sha256').split('\n')) {
    const m = /^([0-9a-f]{64}) {2}(.*)$/.exec(line);
    if (m) sha256.set(rel(m[2]), m[1]);
  }
  const xattrs = new Map<string, Record<string, string>>();
  let cur: Record<string, string> | null = null;
  for (const line of f('xattr').split('\n')) {
    if (line.startsWith('# file: ')) {
      cur = {};
      xattrs.set(rel(unquote(line.slice(8))), cur);
    } else if (cur && line.includes('=')) {
      const eq = line.indexOf('=');
      const v = line.slice(eq + 1);
      cur[unquote(line.slice(0, eq))] = v.startsWith('0x') ? v.slice(2) : '';
    } else if (cur && line) {
      cur[unquote(line)] = '';
    }
  }
  const [bsize, blocks, bfree, bavail, files, ffree, namelen] = f('statvfs').trim().split(' ').map(Number);
  return {
    list, rdev, sha256, xattrs,
    statvfs: { bsize, blocks, bfree, bavail, files, ffree, namelen },
    subvols: existsSync(join(dir, `${name}.oracle.subvols`)) ? f('subvols') : '',
    defaultSubvol: existsSync(join(dir, `${name}.oracle.default`)) ? f('default') : '',
  };
}

/** getfattr's quoting (\ooo octal escapes of bytes) → text. */
function unquote(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      for (const b of Buffer.from(s[i], 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export const linuxMakedev = (major: number, minor: number) => (minor & 0xff) + ((major & 0xfff) << 8) + (minor & ~0xff) * 2 ** 12 + (major & ~0xfff) * 2 ** 32;

/**
 * Collects mismatches of a loop over thousands of entries (one expect() per field would cost
 * more than the reading): `eq(where, got, want)`, then `expect(m.list).toEqual([])`.
 */
export class Mismatches {
  readonly list: string[] = [];
  eq(where: string, got: unknown, want: unknown): void {
    const g = JSON.stringify(got);
    const w = JSON.stringify(want);
    if (g !== w && this.list.length < 50) this.list.push(`${where}: got ${g}, want ${w}`);
  }
}

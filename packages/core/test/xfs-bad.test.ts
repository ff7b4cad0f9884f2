// XFS bad input: copies of the xfs-images filesystems with single structures broken by hand
// (applied as an in-memory overlay on the real image, so no 320 MiB copies), a truncated
// image, a filesystem shut down with changes still in its log, and stale superblock counters.
// Every case must end in a GuestkitError naming the structure, quickly, or in a warning.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RawFile, GuestkitError, type BlockDevice, type MapEntry } from '@guestkit/core';
import { openXfs, XfsFilesystem, xfsDaHashname } from '../src/fs/xfs/index.js';
import { openFilesystem, READABLE_FS_TYPES } from '../src/fs/index.js';
import { setWarningSink } from '../src/warn.js';
import { ensureImage } from '../../../test/helpers/images.js';
import { resolvePath } from './fs-helpers.js';

/** A block device that reads `base` with byte ranges replaced (and optionally cut short). */
class PatchedDevice implements BlockDevice {
  readonly sectorSize = 512;
  readonly description: string;
  readonly size: number;
  constructor(private readonly base: BlockDevice, private readonly patches: [number, Uint8Array][], size?: number) {
    this.size = size ?? base.size;
    this.description = `patched ${base.description}`;
  }
  pread(buf: Uint8Array, pos: number): number {
    if (pos >= this.size) return 0;
    const want = buf.subarray(0, Math.min(buf.length, this.size - pos));
    const n = this.base.pread(want, pos);
    for (const [off, bytes] of this.patches) {
      const from = Math.max(off, pos);
      const to = Math.min(off + bytes.length, pos + n);
      if (from < to) buf.set(bytes.subarray(from - off, to - off), from - pos);
    }
    return n;
  }
  map(): MapEntry[] {
    return this.base.map();
  }
  close(): void {}
}

const be16 = (v: number) => Uint8Array.from([v >>> 8, v & 0xff]);
const be32 = (v: number) => Uint8Array.from([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
const be64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(v); return new Uint8Array(b); };

/** Encode an extent record (xfs_bmbt_rec) like the kernel's xfs_bmbt_disk_set_all. */
function bmbtRec(startoff: number, startblock: number, count: number, unwritten = false): Uint8Array {
  const l0 = (BigInt(unwritten ? 1 : 0) << 63n) | (BigInt(startoff) << 9n) | (BigInt(startblock) >> 43n);
  const l1 = ((BigInt(startblock) & ((1n << 43n) - 1n)) << 21n) | BigInt(count);
  return new Uint8Array([...be64(l0), ...be64(l1)]);
}

let dir: string;
const bases: BlockDevice[] = [];
let warnings: string[] = [];

beforeAll(() => {
  dir = ensureImage('xfs-images');
  setWarningSink((m) => warnings.push(m));
});
afterAll(() => {
  for (const b of bases) b.close();
  setWarningSink((m) => process.stderr.write(`guestkit: warning: ${m}\n`));
});

function base(name: string): BlockDevice {
  const d = new RawFile(join(dir, name));
  bases.push(d);
  return d;
}


/** Byte offset of inode `ino` on the device. */
function inodeByte(fs: XfsFilesystem, ino: number): number {
  const sb = fs.sb;
  const agino = ino % 2 ** (sb.sb_agblklog + sb.sb_inopblog);
  const agno = Math.floor(ino / 2 ** (sb.sb_agblklog + sb.sb_inopblog));
  const agbno = Math.floor(agino / sb.sb_inopblock);
  return fs.fsbToByte(agno * 2 ** sb.sb_agblklog + agbno, 'test') + (agino % sb.sb_inopblock) * sb.sb_inodesize;
}

function expectError(f: () => unknown, code: string, re: RegExp): GuestkitError {
  const t0 = Date.now();
  let err: unknown;
  try {
    const r = f();
    if (r && typeof r === 'object' && Symbol.iterator in (r as object)) [...(r as Iterable<unknown>)];
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${code} ${re}`).toBeInstanceOf(GuestkitError);
  const g = err as GuestkitError;
  expect(g.code, g.message).toBe(code);
  expect(g.message).toMatch(re);
  expect(Date.now() - t0).toBeLessThan(10_000);
  return g;
}

function readFile(fs: XfsFilesystem, ino: number): Uint8Array {
  const buf = new Uint8Array(fs.stat(ino).size);
  fs.read(ino, buf, 0);
  return buf;
}

function readAll(fs: XfsFilesystem, ino: number): number {
  let total = 0;
  const buf = new Uint8Array(1 << 20);
  for (let pos = 0; ; pos += buf.length) {
    const n = fs.read(ino, buf, pos);
    total += n;
    if (n < buf.length) return total;
  }
}

describe.each(['v5', 'v4'])('corrupted xfs %s', (variant) => {
  const img = `xfs-${variant}.img`;
  let clean: XfsFilesystem;
  let dev: BlockDevice;
  const patched = (patches: [number, Uint8Array][], size?: number) => openXfs(new PatchedDevice(dev, patches, size)) as XfsFilesystem;

  beforeAll(() => {
    dev = base(img);
    clean = openXfs(dev) as XfsFilesystem;
    warnings = [];
  });

  it('rejects a bad superblock magic', () => {
    expectError(() => patched([[0, Uint8Array.from([0x58, 0x46, 0x53, 0x00])]]), 'CORRUPT', /xfs superblock on .*bad magic/);
  });

  it('rejects impossible geometry in the superblock', () => {
    expectError(() => patched([[84, be32(7)]]), 'CORRUPT', /xfs superblock/); // sb_agblocks
    expectError(() => patched([[4, be32(3000)]]), 'CORRUPT', /block size 3000/); // sb_blocksize
  });

  it('rejects an inode whose core magic is wrong, naming the inode', () => {
    expectError(() => patched([[inodeByte(clean, clean.rootIno), be16(0x4242)]]), 'CORRUPT', new RegExp(`xfs inode ${clean.rootIno}: bad magic`));
    const ino = resolvePath(clean, 'files/hello.txt');
    const fs = patched([[inodeByte(clean, ino), be16(0)]]);
    expectError(() => fs.stat(ino), 'CORRUPT', new RegExp(`xfs inode ${ino}: bad magic`));
  });

  it('rejects a directory extent pointing past the filesystem, naming the inode', () => {
    const ino = resolvePath(clean, 'dirs/block');
    const core = variant === 'v5' ? 176 : 100;
    const e = [...clean.inode(ino).dmap!.extents()][0];
    const sb = clean.sb;
    // fsblock numbers are (AG << sb_agblklog) | block: one AG past the last, and a block past
    // the end of AG 0 (sb_agblocks is below 2^sb_agblklog).
    for (const fsb of [sb.sb_agcount * 2 ** sb.sb_agblklog + 10, sb.sb_agblocks + 5]) {
      const fs = patched([[inodeByte(clean, ino) + core, bmbtRec(e.startoff, fsb, e.blockcount)]]);
      expectError(() => fs.readdir(ino), 'CORRUPT', new RegExp(`xfs inode ${ino} data fork extent at file block 0: block ${fsb} .*past the end`));
    }
  });

  it('rejects a directory entry with an inode number outside the filesystem', () => {
    const d = resolvePath(clean, 'dirs/sf');
    // First shortform entry: header (count, i8count, 4-byte parent), then namelen, offset, name, [ftype], ino.
    const core = variant === 'v5' ? 176 : 100;
    const namelen = 'sf-entry-0000'.length;
    const inoOff = inodeByte(clean, d) + core + 6 + 3 + namelen + (clean.sb.hasFtype ? 1 : 0);
    const fs = patched([[inoOff, be32(0xfffffff0)]]);
    const ino = fs.lookup(d, 'sf-entry-0000')!;
    expect(ino).toBe(0xfffffff0);
    expectError(() => fs.stat(ino), 'CORRUPT', /outside the filesystem/);
  });

  it('stops at a bmap btree loop (a node pointing at itself, a leaf sibling pointing at itself)', () => {
    const ino = resolvePath(clean, 'sparse/fragmented');
    const inode = clean.inode(ino);
    const fork = inode.core.dfork;
    const level = fork.u16be(0);
    expect(level).toBeGreaterThanOrEqual(2);
    const rootMax = Math.floor((fork.length - 4) / 16);
    const child = Number(fork.u64beBig(4 + rootMax * 8)); // first child of the root: a level-1 node
    const hdr = variant === 'v5' ? 72 : 24;
    const bs = clean.sb.sb_blocksize;
    const nodeMax = Math.floor((bs - hdr) / 16);
    const childByte = clean.fsbToByte(child, 'test');
    // The node's first pointer → the node itself.
    const fs1 = patched([[childByte + hdr + nodeMax * 8, be64(BigInt(child))]]);
    expectError(() => readAll(fs1, ino), 'CORRUPT', /bmap btree block .* level 1 where 0 was expected/);
    // The first leaf's right sibling → itself.
    const leaf = Number(clean.readFsBlocks(child, 1, 't').u64beBig(hdr + nodeMax * 8));
    const fs2 = patched([[clean.fsbToByte(leaf, 'test') + 16, be64(BigInt(leaf))]]);
    expectError(() => [...fs2.inode(ino).dmap!.extents()], 'LOOP', /visited twice/);
    // Reads go down from the root by key and never follow that sibling: they still work.
    expect(readAll(fs2, ino)).toBe(clean.stat(ino).size);
  });

  it('stops at a da-btree loop in a node directory', () => {
    const dname = 'big';
    const d = resolvePath(clean, dname);
    const leafDablk = 2 ** 35 / clean.sb.sb_blocksize;
    const e = clean.inode(d).dmap!.lookup(leafDablk)!;
    expect(e.startoff).toBe(leafDablk);
    const rootByte = clean.fsbToByte(e.startblock, 'test');
    const root = clean.readFsBlocks(e.startblock, 1 << clean.sb.sb_dirblklog, 't');
    const hdr = variant === 'v5' ? 64 : 16;
    expect(root.u16be(8)).toBe(variant === 'v5' ? 0x3ebe : 0xfebe); // a da node
    const firstHash = root.u32be(hdr);
    // Entry 0 → the root itself; a name hashing below entry 0's hash goes there.
    const fs = patched([[rootByte + hdr + 4, be32(leafDablk)]]);
    let name = '';
    for (let i = 0; i < 50000; i++) {
      const n = `f${String(i).padStart(5, '0')}`;
      if (xfsDaHashname(Buffer.from(n)) <= firstHash) { name = n; break; }
    }
    expect(name).not.toBe('');
    expectError(() => fs.lookup(d, name), 'LOOP', /da node level 1 does not decrease/);
  });

  it('stops at an attribute leaf chain loop', () => {
    const ino = resolvePath(clean, 'xattr/node');
    const i = clean.inode(ino);
    const blk0 = i.amap!.lookup(0)!;
    const node = clean.readFsBlocks(blk0.startblock, 1, 't');
    const hdr = variant === 'v5' ? 64 : 16;
    const firstLeaf = node.u32be(hdr + 4);
    const le = i.amap!.lookup(firstLeaf)!;
    const leafByte = clean.fsbToByte(le.startblock + (firstLeaf - le.startoff), 'test');
    const fs = patched([[leafByte, be32(firstLeaf)]]); // forw → itself
    expectError(() => fs.listxattr(ino), 'LOOP', /attribute leaf .* visited twice/);
  });

  it('rejects a corrupt directory data block and a hostile symlink length', () => {
    const d = resolvePath(clean, 'dirs/leaf');
    const e = clean.inode(d).dmap!.lookup(0)!;
    const fs = patched([[clean.fsbToByte(e.startblock, 't'), be32(0x12345678)]]);
    expectError(() => fs.readdir(d), 'CORRUPT', new RegExp(`xfs directory inode ${d} data block 0: bad magic`));
    const l = resolvePath(clean, 'links/long');
    const fs2 = patched([[inodeByte(clean, l) + 56, be64(5000n)]]);
    expectError(() => fs2.readlink(l), 'CORRUPT', new RegExp(`xfs inode ${l}: symlink length 5000`));
  });

  it('reports a truncated image and fails reads past its end', () => {
    warnings = [];
    const fs = patched([], 64 * 1024 * 1024);
    expect(fs.warnings.join('\n')).toMatch(/may be truncated/);
    expect(fs.lookup(fs.rootIno, 'etc')).not.toBeNull();
    expectError(() => readAll(fs, resolvePath(fs, 'sparse/fragmented')), 'CORRUPT', /is outside patched .* \(67108864 bytes\)|short read/);
  });

  it('recomputes impossible superblock counters from the AG headers, as the kernel does', () => {
    const meta = JSON.parse(readFileSync(join(dir, `xfs-${variant}.json`), 'utf8'));
    warnings = [];
    const fs = patched([[144, be64(BigInt(clean.sb.sb_dblocks) + 1n)], [136, be64(0n)]]); // sb_fdblocks, sb_ifree
    const s = fs.statfs();
    expect({ bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, namelen: s.namemax }).toEqual(meta.statvfs);
    if (variant === 'v5') expect(fs.warnings.join('\n')).toMatch(/superblock .*checksum mismatch/);
  });
});

describe('xfs with a dirty log', () => {
  it('replays the log into memory: what only reached the log is there, as the kernel recovers it', () => {
    // The recipe wrote before/file (written back in place), then after/f0..f49 ("after N\n",
    // only in the log) and shut the filesystem down. Checked against the kernel's own recovery
    // (a loop-mounted copy): same names, inode numbers, modes, sizes, links, contents, times
    // and the same read-only statfs.
    warnings = [];
    const img = base('dirty.img');
    const before = img.map();
    const fs = openXfs(img) as XfsFilesystem;
    expect(fs.log!.clean).toBe(false);
    expect(fs.replay).not.toBeNull();
    expect(fs.replay!.transactions).toBeGreaterThan(0);
    expect(fs.replay!.replayed.get('INODE')).toBeGreaterThanOrEqual(51);
    expect(fs.replay!.replayed.get('ICREATE')).toBeGreaterThanOrEqual(1);
    expect(fs.warnings.join('\n')).not.toMatch(/not replayed|checksum mismatch/);
    const after = fs.lookup(fs.rootIno, 'after');
    expect(after).not.toBeNull();
    const names = [...fs.readdir(after!)].map((e) => e.name).filter((n) => n !== '.' && n !== '..').sort();
    expect(names).toEqual(Array.from({ length: 50 }, (_, i) => `f${i}`).sort());
    for (let i = 0; i < 50; i += 7) {
      const ino = fs.lookup(after!, `f${i}`)!;
      expect(Buffer.from(readFile(fs, ino)).toString()).toBe(`after ${i}\n`);
      const st = fs.stat(ino);
      expect(st.nlink).toBe(1);
      expect(st.mode & 0o7777).toBe(0o644);
    }
    expect(fs.stat(after!).nlink).toBe(2);
    const b = fs.lookup(fs.rootIno, 'before');
    expect(Buffer.from(readFile(fs, fs.lookup(b!, 'file')!)).toString()).toBe('before\n');
    // statfs as the kernel reports it after recovery on a read-only mount.
    const s = fs.statfs();
    expect([s.blocks, s.bfree, s.files, s.ffree]).toEqual([65536, 65412, 163840, 163784]);
    // Nothing was written to the image.
    expect(img.map()).toEqual(before);
  });

  it('a corrupt log is not replayed: one warning saying why, and the on-disk state (no hang, no crash)', () => {
    const clean = openXfs(base('dirty.img'), { replayJournal: false }) as XfsFilesystem;
    const logByte = clean.fsbToByte(clean.sb.sb_logstart, 'log');
    const tail = clean.log!.tailBlk;
    const cases: [string, [number, Uint8Array][], RegExp][] = [
      // The first operation header of the tail record: a client id that is neither 0x69 nor 0xaa.
      ['client id', [[logByte + (tail + 1) * 512 + 8, Uint8Array.from([0x55])]], /client id 0x55/],
      // The tail record's h_len: far past any record size.
      ['record length', [[logByte + tail * 512 + 12, be32(0x7fffffff)]], /record length .* too large/],
      // The tail record's magic.
      ['record magic', [[logByte + tail * 512, be32(0x12345678)]], /bad magic 0x12345678/],
    ];
    for (const [label, patches, re] of cases) {
      warnings = [];
      const fs = openXfs(new PatchedDevice(base('dirty.img'), patches)) as XfsFilesystem;
      expect(fs.replay, label).toBeNull();
      expect(fs.warnings.join('\n'), label).toMatch(/its log cannot be replayed/);
      expect(fs.warnings.join('\n'), label).toMatch(re);
      expect(fs.lookup(fs.rootIno, 'after'), label).toBeNull();
      expect(fs.lookup(fs.rootIno, 'before'), label).not.toBeNull();
    }
  });

  it('with replay disabled: warns that the log was not replayed, at the head and tail xfs_logprint shows, and still reads', () => {
    const meta = JSON.parse(readFileSync(join(dir, 'dirty.json'), 'utf8'));
    expect(meta.log.state).toBe('DIRTY');
    warnings = [];
    const fs = openXfs(base('dirty.img'), { replayJournal: false }) as XfsFilesystem;
    expect(fs.log!.clean).toBe(false);
    expect(fs.log!.headBlk).toBe(meta.log.head);
    expect(fs.log!.tailBlk).toBe(meta.log.tail);
    expect(fs.warnings.join('\n')).toMatch(/was not cleanly unmounted: its log holds changes that were not replayed/);
    expect(warnings.join('\n')).toMatch(/not cleanly unmounted/);
    // What was written back in place is there; what only reached the log is not (replay would
    // be needed to see it: xfs_logprint shows it between tail and head).
    const before = fs.lookup(fs.rootIno, 'before');
    expect(before).not.toBeNull();
    expect(Buffer.from(readFile(fs, fs.lookup(before!, 'file')!)).toString()).toBe('before\n');
    expect(fs.lookup(fs.rootIno, 'after')).toBeNull();
    // statfs recomputes the counters from the AG headers, as the kernel does after a crash.
    const s = fs.statfs();
    expect(s.blocks).toBe(fs.sb.sb_dblocks - fs.sb.sb_logblocks);
    expect(s.files).toBeGreaterThan(0);
  });
});

describe('xfs through openFilesystem', () => {
  it('is listed as readable and opened by type', () => {
    expect(READABLE_FS_TYPES).toContain('xfs');
    const fs = openFilesystem(base('xfs-v5.img'), 'xfs');
    expect(fs.type).toBe('xfs');
    expect(fs.lookup(fs.rootIno, 'etc')).not.toBeNull();
  });
});

// Hostile NTFS: copies of the ntfs-tree image patched in memory (torn MFT entries, runs outside
// the volume, index loops, undecodable LZNT1 units, references past the MFT, attribute lists
// naming foreign entries, bad boot sectors, a truncated device, random damage). Every case must
// end in a GuestkitError naming the structure: no other exception, no hang, no huge allocation.

import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { RawFile, GuestkitError, type BlockDevice, type MapEntry, type Filesystem } from '@guestkit/core';
import { openNtfs, NtfsFilesystem } from '@guestkit/core/fs/ntfs/index';
import { AT } from '@guestkit/core/fs/ntfs/attribute';
import { findRun } from '@guestkit/core/fs/ntfs/runlist';
import { applyFixups } from '@guestkit/core/fs/ntfs/fixup';
import { parseIndexRoot, parseIndexNode } from '@guestkit/core/fs/ntfs/index-node';
import { parseFileNameKey } from '@guestkit/core/fs/ntfs/file-name';
import type { DataStream } from '@guestkit/core/fs/ntfs/data-stream';
import { Bytes } from '@guestkit/core';
import { ensureImage } from '../../../test/helpers/images';

/** A read-only view of a device with byte patches laid over it (and an optional shorter size). */
class PatchedDevice implements BlockDevice {
  readonly sectorSize = 512;
  readonly description = 'patched NTFS image';
  readonly size: number;
  private readonly patches: { pos: number; bytes: Uint8Array }[] = [];
  constructor(private readonly base: BlockDevice, size?: number) {
    this.size = size ?? base.size;
  }
  patch(pos: number, bytes: ArrayLike<number>): this {
    this.patches.push({ pos, bytes: Uint8Array.from(bytes) });
    return this;
  }
  pread(buf: Uint8Array, pos: number): number {
    if (pos >= this.size) return 0;
    const n = Math.min(buf.length, this.size - pos);
    this.base.pread(buf.subarray(0, n), pos);
    for (const p of this.patches) {
      for (let i = 0; i < p.bytes.length; i++) {
        const at = p.pos + i - pos;
        if (at >= 0 && at < n) buf[at] = p.bytes[i];
      }
    }
    return n;
  }
  map(): MapEntry[] {
    return [{ start: 0, length: this.size, depth: 0, present: true, zero: false, data: true }];
  }
  close(): void {}
}

/** Byte offset on the device of byte `off` of a data stream. */
function streamOffset(fs: NtfsFilesystem, s: DataStream, off: number): number {
  const cs = fs.boot.clusterSize;
  const r = s.runs[findRun(s.runs, Math.floor(off / cs))];
  return r.lcn * cs + (off - r.vcn * cs);
}

const entryOffset = (fs: NtfsFilesystem, index: number) => streamOffset(fs, fs.mft.stream, index * fs.mft.entrySize);

/** Raw bytes of MFT entry `index` with fix-ups undone (offsets are the same as on disk). */
function rawEntry(fs: NtfsFilesystem, index: number): Uint8Array {
  const b = new Uint8Array(fs.mft.entrySize);
  fs.mft.stream.read(b, index * fs.mft.entrySize);
  return b;
}

/** Full walk: readdir, stat, readlink, read every file; returns the number of entries. */
function walkAll(fs: Filesystem, maxRead = 1 << 22): number {
  let n = 0;
  const buf = new Uint8Array(65536);
  const rec = (ino: number, depth: number) => {
    if (depth > 64) throw new Error('walk too deep');
    for (const e of fs.readdir(ino)) {
      n++;
      const st = fs.stat(e.ino);
      if (e.type === 'symlink') fs.readlink(e.ino);
      if (e.type === 'file') for (let pos = 0; pos < st.size && pos < maxRead; pos += buf.length) fs.read(e.ino, buf, pos);
      fs.listxattr(e.ino);
      if (e.type === 'dir') rec(e.ino, depth + 1);
    }
  };
  rec(fs.rootIno, 0);
  return n;
}

function expectGuestkitError(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e, String((e as Error).stack)).toBeInstanceOf(GuestkitError);
    expect((e as GuestkitError).code).toBe(code);
    expect((e as GuestkitError).message).toMatch(message);
    return;
  }
  throw new Error(`expected a GuestkitError ${code} matching ${message}`);
}

describe('NTFS: corrupt and hostile images', () => {
  let base: RawFile;
  let fs: NtfsFilesystem;
  const ino = (path: string) => {
    let cur = fs.rootIno;
    for (const n of path.split('/')) cur = fs.lookup(cur, n)!;
    return cur;
  };
  const open = (dev: BlockDevice) => openNtfs(dev);

  beforeAll(() => {
    base = new RawFile(join(ensureImage('ntfs-tree'), 'ntfs.img'));
    fs = openNtfs(base);
  });

  it('pristine image walks cleanly through the patch layer', () => {
    expect(walkAll(open(new PatchedDevice(base)))).toBeGreaterThan(5000);
  });

  it('a torn MFT entry (fix-up mismatch) is CORRUPT naming the entry', () => {
    const hello = ino('hello.txt');
    const dev = new PatchedDevice(base).patch(entryOffset(fs, hello) + 510, [0xab, 0xcd]);
    const bad = open(dev);
    expectGuestkitError(() => bad.stat(hello), 'CORRUPT', new RegExp(`^MFT entry ${hello}: fix-up mismatch in block 0`));
    // The rest of the volume still reads.
    expect(bad.stat(ino('Documents')).mode & 0o170000).toBe(0o040000);
  });

  it('a bad FILE signature on the root folder fails the open', () => {
    const dev = new PatchedDevice(base).patch(entryOffset(fs, 5), [0x58, 0x58, 0x58, 0x58]);
    expectGuestkitError(() => open(dev), 'CORRUPT', /^MFT entry 5: bad signature "XXXX"/);
  });

  it('a data run pointing past the end of the volume is CORRUPT, not a read elsewhere', () => {
    const big = ino('big.bin');
    const attr = fs.file(big).find(AT.DATA)[0];
    const raw = rawEntry(fs, big);
    const mpOff = new Bytes(raw, 'x').u16le(attr.offset + 32);
    const h = raw[attr.offset + mpOff];
    const top = attr.offset + mpOff + (h & 0xf) + (h >> 4); // last byte of the cluster delta
    expect(top % 512).toBeLessThan(510);
    const dev = new PatchedDevice(base).patch(entryOffset(fs, big) + top, [0x7f]);
    const bad = open(dev);
    expect(bad.stat(big).size).toBe(fs.stat(big).size);
    expectGuestkitError(() => bad.read(big, new Uint8Array(4096), 0), 'CORRUPT', new RegExp(`^MFT entry ${big}: \\$DATA.*points outside the volume`));
  });

  it('an index loop (a node reached twice) is CORRUPT, not an endless listing', () => {
    const many = ino('many');
    const f = fs.file(many);
    const rootAttr = f.find(AT.INDEX_ROOT, '$I30')[0];
    const root = parseIndexRoot(rootAttr.value, 'x');
    const subs = root.values.filter((v) => v.subNodeVcn >= 0);
    const alloc = f.stream(fs.vol, AT.INDEX_ALLOCATION, '$I30')!;
    const blockSize = root.indexEntrySize;
    const vcnSize = blockSize >= fs.boot.clusterSize ? fs.boot.clusterSize : 512;
    const child = subs[0].subNodeVcn;
    const node = new Uint8Array(blockSize);
    alloc.read(node, child * vcnSize);
    applyFixups(node, 'x');
    const values = parseIndexNode(new Bytes(node, 'x'), 24);
    const inner = values.find((v) => v.subNodeVcn >= 0);
    let dev: PatchedDevice;
    if (inner) {
      // An inner node: make one of its values point back at the node itself.
      const size = new Bytes(node, 'x').u16le(inner.key.byteOffset - node.byteOffset - 16 + 8);
      const at = inner.key.byteOffset - node.byteOffset - 16 + size - 8;
      expect(at % 512).toBeLessThan(502);
      const v = Buffer.alloc(8);
      v.writeBigUInt64LE(BigInt(child));
      dev = new PatchedDevice(base).patch(streamOffset(fs, alloc, child * vcnSize) + at, v);
    } else {
      // Leaves under the root: point the root's second child at the first.
      expect(subs.length).toBeGreaterThan(1);
      const raw = rawEntry(fs, many);
      const second = subs[1];
      const needle = Buffer.alloc(8);
      needle.writeBigUInt64LE(BigInt(second.subNodeVcn));
      const at = Buffer.from(raw).indexOf(needle, rootAttr.offset);
      const v = Buffer.alloc(8);
      v.writeBigUInt64LE(BigInt(child));
      dev = new PatchedDevice(base).patch(entryOffset(fs, many) + at, v);
    }
    const bad = open(dev);
    expectGuestkitError(() => [...bad.readdir(many)], 'CORRUPT', new RegExp(`^MFT entry ${many}: \\$I30 index: index loop`));
  });

  it('an INDX record with a bad signature is CORRUPT naming the VCN', () => {
    const many = ino('many');
    const f = fs.file(many);
    const root = parseIndexRoot(f.find(AT.INDEX_ROOT, '$I30')[0].value, 'x');
    const alloc = f.stream(fs.vol, AT.INDEX_ALLOCATION, '$I30')!;
    const vcnSize = root.indexEntrySize >= fs.boot.clusterSize ? fs.boot.clusterSize : 512;
    const child = root.values.find((v) => v.subNodeVcn >= 0)!.subNodeVcn;
    const dev = new PatchedDevice(base).patch(streamOffset(fs, alloc, child * vcnSize), [0x4a, 0x55, 0x4e, 0x4b]);
    expectGuestkitError(() => [...open(dev).readdir(many)], 'CORRUPT', new RegExp(`index entry at VCN ${child}: bad signature "JUNK"`));
  });

  it('a compression unit that does not decompress is CORRUPT naming the unit', () => {
    const text = ino('compressed/text.txt');
    const s = fs.file(text).stream(fs.vol, AT.DATA)!;
    expect(s.compressed).toBe(true);
    // Chunk header: compressed, 16 bytes; a tag whose first token is a back reference at 0.
    const dev = new PatchedDevice(base).patch(s.runs[0].lcn * fs.boot.clusterSize, [0x0f, 0xb0, 0x01, 0x00, 0x00]);
    expectGuestkitError(() => open(dev).read(text, new Uint8Array(100), 0), 'CORRUPT', new RegExp(`^MFT entry ${text}: \\$DATA: compression unit 0: LZNT1 chunk 0: back reference`));
    // A chunk claiming more bytes than the unit holds.
    const dev2 = new PatchedDevice(base).patch(s.runs[0].lcn * fs.boot.clusterSize, [0xff, 0xbf]);
    const units = s.runs.filter((r) => r.lcn >= 0)[0].length;
    if (units < 2) expectGuestkitError(() => open(dev2).read(text, new Uint8Array(100), 0), 'CORRUPT', /LZNT1 chunk 0 .*runs past the compressed data/);
  });

  it('a directory entry referencing an MFT entry past the MFT is CORRUPT on stat', () => {
    // Find hello.txt's index value in the root folder's INDX records and point it far away.
    const f = fs.file(5);
    const root = parseIndexRoot(f.find(AT.INDEX_ROOT, '$I30')[0].value, 'x');
    const alloc = f.stream(fs.vol, AT.INDEX_ALLOCATION, '$I30')!;
    const vcnSize = root.indexEntrySize >= fs.boot.clusterSize ? fs.boot.clusterSize : 512;
    let patched: PatchedDevice | null = null;
    for (let pos = 0; pos < alloc.size && !patched; pos += root.indexEntrySize) {
      const node = new Uint8Array(root.indexEntrySize);
      alloc.read(node, pos);
      if (Buffer.from(node.subarray(0, 4)).toString() !== 'INDX') continue;
      applyFixups(node, 'x');
      for (const v of parseIndexNode(new Bytes(node, 'x'), 24)) {
        if (v.key.length && parseFileNameKey(v.key, 'x').name === 'hello.txt') {
          const at = v.key.byteOffset - node.byteOffset - 16;
          patched = new PatchedDevice(base).patch(streamOffset(fs, alloc, pos) + at, [0x00, 0xca, 0x9a, 0x3b, 0, 0]);
        }
      }
    }
    void vcnSize;
    expect(patched).not.toBeNull();
    const bad = open(patched!);
    const far = bad.lookup(5, 'hello.txt')!;
    expect(far).toBe(1_000_000_000);
    expectGuestkitError(() => bad.stat(far), 'CORRUPT', /^MFT entry 1000000000 is past the end of the MFT/);
    expectGuestkitError(() => walkAll(bad), 'CORRUPT', /past the end of the MFT/);
  });

  it('an $ATTRIBUTE_LIST naming an entry that is not an extension is CORRUPT', () => {
    const b = ino('manylinks/a/base.txt');
    const list = fs.file(b).find(AT.ATTRIBUTE_LIST)[0];
    expect(list).toBeDefined();
    const data = fs.file(b).stream(fs.vol, AT.ATTRIBUTE_LIST)!;
    const bytes = data.readAll();
    let off = 0;
    let target = -1;
    while (off + 26 <= bytes.length) {
      const e = new Bytes(bytes, 'x');
      if (Number(e.u64leBig(off + 16) & 0xffffffffffffn) !== b) { target = off; break; }
      off += e.u16le(off + 4);
    }
    expect(target).toBeGreaterThanOrEqual(0);
    const valueOffset = new Bytes(rawEntry(fs, list.entry), 'x').u16le(list.offset + 20);
    const pos = list.resident ? entryOffset(fs, list.entry) + list.offset + valueOffset + target + 16 : streamOffset(fs, data, target + 16);
    const dev = new PatchedDevice(base).patch(pos, [5, 0, 0, 0, 0, 0]);
    expectGuestkitError(() => open(dev).stat(b), 'CORRUPT', new RegExp(`^MFT entry ${b}: \\$ATTRIBUTE_LIST: names MFT entry 5, which is not an extension`));
  });

  it('a stream whose size field is absurd is refused (LIMIT), not allocated', () => {
    const ads = ino('ads.txt');
    const big = fs.file(ads).find(AT.DATA, 'big')[0];
    expect(big.resident).toBe(false);
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(1n << 40n);
    // data size and valid data size
    const dev = new PatchedDevice(base).patch(entryOffset(fs, ads) + big.offset + 48, size).patch(entryOffset(fs, ads) + big.offset + 56, size);
    expectGuestkitError(() => open(dev).getxattr(ads, 'user.big'), 'LIMIT', /exceeds the limit/);
  });

  it('bad boot sectors: signature, sizes, MFT location', () => {
    expectGuestkitError(() => open(new PatchedDevice(base).patch(3, [0x4e, 0x54, 0x46, 0x53, 0x58])), 'UNKNOWN_FORMAT', /no NTFS signature/);
    expectGuestkitError(() => open(new PatchedDevice(base).patch(64, [0xe0])), 'CORRUPT', /MFT entry size: size exponent 32/);
    expectGuestkitError(() => open(new PatchedDevice(base).patch(64, [0x70])), 'CORRUPT', /MFT entry size: size 458752/);
    expectGuestkitError(() => open(new PatchedDevice(base).patch(13, [3])), 'CORRUPT', /sectors per cluster 3 is not a power of two/);
    expectGuestkitError(() => open(new PatchedDevice(base).patch(48, [0, 0, 0, 0, 0, 0x10, 0, 0])), 'CORRUPT', /MFT cluster .* is past the end of the volume/);
  });

  it('a truncated device: clear errors where data is missing, the rest still reads', () => {
    const dev = new PatchedDevice(base, Math.floor(base.size / 2));
    const bad = open(dev);
    expect(bad.warnings.join('\n')).toMatch(/larger than the device/);
    let err: unknown = null;
    try {
      walkAll(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GuestkitError);
    expect((err as GuestkitError).message).toMatch(/past the end of patched NTFS image/);
  });

  it('random damage to MFT entries and index blocks: only GuestkitErrors, never a hang', () => {
    let x = 12345;
    const rnd = (n: number) => {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      return x % n;
    };
    const many = ino('many');
    const alloc = fs.file(many).stream(fs.vol, AT.INDEX_ALLOCATION, '$I30')!;
    const targets = [
      ...Array.from({ length: 120 }, (_, i) => entryOffset(fs, i)),
      ...Array.from({ length: 8 }, (_, i) => streamOffset(fs, alloc, i * 4096)),
    ];
    let failures = 0;
    for (let round = 0; round < 15; round++) {
      const dev = new PatchedDevice(base);
      for (let k = 0; k < 12; k++) dev.patch(targets[rnd(targets.length)] + rnd(1024), [rnd(256)]);
      try {
        walkAll(open(dev), 65536);
      } catch (e) {
        if (!(e instanceof GuestkitError)) throw e;
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
  }, 120_000);
});

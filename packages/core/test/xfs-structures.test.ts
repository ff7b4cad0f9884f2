// Single XFS on-disk structures, one parser at a time, on samples nobody here wrote
// (../shared/samples/libyal/libfsxfs: structures cut from real XFS images by libfsxfs's
// author), and the name hash against xfs_db's `hash` command.

import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Bytes } from '../src/bytes.js';
import { parseSuperblock } from '../src/fs/xfs/superblock.js';
import { parseAgf, parseAgi, XFS_AGF_CRC_OFF, XFS_AGI_CRC_OFF } from '../src/fs/xfs/agheader.js';
import { xfsVerifyCksum } from '../src/fs/xfs/cksum.js';
import { parseDir2Sf } from '../src/fs/xfs/dir2-sf.js';
import { parseAttrSf, XFS_ATTR_SECURE } from '../src/fs/xfs/attr-sf.js';
import { parseAttrLeaf } from '../src/fs/xfs/attr-leaf.js';
import { parseDaNode, daNodeChild } from '../src/fs/xfs/dir2-node.js';
import { xfsDaHashname } from '../src/fs/xfs/dahash.js';
import { decodeBmbtRec } from '../src/fs/xfs/bmbt.js';
import { sample, ensureImage } from '../../../test/helpers/images.js';

const lib = (f: string) => readFileSync(sample(`libyal/libfsxfs/${f}`));
const bytes = (f: string) => new Bytes(new Uint8Array(lib(f)), f);

describe('XFS structures from libfsxfs samples', () => {
  it('superblock (v5): geometry, features, label, UUID, and a valid CRC-32C', () => {
    const b = bytes('superblock.1');
    const sb = parseSuperblock(b, 'sample');
    expect(sb.version).toBe(5);
    expect(sb.sb_blocksize).toBe(4096);
    expect(sb.sb_dblocks).toBe(4096);
    expect(sb.sb_agcount).toBe(1);
    expect(sb.sb_agblocks).toBe(4096);
    expect(sb.sb_inodesize).toBe(512);
    expect(sb.sb_rootino).toBe(0x2b40);
    expect(sb.sb_fname).toBe('xfs_test');
    expect(sb.uuid).toBe('aaf0a2fc-3b18-47a6-8ece-3d943a9f124d');
    expect(sb.sb_icount).toBe(64);
    expect(sb.sb_ifree).toBe(50);
    expect(sb.hasFtype && sb.hasFinobt && sb.hasSparseInodes).toBe(true);
    expect(xfsVerifyCksum(b.buf, 224)).toBe(true);
    const broken = new Uint8Array(b.buf);
    broken[0x70] ^= 1;
    expect(xfsVerifyCksum(broken, 224)).toBe(false);
  });

  it('AGF and AGI headers with valid CRCs', () => {
    const f = bytes('free_block_information.1');
    expect(xfsVerifyCksum(f.buf, XFS_AGF_CRC_OFF)).toBe(true);
    const agf = parseAgf(f, 0, 4096, 'sample AGF');
    expect(agf.agf_length).toBe(4096);
    expect(agf.agf_flcount).toBe(4);
    expect(agf.agf_freeblks).toBe(0xa90);
    expect(agf.agf_longest).toBe(0xa90);
    const i = bytes('inode_information.1');
    expect(xfsVerifyCksum(i.buf, XFS_AGI_CRC_OFF)).toBe(true);
    const agi = parseAgi(i, 0, 4096, 'sample AGI');
    expect(agi.agi_count).toBe(64);
    expect(agi.agi_freecount).toBe(50);
    expect(() => parseAgf(i, 0, 4096, 'AGI as AGF')).toThrow(/AGI as AGF: bad magic/);
  });

  it('shortform directory with ftype and NFC/NFD UTF-8 names', () => {
    const b = bytes('directory_table.1');
    const d = parseDir2Sf(b, b.length, true, 'sample sf dir');
    expect(d.parent).toBe(0x6080);
    const names = d.entries.map((e) => Buffer.from(e.name).toString('utf8'));
    expect(names.length).toBe(10);
    expect(names).toContain('emptyfile');
    expect(names).toContain('testdir1');
    expect(names).toContain('nfc_t\u00e9stfil\u00e8');
    expect(names).toContain('nfd_te\u0301stfile\u0300');
    expect(d.entries.find((e) => Buffer.from(e.name).toString() === 'testdir1')!.ftype).toBe(2);
    expect(d.entries.find((e) => Buffer.from(e.name).toString() === 'file_symboliclink1')!.ftype).toBe(7);
    expect(() => parseDir2Sf(b, b.length - 3, true, 'cut sf dir')).toThrow(/cut sf dir/);
  });

  it('shortform attributes: security.selinux', () => {
    const a = parseAttrSf(bytes('attributes_table.1'), 'sample sf attrs');
    expect(a.length).toBe(1);
    expect(a[0].flags & XFS_ATTR_SECURE).toBeTruthy();
    expect(Buffer.from(a[0].name).toString()).toBe('selinux');
    expect(Buffer.from(a[0].value!).toString()).toBe('unconfined_u:object_r:unlabeled_t:s0\0');
  });

  it('attribute leaf block (v4) and da node block', () => {
    const leaf = parseAttrLeaf(bytes('attributes_block.2'), false, 'sample attr leaf');
    expect(leaf.forw).toBe(2);
    expect(leaf.attrs.map((x) => `${Buffer.from(x.name)}=${Buffer.from(x.value!)}`).sort()).toEqual(
      [2, 3, 4, 5, 6, 7].map((n) => `myxattr${n}=Extended attribute: ${n}`),
    );
    for (const x of leaf.attrs) expect(x.flags & 0x06).toBe(0); // user namespace
    const node = parseDaNode(bytes('attributes_block.1'), false, 'sample da node');
    expect(node.level).toBe(1);
    expect(node.entries.length).toBe(16);
    const hashes = node.entries.map((e) => e.hashval);
    expect([...hashes].sort((x, y) => x - y)).toEqual(hashes);
    expect(daNodeChild(node, 0)).toBe(node.entries[0].before);
    expect(daNodeChild(node, 0xffffffff)).toBe(node.entries[15].before);
    expect(() => parseAttrLeaf(bytes('attributes_block.1'), false, 'node as leaf')).toThrow(/node as leaf: bad attribute leaf magic/);
  });

  it('extent records: every field at its bit position, flag included', () => {
    const rec = (startoff: bigint, startblock: bigint, count: bigint, flag: bigint) => {
      const l0 = (flag << 63n) | (startoff << 9n) | (startblock >> 43n);
      const l1 = ((startblock & ((1n << 43n) - 1n)) << 21n) | count;
      const b = Buffer.alloc(16);
      b.writeBigUInt64BE(l0, 0);
      b.writeBigUInt64BE(l1, 8);
      return new Bytes(new Uint8Array(b), 'rec');
    };
    expect(decodeBmbtRec(rec(0n, 0n, 1n, 0n), 0, 'r')).toEqual({ startoff: 0, startblock: 0, blockcount: 1, unwritten: false });
    expect(decodeBmbtRec(rec(2n ** 35n / 4096n, 123456789n, 0x1fffffn, 1n), 0, 'r')).toEqual({ startoff: 2 ** 35 / 4096, startblock: 123456789, blockcount: 0x1fffff, unwritten: true });
    expect(decodeBmbtRec(rec(2n ** 52n - 1n, 2n ** 52n - 1n, 7n, 0n), 0, 'r')).toEqual({ startoff: 2 ** 52 - 1, startblock: 2 ** 52 - 1, blockcount: 7, unwritten: false });
    expect(() => decodeBmbtRec(rec(2n ** 54n - 1n, 0n, 1n, 0n), 0, 'huge')).toThrow(/huge: extent file offset is too large/);
  });
});

describe('XFS name hash', () => {
  it('equals xfs_db hash for names of every length class', () => {
    const img = join(ensureImage('xfs-images'), 'xfs-v4.img');
    const names = ['a', 'ab', 'abc', 'abcd', 'abcde', 'f00123', 'lost+found', 'café-ünïcödé.txt', 'x'.repeat(255), 'Mixed.Case', '..'];
    const args = ['-r', ...names.flatMap((n) => ['-c', `hash ${n}`]), img];
    const out = execFileSync('xfs_db', args, { encoding: 'utf8' }).trim().split('\n');
    expect(out.length).toBe(names.length);
    names.forEach((n, i) => expect(`0x${xfsDaHashname(Buffer.from(n)).toString(16)}`, n).toBe(out[i]));
  });
});

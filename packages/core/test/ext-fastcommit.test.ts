// ext4 fast-commit replay: an image the Linux kernel left with full jbd2 transactions and
// fast commits in its journal (images/recipes/ext-fastcommit.mjs: file operations, each
// fsynced, then the appliance rebooted without unmounting) reads, file for file, as the
// kernel itself shows it after its own recovery (kernel.txt, listed in the appliance from a
// mounted copy). Without replay, or with fast commits ignored, it does not. The fast-commit
// scanner's bounds and checksum rules are tested on altered copies of the real log.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureImage } from '../../../test/helpers/images.js';
import { openExtImage, walk, sha256Of, warnings, debugfs } from './ext-helpers.js';
import { FcAllocator } from '../src/fs/ext/journal/fast-commit-alloc.js';
import type { ExtFs } from '../src/fs/ext/index.js';
import type { StatFs } from '../src/fs/vfs.js';
import { parseJournalSuperblock } from '../src/fs/ext/journal/superblock.js';
import { scanFastCommits } from '../src/fs/ext/journal/fast-commit.js';

/** The kernel listing's format: "./path mode:uid:size:nlink:blocks sha256-or-dash" (mode in hex, as stat %f), sorted by path. */
function listing(fs: ExtFs): string {
  const lines = walk(fs).map((e) => {
    const st = fs.stat(e.ino);
    const sum = e.type === 'file' ? sha256Of(fs, e.ino, st.size) : '-';
    return `./${e.path} ${st.mode.toString(16)}:${st.uid}:${st.size}:${st.nlink}:${st.blocks} ${sum}`;
  });
  return lines.sort((a, b) => Buffer.compare(Buffer.from(a.split(' ')[0]), Buffer.from(b.split(' ')[0]))).join('\n') + '\n';
}

describe('ext4 fast-commit replay (kernel-written image)', () => {
  let dir: string;
  let kernel: string;
  beforeAll(() => {
    dir = ensureImage('ext-fastcommit');
    kernel = readFileSync(join(dir, 'kernel.txt'), 'utf8');
  });

  it('reads as the kernel shows it after recovery', () => {
    warnings.length = 0;
    const fs = openExtImage(join(dir, 'crash.img'));
    expect(listing(fs)).toBe(kernel);
    expect(fs.stats.fastCommits).toBeGreaterThan(0);
    expect(warnings.some((w) => /replayed \d+ fast commit/.test(w))).toBe(true);
    // Nothing to warn about beyond the two replay notes.
    expect(warnings.filter((w) => !/replayed \d+ (journal transaction|fast commit)/.test(w))).toEqual([]);
  });

  it('differs without replay (the test can fail)', () => {
    const fs = openExtImage(join(dir, 'crash.img'), { replayJournal: false });
    expect(listing(fs)).not.toBe(kernel);
  });

  it("statfs after replay equals the kernel's statvfs of the recovered filesystem (free blocks and inodes)", () => {
    const want = JSON.parse(readFileSync(join(dir, 'kernel-statfs.json'), 'utf8'));
    const pick = (s: StatFs) => ({ bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree });
    expect(pick(openExtImage(join(dir, 'crash.img')).statfs())).toEqual(want);
    // The on-disk counts (no replay) are not the kernel's.
    expect(pick(openExtImage(join(dir, 'crash.img'), { replayJournal: false }).statfs())).not.toEqual(want);
  });

  it("group descriptors after replay carry the counts the kernel wrote back after its recovery (kernel.img)", () => {
    const replayed = openExtImage(join(dir, 'crash.img'));
    const recovered = openExtImage(join(dir, 'kernel.img'), { replayJournal: false });
    const counts = (fs: ExtFs) => Array.from({ length: fs.sb.groupCount }, (_, g) => {
      const gd = fs.group(g);
      return { g, free: gd.bg_free_blocks_count, ifree: gd.bg_free_inodes_count, dirs: gd.bg_used_dirs_count, unused: gd.bg_itable_unused };
    });
    expect(counts(replayed)).toEqual(counts(recovered));
    expect(counts(openExtImage(join(dir, 'crash.img'), { replayJournal: false }))).not.toEqual(counts(recovered));
  });

  describe('bitmap bookkeeping rules (ext4_mb_mark_bb, ext4_mark_inode_used, ext4_mb_new_blocks_simple) on real bitmaps', () => {
    // ext4-1k.img: 1 KiB blocks, 8192 blocks per group; blocks 16383-16384 (group 1) free and
    // 16385-16386 (group 2) in use, as debugfs testb says. base.img: the fast-commit image
    // before the crash (blocks from 1628 on and inodes from 59 on are free).
    const allocFor = (fs: ExtFs) => new FcAllocator({ sb: fs.sb, group: (g) => fs.group(g), block: (p, w) => fs.metaBlock(p, w) });
    const free = (a: FcAllocator, fs: ExtFs, g: number) => (a.changedGroups.get(g) ?? fs.group(g)).bg_free_blocks_count;

    it('counts only the bits that flip, group by group, and refuses blocks outside the filesystem', () => {
      const img = ensureImage('ext-ext4-1k', 'ext4-1k.img');
      const fs = openExtImage(img);
      expect(debugfs(img, 'testb 16383 4')).toMatch(/16384 not in use\n.*16385 marked in use/s);
      const a = allocFor(fs);
      const [g1, g2] = [free(a, fs, 1), free(a, fs, 2)];
      a.markBlocks(16383, 4, false);
      expect([free(a, fs, 1) - g1, free(a, fs, 2) - g2]).toEqual([0, 2]);
      a.markBlocks(16383, 4, true);
      a.markBlocks(16383, 4, true);
      expect([free(a, fs, 1) - g1, free(a, fs, 2) - g2]).toEqual([-2, 0]);
      a.markBlocks(fs.sb.s_blocks_count - 1, 5, true);
      expect(a.problems).toEqual([`blocks ${fs.sb.s_blocks_count - 1}..${fs.sb.s_blocks_count + 3} are outside the filesystem`]);
    });

    it('marks an inode in use once, frees it once, and allocates the first free block no region excludes', () => {
      const fs = openExtImage(join(dir, 'base.img'));
      const a = allocFor(fs);
      const ifree = () => (a.changedGroups.get(0) ?? fs.group(0)).bg_free_inodes_count;
      const i0 = ifree();
      a.markInodeUsed(60);
      a.markInodeUsed(60);
      expect(ifree()).toBe(i0 - 1);
      expect(a.changedGroups.get(0)!.bg_itable_unused).toBe(fs.sb.s_inodes_per_group - 60);
      a.freeInode(60, false);
      a.freeInode(60, false);
      expect(ifree()).toBe(i0);
      a.markInodeUsed(3); // a reserved inode: refused
      expect(a.problems).toEqual(['inode 3 cannot be marked in use']);
      const b0 = free(a, fs, 0);
      a.exclude(1628, 2);
      expect(a.allocBlock(0)).toBe(1630);
      expect(a.allocBlock(1700)).toBe(1700);
      expect(free(a, fs, 0)).toBe(b0 - 2);
    });
  });

  describe('scan rules on the real fast-commit area', () => {
    let area: Uint8Array[];
    let tid: number;
    beforeAll(() => {
      // The journal (inode 8) of the crashed image, read through the reader.
      const fs = openExtImage(join(dir, 'crash.img'), { replayJournal: false });
      const bs = fs.sb.blockSize;
      const size = fs.stat(8).size;
      const j = new Uint8Array(size);
      fs.read(8, j, 0);
      const jsb = parseJournalSuperblock(j.subarray(0, bs), 'journal');
      area = [];
      for (let b = jsb.last + 1; b < jsb.s_maxlen; b++) area.push(j.slice(b * bs, (b + 1) * bs));
      // The HEAD's tid is the expected one for this (genuine) log.
      tid = area[0][8] | (area[0][9] << 8) | (area[0][10] << 16) | (area[0][11] << 24);
    });
    const scan = (blocks: Uint8Array[], t = tid) => scanFastCommits((i) => blocks[i], blocks.length, t, 256);

    it('finds every kind of record', () => {
      const r = scan(area);
      expect(r.problem).toBeUndefined();
      expect(new Set(r.ops.map((o) => o.tag))).toEqual(new Set(['inode', 'add_range', 'del_range', 'creat', 'link', 'unlink']));
    });

    it('a HEAD from another transaction means nothing to replay', () => {
      expect(scan(area, (tid + 1) >>> 0).ops).toEqual([]);
    });

    it('a bad TAIL checksum stops the replay at the last good fast commit', () => {
      const all = scan(area);
      // Corrupt one byte of a record in the last fast commit: its TAIL no longer matches.
      const blocks = area.map((b) => b.slice());
      // The block of the last good TAIL (each fast commit starts a block: TAILs pad to its end).
      const lastTail = (() => {
        let seen = 0;
        for (let i = 0; i < blocks.length; i++) {
          for (let o = 0; o + 4 <= blocks[i].length; ) {
            const tag = blocks[i][o] | (blocks[i][o + 1] << 8);
            const len = blocks[i][o + 2] | (blocks[i][o + 3] << 8);
            if (tag < 1 || tag > 9) break;
            if (tag === 8 && ++seen === all.commits) return i;
            o += 4 + len;
          }
        }
        return -1;
      })();
      expect(lastTail).toBeGreaterThan(0);
      blocks[lastTail][6] ^= 0xff; // inside the first record of the last fast-commit block
      const r = scan(blocks);
      expect(r.commits).toBeLessThan(all.commits);
      expect(r.ops.length).toBeLessThan(all.ops.length);
      expect(r.ops).toEqual(all.ops.slice(0, r.ops.length));
    });

    it('a record running past its block ends the scan without reading past it', () => {
      const blocks = area.map((b) => b.slice());
      blocks[0][2] = 0xff; // the HEAD's fc_len: 0xffff bytes, past the block
      blocks[0][3] = 0xff;
      const r = scan(blocks);
      expect(r.ops).toEqual([]);
      expect(r.problem).toMatch(/invalid/);
    });
  });
});

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
import { openExtImage, walk, sha256Of, warnings } from './ext-helpers.js';
import type { ExtFs } from '../src/fs/ext/index.js';
import { parseJournalSuperblock } from '../src/fs/ext/journal/superblock.js';
import { scanFastCommits } from '../src/fs/ext/journal/fast-commit.js';

/** The kernel listing's format: "./path mode:uid:size:nlink sha256-or-dash" (mode in hex, as stat %f), sorted by path. */
function listing(fs: ExtFs): string {
  const lines = walk(fs).map((e) => {
    const st = fs.stat(e.ino);
    const sum = e.type === 'file' ? sha256Of(fs, e.ino, st.size) : '-';
    return `./${e.path} ${st.mode.toString(16)}:${st.uid}:${st.size}:${st.nlink} ${sum}`;
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

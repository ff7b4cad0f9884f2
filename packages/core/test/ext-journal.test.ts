// jbd2 journal replay into an in-memory overlay: images whose journal holds unreplayed
// transactions (images/recipes/ext-journal.mjs, written with debugfs's journal writer, and
// e2fsprogs's own j_recover_csum3_64bit and f_jnl_64bit) read like their `e2fsck -fy`
// copies; --no-replay shows the on-disk state; the image file is never written.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, copyFileSync, mkdtempSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureImage, sample } from '../../../test/helpers/images.js';
import { openExtImage, resolve, walk, sha256Of, hex, debugfs, unpackSample, warnings } from './ext-helpers.js';
import type { ExtFs } from '../src/fs/ext/index.js';
// @ts-expect-error plain JS module
import { LINUX_TREE } from '../../../images/fixtures/linux-tree.mjs';

const fileSha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Everything a reader shows of a filesystem, as comparable records. */
function snapshot(fs: ExtFs): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of walk(fs)) {
    const st = fs.stat(e.ino);
    const r: Record<string, unknown> = { ...st, type: e.type };
    delete r.atime; // e2fsck does not touch atimes, but keep the comparison about content
    if (e.type === 'file') r.sha256 = sha256Of(fs, e.ino, st.size);
    if (e.type === 'symlink') r.target = fs.readlink(e.ino);
    if (e.type === 'dir') r.size = undefined;
    r.xattrs = Object.fromEntries(fs.listxattr(e.ino).map((n) => [n, hex(fs.getxattr(e.ino, n))]));
    out[e.path] = r;
  }
  return out;
}

/** e2fsck -fy on a copy (the replay the kernel or e2fsck would do). */
function fsckCopy(img: string, dir: string): string {
  const copy = join(dir, 'fsck-copy.img');
  copyFileSync(img, copy);
  const r = spawnSync('e2fsck', ['-fy', copy], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`e2fsck: ${r.stdout}${r.stderr}`);
  return copy;
}

function patch(path: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

for (const kind of ['ext4', 'ext4-1k'] as const) {
  describe(`${kind} image with unreplayed transactions (debugfs journal writer, ${kind === 'ext4' ? '64-bit tags, checksum v3' : '32-bit tags, checksum v2'})`, () => {
    let dir: string;
    let img: string;
    let info: { blockSize: number; changedBlocks: number[]; revoked: number; uncommitted: number; original: { revoked: string; uncommitted: string } };
    let manifest: { path: string; sha256?: string }[];
    let imageSha: string;
    let tmp: string;

    beforeAll(() => {
      dir = join(ensureImage('ext-journal'), kind);
      img = join(dir, `${kind}-journal.img`);
      info = JSON.parse(readFileSync(join(dir, 'journal.json'), 'utf8'));
      manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      imageSha = fileSha(img);
      tmp = mkdtempSync(join(tmpdir(), 'guestkit-journal-'));
    });
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it('needs recovery (superblock flag and a non-empty log, as debugfs logdump shows)', () => {
      expect(debugfs(img, 'stats')).toMatch(/Filesystem features:.*needs_recovery/);
      const dump = execFileSync('dumpe2fs', ['-h', img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(dump).toMatch(/Journal features:.*journal_incompat_revoke/);
      expect(dump).toMatch(kind === 'ext4' ? /Journal features:.*journal_64bit journal_checksum_v3/ : /Journal features:(?!.*journal_64bit).*journal_checksum_v2\n/);
      const log = debugfs(img, 'logdump');
      expect(log).toMatch(/Found expected sequence 3, type 2 \(commit block\)/);
      expect(log).toMatch(/Found expected sequence 4, type 1 \(descriptor block\)/);
      expect(log).not.toMatch(/Found expected sequence 4, type 2/);
    });

    it('reads like its e2fsck -fy copy after the in-memory replay', () => {
      const w0 = warnings.length;
      const fs = openExtImage(img);
      expect(fs.stats.journalTransactions).toBe(3);
      expect(fs.warnings.join('\n')).toMatch(/replayed 3 journal transaction\(s\) \(\d+ blocks\) in memory; the image is not modified/);
      expect(warnings.slice(w0).join('\n')).toMatch(/replayed 3 journal transaction/);
      const ref = openExtImage(join(dir, 'fsck.img'));
      expect(ref.warnings).toEqual([]);
      expect(snapshot(fs)).toEqual(snapshot(ref));
    });

    it('shows the transactions: a new file and directory, a removed file, a changed inode', () => {
      const fs = openExtImage(img);
      const added = resolve(fs, 'journal-added.bin');
      const want = readFileSync(join(dir, 'added.bin'));
      const got = new Uint8Array(want.length);
      expect(fs.read(added, got, 0)).toBe(want.length);
      expect(Buffer.from(got).equals(want)).toBe(true);
      // Its first block starts with the jbd2 magic: logged escaped, restored on replay.
      expect(hex(got.subarray(0, 4))).toBe('c03b3998');
      expect(Buffer.from(new Uint8Array(fs.stat(resolve(fs, 'journal-dir/note.txt')).size)).length).toBeGreaterThan(0);
      expect(fs.lookup(resolve(fs, 'etc'), 'os-release')).toBeNull();
      const host = fs.stat(resolve(fs, 'etc/hostname'));
      expect(host.mode).toBe(0o100600);
      expect(host.uid).toBe(4321);
    });

    it('honours the revoke record and ignores the uncommitted transaction', () => {
      const fs = openExtImage(img);
      const bySha = new Map(manifest.map((m) => [m.path, m.sha256]));
      for (const p of ['nested/top.txt', 'etc/fstab']) {
        const ino = resolve(fs, p);
        expect(sha256Of(fs, ino, fs.stat(ino).size), p).toBe(bySha.get(p));
      }
      // And the blocks themselves, as the overlay serves them.
      const bs = info.blockSize;
      for (const [blk, want] of [[info.revoked, info.original.revoked], [info.uncommitted, info.original.uncommitted]] as const) {
        const b = (fs as unknown as { metaBlock(p: number, w: string): Uint8Array }).metaBlock(blk, 'test');
        expect(b.length).toBe(bs);
        expect(createHash('sha256').update(b).digest('hex')).toBe(want);
      }
    });

    it('--no-replay (replayJournal: false) shows the on-disk state: the fixture tree as it was', () => {
      const fs = openExtImage(img, { replayJournal: false });
      expect(fs.stats.journalTransactions).toBe(0);
      expect(fs.warnings.join('\n')).toMatch(/replay is disabled/);
      const listed = walk(fs).map((e) => e.path).sort();
      expect(listed).toEqual([...manifest.filter((m) => m.path !== '').map((m) => m.path), 'lost+found'].sort());
      for (const m of manifest) {
        if (m.sha256 === undefined) continue;
        const ino = resolve(fs, m.path);
        expect(sha256Of(fs, ino, fs.stat(ino).size), m.path).toBe(m.sha256);
      }
    });

    it(`looks up every name of htree-medium through its index (${kind === 'ext4-1k' ? 'TEA' : 'half-MD4'}, signed)`, () => {
      const fs = openExtImage(img);
      expect(debugfs(img, 'htree /htree-medium')).toMatch(new RegExp(`Hash Version: ${kind === 'ext4-1k' ? 2 : 1}\\b`));
      expect(debugfs(img, 'stats')).toContain('signed_directory_hash');
      const dir = resolve(fs, 'htree-medium');
      const listed = [...fs.readdir(dir)];
      expect(listed.length).toBe(LINUX_TREE.mediumDirEntries);
      const before = { ...fs.stats };
      expect(listed.filter((e) => fs.lookup(dir, e.name) !== e.ino).map((e) => e.name)).toEqual([]);
      expect(fs.stats.htreeLookups - before.htreeLookups).toBe(listed.length);
      expect(fs.stats.linearLookups - before.linearLookups).toBe(0);
    });

    it("statfs after replay equals the Linux kernel's statvfs of the recovered filesystem (libguestfs golden)", () => {
      // Regenerate with: node packages/core/test/ext-statfs-golden.mjs ext-journal
      const golden = JSON.parse(readFileSync(join(__dirname, 'ext-statfs.golden.json'), 'utf8'));
      const g = golden.images[`ext-journal/${kind}/${kind}-journal.img`];
      expect(g, 'no golden for this image').toBeDefined();
      const { recipeHash: _h, ...want } = g;
      const s = openExtImage(img).statfs();
      expect({ bsize: s.bsize, frsize: s.frsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, favail: s.favail, namemax: s.namemax }).toEqual(want);
      // The transactions change the counts: the on-disk ones differ.
      const raw = openExtImage(img, { replayJournal: false }).statfs();
      expect([raw.bfree, raw.ffree]).not.toEqual([want.bfree, want.ffree]);
    });

    it('never writes to the image', () => {
      openExtImage(img);
      openExtImage(img, { replayJournal: false });
      expect(fileSha(img)).toBe(imageSha);
      expect(debugfs(img, 'stats')).toMatch(/needs_recovery/);
    });

    /** Physical block of journal block `j` and the log's block numbers by type. */
    const journalBlock = (image: string, j: number) => Number(/(\d+)\s*$/.exec(debugfs(image, `bmap <8> ${j}`).trim())![1]);
    const logBlocks = (image: string, seq: number, type: number) =>
      Number(new RegExp(`Found expected sequence ${seq}, type ${type} \\(\\w+ block\\) at block (\\d+)`).exec(debugfs(image, 'logdump'))![1]);

    if (kind === 'ext4') {
      it('an external journal is not replayed: a warning, and the on-disk state', () => {
        const copy = join(tmp, 'external.img');
        copyFileSync(img, copy);
        const sb = Buffer.alloc(8);
        sb.writeUInt32LE(0, 0); // s_journal_inum
        sb.writeUInt32LE(0x0801, 4); // s_journal_dev
        patch(copy, 1024 + 0xe0, sb);
        const fs = openExtImage(copy);
        expect(fs.warnings.join('\n')).toMatch(/external journal \(device 0x801\)/);
        expect(fs.lookup(fs.rootIno, 'journal-added.bin')).toBeNull();
        expect(fs.lookup(resolve(fs, 'etc'), 'os-release')).not.toBeNull();
      });

      it('a corrupt journal superblock: a warning, and the on-disk state', () => {
        const copy = join(tmp, 'badjsb.img');
        copyFileSync(img, copy);
        patch(copy, journalBlock(copy, 0) * info.blockSize, Buffer.from('BAD!'));
        const fs = openExtImage(copy);
        expect(fs.warnings.join('\n')).toMatch(/cannot be replayed \(.*bad journal superblock magic/);
        expect(fs.lookup(fs.rootIno, 'journal-added.bin')).toBeNull();
      });
    }

    it('a commit block with a bad checksum ends the log there (transactions 1 and 2 only)', () => {
      const copy = join(tmp, 'badcommit.img');
      copyFileSync(img, copy);
      const j = logBlocks(copy, 3, 2);
      patch(copy, journalBlock(copy, j) * info.blockSize + 60, Buffer.from([0xff]));
      const fs = openExtImage(copy);
      expect(fs.stats.journalTransactions).toBe(2);
    });

    it('a logged block with a bad checksum is skipped with a warning', () => {
      const copy = join(tmp, 'baddata.img');
      copyFileSync(img, copy);
      const d = logBlocks(copy, 1, 1);
      patch(copy, journalBlock(copy, d + 1) * info.blockSize + 100, Buffer.from([0x5a, 0xa5]));
      const fs = openExtImage(copy);
      expect(fs.stats.journalTransactions).toBe(3);
      expect(fs.warnings.join('\n')).toMatch(/journal block \d+ \(copy of block \d+, transaction 1\) has a bad checksum; not replayed/);
    });
  });
}

describe('e2fsprogs journal samples replay like e2fsck', () => {
  for (const [name, file, entries] of [
    ['j_recover_csum3_64bit', 'j_recover_csum3_64bit.image.bz2', 3],
    ['f_jnl_64bit', 'f_jnl_64bit.image.gz', 1347],
  ] as const) {
    it(`${name}: after replay equals the e2fsck -fy copy; without, the old state`, async () => {
      const { file: img, cleanup } = await unpackSample(sample(`e2fsprogs/${file}`));
      const tmp = mkdtempSync(join(tmpdir(), 'guestkit-journal-'));
      try {
        const before = fileSha(img);
        const fs = openExtImage(img);
        expect(fs.stats.journalTransactions).toBeGreaterThan(0);
        const ref = openExtImage(fsckCopy(img, tmp));
        const a = snapshot(fs);
        expect(Object.keys(a).length).toBeGreaterThanOrEqual(entries);
        expect(a).toEqual(snapshot(ref));
        // An independent look at the replayed state: debugfs on the fsck'd copy.
        const ls = execFileSync('debugfs', ['-R', 'ls -p /', join(tmp, 'fsck-copy.img')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        const names = [...ls.matchAll(/^\/\d+\/\d+\/\d+\/\d+\/([^/]+)\//gm)].map((m) => m[1]).filter((n) => n !== '.' && n !== '..');
        expect([...fs.readdir(fs.rootIno)].map((e) => e.name).sort()).toEqual(names.sort());
        const old = openExtImage(img, { replayJournal: false });
        expect(JSON.stringify(Object.keys(safeSnapshot(old)))).not.toBe(JSON.stringify(Object.keys(a)));
        expect(fileSha(img)).toBe(before);
      } finally {
        cleanup();
        rmSync(tmp, { recursive: true, force: true });
      }
    }, 60_000);
  }
});

/** The paths a reader lists of a possibly inconsistent (unreplayed) filesystem. */
function safeSnapshot(fs: ExtFs): Record<string, true> {
  const out: Record<string, true> = {};
  const visit = (ino: number, prefix: string) => {
    let ents;
    try {
      ents = [...fs.readdir(ino)];
    } catch {
      return;
    }
    for (const e of ents) {
      out[prefix + e.name] = true;
      if (e.type === 'dir') visit(e.ino, `${prefix}${e.name}/`);
    }
  };
  visit(fs.rootIno, '');
  return out;
}

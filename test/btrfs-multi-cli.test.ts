// Multi-device btrfs through the CLI: `guestkit ls/cat/df/filesystems -a A -a B -m /dev/sda`
// on images/recipes/btrfs-multi.mjs (data RAID0 striped over two images, metadata RAID1, filled
// by Linux in the libguestfs appliance from btrfs-rootdir's fixture tree). The disk set hands
// the btrfs reader every device with the same fsid, so each file, whichever device -m names,
// reads back equal to the tree; a missing member is a warning (RAID1 copies) or one clear error
// (RAID0 data). Needs `pnpm build` (runs bin/guestkit).

import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureImage, GUESTKIT } from './helpers/images';
import type { ManifestEntry } from '../packages/core/test/btrfs-helpers';


let dir = '';
let tree = '';
let A = '';
let B = '';
let manifest: ManifestEntry[] = [];

beforeAll(() => {
  dir = ensureImage('btrfs-multi');
  const src = ensureImage('btrfs-rootdir');
  tree = join(src, 'tree');
  [A, B] = ['multi-a.img', 'multi-b.img'].map((f) => join(dir, f));
  manifest = (JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8')) as ManifestEntry[])
    .filter((e) => e.path !== 'bigdir' && !e.path.startsWith('bigdir/'));
});

function guestkit(args: string[]) {
  const r = spawnSync(process.execPath, [GUESTKIT, ...args], { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 30, timeout: 120_000 });
  if (r.error) throw r.error;
  return { out: r.stdout as Buffer, err: (r.stderr as Buffer).toString(), rc: r.status };
}

interface LsRow {
  path: string;
  type: string;
  mode: string;
  size: number;
  uid: number;
  gid: number;
  mtime: number;
  link?: string;
  checksum?: string;
}

function lsAll(args: string[]): { rows: Map<string, LsRow>; err: string; rc: number | null } {
  const r = guestkit(['ls', ...args, '--json', '-lR', '--checksum=sha256', '/']);
  const rows = new Map<string, LsRow>();
  for (const line of r.out.toString('utf8').split('\n').filter(Boolean)) {
    const row = JSON.parse(line) as LsRow;
    rows.set(row.path, row);
  }
  return { rows, err: r.err, rc: r.rc };
}

const TYPE: Record<string, string> = { dir: 'dir', file: 'file', symlink: 'symlink', chardev: 'chardev', blockdev: 'blockdev', fifo: 'fifo' };

describe('a btrfs filesystem over two images (data RAID0, metadata RAID1)', () => {
  it('really spans both images: RAID0 data, RAID1 metadata (the kernel says so)', () => {
    const usage = readFileSync(join(dir, 'multi.oracle.usage'), 'utf8');
    expect(usage).toMatch(/Data,RAID0/);
    expect(usage).toMatch(/Metadata,RAID1/);
  });

  it('guestkit ls -lR -a A -a B -m /dev/sda lists every file of the tree with its type, mode, owner, size, time, target and sha256', () => {
    const { rows, err, rc } = lsAll(['-a', A, '-a', B, '-m', '/dev/sda']);
    expect(err).toBe('');
    expect(rc).toBe(0);
    expect(rows.size).toBe(manifest.length);
    let files = 0;
    for (const e of manifest) {
      const p = `/${e.path}`;
      const row = rows.get(p);
      expect(row, p).toBeDefined();
      expect(row!.type, p).toBe(TYPE[e.type]);
      expect(parseInt(row!.mode, 8), p).toBe(e.mode & 0o7777);
      expect([row!.uid, row!.gid], p).toEqual([e.uid, e.gid]);
      if (e.path !== '') expect(row!.mtime, p).toBe(e.mtime.sec);
      if (e.type === 'file') {
        expect(row!.size, p).toBe(e.size);
        expect(row!.checksum, p).toBe(e.sha256);
        files++;
      }
      if (e.type === 'symlink') expect(row!.link, p).toBe(e.target);
    }
    expect(files).toBeGreaterThan(100);
    // The kernel read the same contents (its sha256sum of every file on a read-only mount).
    const kernel = readFileSync(join(dir, 'multi.oracle.sha256'), 'utf8').trim().split('\n');
    expect(kernel.length).toBe(files);
    for (const line of kernel) {
      const [sum, rel] = [line.slice(0, 64), line.slice(66)];
      expect(rows.get(rel.replace(/^\./, ''))?.checksum, rel).toBe(sum);
    }
  });

  it('gives the same listing with -m /dev/sdb and with the images in the other order', () => {
    const ref = guestkit(['ls', '-a', A, '-a', B, '-m', '/dev/sda', '-lR', '--uids', '--time-t', '--checksum=sha256', '/']);
    expect(ref.rc).toBe(0);
    for (const args of [['-a', A, '-a', B, '-m', '/dev/sdb'], ['-a', B, '-a', A, '-m', '/dev/sda'], ['-a', B, '-a', A, '-m', '/dev/sdb']]) {
      const r = guestkit(['ls', ...args, '-lR', '--uids', '--time-t', '--checksum=sha256', '/']);
      expect({ rc: r.rc, err: r.err }, args.join(' ')).toEqual({ rc: 0, err: '' });
      expect(r.out.equals(ref.out), args.join(' ')).toBe(true);
    }
  });

  it('guestkit cat reads files striped over both images byte for byte', () => {
    const paths = manifest.filter((e) => e.type === 'file' && e.size >= 256 * 1024).map((e) => e.path);
    expect(paths.length).toBeGreaterThan(3);
    const r = guestkit(['cat', '-a', A, '-a', B, '-m', '/dev/sda', ...paths.map((p) => `/${p}`)]);
    expect({ rc: r.rc, err: r.err }).toEqual({ rc: 0, err: '' });
    const want = Buffer.concat(paths.map((p) => readFileSync(join(tree, p))));
    expect(r.out.length).toBe(want.length);
    expect(r.out.equals(want)).toBe(true);
  });

  it("guestkit df shows one filesystem's statfs on each member device, as the kernel reports it", () => {
    const r = guestkit(['df', '--json', '-a', A, '-a', B]);
    expect({ rc: r.rc, err: r.err }).toEqual({ rc: 0, err: '' });
    const rows = r.out.toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.filesystem)).toEqual(['/dev/sda', '/dev/sdb']);
    const [bsize, blocks, bfree, bavail] = readFileSync(join(dir, 'multi.oracle.statvfs'), 'utf8').trim().split(' ').map(Number);
    for (const row of rows) expect([row.bsize, row.blocks, row.bfree, row.bavail]).toEqual([bsize, blocks, bfree, bavail]);
  });

  it('guestkit filesystems lists each member device with the one fsid, as list_filesystems does', () => {
    const r = guestkit(['filesystems', '--long', '--uuid', '--csv', '-a', A, '-a', B]);
    expect({ rc: r.rc, err: r.err }).toEqual({ rc: 0, err: '' });
    const lines = r.out.toString().trim().split('\n').slice(1);
    expect(lines).toEqual(['/dev/sda', '/dev/sdb'].map((d) => expect.stringMatching(new RegExp(`^${d},filesystem,btrfs,btrfs-multi,\\d+,,7b1f5c2e-0020-4d3a-9c1e-b7f5a0000020$`))));
  });

  it('with one image missing: metadata (RAID1) lists with a warning, RAID0 data is one clear error', () => {
    for (const [img, missing] of [[A, 2], [B, 1]] as const) {
      const ls = guestkit(['ls', '-a', img, '-m', '/dev/sda', '-l', '/etc']);
      expect(ls.rc).toBe(0);
      expect(ls.out.toString()).toMatch(/ hostname\n/);
      expect(ls.err).toMatch(new RegExp(`^guestkit: warning: btrfs filesystem 7b1f5c2e-0020-4d3a-9c1e-b7f5a0000020: 1 of 2 devices given \\(devid ${missing} missing\\)`));
      // 1 MiB of dense data: 64 KiB stripes alternate between the two devices.
      const cat = guestkit(['cat', '-a', img, '-m', '/dev/sda', '/sizes/size-1048577']);
      expect(cat.rc).toBe(1);
      const lines = cat.err.trim().split('\n');
      expect(lines.every((l) => l.startsWith('guestkit: '))).toBe(true);
      expect(lines.at(-1)).toMatch(new RegExp(`only on btrfs device ${missing}, which was not given`));
    }
  });
});

describe('two-device RAID1 (btrfs-guestfs raid1-a/b) through the CLI', () => {
  it('reads everything from either image alone (degraded, with a warning) and from both without one', () => {
    const g = ensureImage('btrfs-guestfs');
    const [ra, rb] = ['raid1-a.img', 'raid1-b.img'].map((f) => join(g, f));
    const file = '/sizes/size-1048577';
    const both = guestkit(['cat', '-a', ra, '-a', rb, '-m', '/dev/sdb', file]);
    expect({ rc: both.rc, err: both.err }).toEqual({ rc: 0, err: '' });
    const want = readFileSync(join(tree, file));
    expect(both.out.equals(want)).toBe(true);
    for (const one of [ra, rb]) {
      const r = guestkit(['cat', '-a', one, '-m', '/dev/sda', file]);
      expect(r.rc).toBe(0);
      expect(r.err).toMatch(/^guestkit: warning: .*1 of 2 devices given.*\(degraded\)\n$/);
      expect(r.out.equals(want)).toBe(true);
    }
  });
});

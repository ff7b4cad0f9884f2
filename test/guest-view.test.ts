// The guest view on real images: the guest-linux disk (images/recipes/guest-linux.mjs) mounted
// by -i must read back exactly as its fixture trees; its hostile symlinks must resolve inside
// the guest (absolute targets against the guest root, `..` stopping at /, ELOOP after 40
// links, mountpoints crossed both ways); the guest-hostile filesystem's impossible entries
// must never be taken as paths; and dissect.extfs's chained relative symlinks must land on
// the file its README names.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  DiskSet, GuestView, GuestkitError, inspectAndMount, setWarningSink, fileTypeOfMode, major, minor, windowsPath,
  type GuestStat,
} from '@guestkit/core';
import { ensureImage, sample } from './helpers/images';
// @ts-expect-error: plain .mjs fixture module
import { GUEST, GUEST_OWNERS, GUEST_SPECIAL, GUEST_XATTRS, GUEST_LINKS, GUEST_HARDLINKS } from '../images/fixtures/guest-tree.mjs';

const warnings: string[] = [];
setWarningSink((m) => warnings.push(m));

let disks: DiskSet;
let view: GuestView;
let trees: { root: string; boot: string; srv: string };

beforeAll(() => {
  const dir = ensureImage('guest-linux');
  trees = { root: join(dir, 'tree-root'), boot: join(dir, 'tree-boot'), srv: join(dir, 'tree-srv') };
  disks = DiskSet.open([{ path: join(dir, 'guest-linux.raw') }]);
  view = new GuestView();
  inspectAndMount(view, disks);
});
afterAll(() => disks?.close());

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function streamSha(v: GuestView, path: string): Promise<{ sha: string; size: number; maxChunk: number }> {
  const h = createHash('sha256');
  let size = 0;
  let maxChunk = 0;
  for await (const c of v.createReadStream(path)) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
    maxChunk = Math.max(maxChunk, (c as Buffer).length);
  }
  return { sha: h.digest('hex'), size, maxChunk };
}

function errCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof GuestkitError) return e.code;
    throw e;
  }
  return 'no error';
}

/** Host fixture tree: relative path → lstat, walking the three trees as the guest mounts them. */
function hostEntries(): Map<string, { host: string; tree: 'root' | 'boot' | 'srv'; rel: string }> {
  const out = new Map<string, { host: string; tree: 'root' | 'boot' | 'srv'; rel: string }>();
  const walk = (tree: 'root' | 'boot' | 'srv', prefix: string, rel: string) => {
    for (const n of readdirSync(join(trees[tree], rel))) {
      const r = rel ? `${rel}/${n}` : n;
      const guest = `${prefix}/${r}`;
      out.set(guest, { host: join(trees[tree], r), tree, rel: r });
      if (lstatSync(join(trees[tree], r)).isDirectory()) walk(tree, prefix, r);
    }
  };
  walk('root', '', '');
  walk('boot', '/boot', '');
  walk('srv', '/srv', '');
  return out;
}

describe('guest view of guest-linux mounted by -i', () => {
  it('mounts the root, /boot (LABEL=) and /srv (UUID=) and warns once about /dev/vdb1', () => {
    expect(view.mounts.map((m) => [m.device, m.mountpoint])).toEqual([
      ['/dev/sda3', '/'], ['/dev/sda4', '/srv'], ['/dev/sda1', '/boot'],
    ]);
    expect(warnings).toContain('some filesystems could not be mounted (ignored)');
  });

  it('reads every file, directory and symlink of the fixture trees back exactly', async () => {
    const host = hostEntries();
    const seen = new Set<string>();
    const hardlinkInos = new Map<string, number>();
    for (const e of view.walk('/')) {
      if (e.path.endsWith('/lost+found') || e.path.includes('/lost+found/')) continue;
      const special = GUEST_SPECIAL.find((s: { path: string }) => `/${s.path}` === e.path);
      const st: GuestStat = view.lstat(e.path);
      expect(st.mtime.sec, e.path).toBe(GUEST.time);
      expect(st.atime.sec, e.path).toBe(GUEST.time);
      expect(st.ctime.sec, e.path).toBe(GUEST.time);
      if (special) {
        seen.add(e.path);
        expect(fileTypeOfMode(st.mode)).toBe({ p: 'fifo', c: 'chardev', b: 'blockdev' }[special.type as 'p' | 'c' | 'b']);
        expect(st.mode & 0o7777).toBe(special.mode);
        if (special.type !== 'p') expect([major(st.rdev), minor(st.rdev)]).toEqual([special.major, special.minor]);
        expect([st.uid, st.gid]).toEqual(special.owner ?? [0, 0]);
        continue;
      }
      const h = host.get(e.path);
      expect(h, `${e.path} is not in the fixture trees`).toBeDefined();
      seen.add(e.path);
      const hs = lstatSync(h!.host);
      expect(st.mode & 0o170000, e.path).toBe(hs.mode & 0o170000);
      expect(st.mode & 0o7777, e.path).toBe(hs.mode & 0o7777);
      const owner = h!.tree === 'root' ? GUEST_OWNERS[h!.rel] ?? [0, 0] : [0, 0];
      expect([st.uid, st.gid], e.path).toEqual(owner);
      if (hs.isSymbolicLink()) {
        expect(view.readlink(e.path)).toBe(readlinkSync(h!.host));
      } else if (hs.isFile()) {
        expect(st.size, e.path).toBe(hs.size);
        const got = await streamSha(view, e.path);
        expect(got.sha, e.path).toBe(sha(readFileSync(h!.host)));
        expect(got.maxChunk).toBeLessThanOrEqual(1024 * 1024);
      }
      const group = GUEST_HARDLINKS.find((g: string[]) => g.includes(e.path.slice(1)));
      if (group) hardlinkInos.set(e.path, st.ino);
      const xattrs = GUEST_XATTRS[e.path.slice(1)];
      if (xattrs) {
        expect(view.listxattr(e.path).sort()).toEqual(Object.keys(xattrs).sort());
        for (const [k, v] of Object.entries(xattrs)) expect(Buffer.from(view.getxattr(e.path, k)!).toString()).toBe(v);
      }
    }
    const missing = [...host.keys()].filter((p) => !seen.has(p));
    expect(missing).toEqual([]);
    expect(new Set(hardlinkInos.values()).size).toBe(1);
    expect(hardlinkInos.size).toBe(GUEST_HARDLINKS[0].length);
  });

  it('lists directories with walk() in strcmp order, crossing into mounts', () => {
    const top = [...view.walk('/')].filter((e) => e.depth === 1).map((e) => e.name);
    expect(top).toEqual([...top].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    const boot = [...view.walk('/boot')].map((e) => e.path);
    expect(boot).toContain('/boot/grub/grub.cfg');
    expect(boot).toContain('/boot/vmlinuz');
  });
});

describe('symlinks stay inside the guest', () => {
  const cases: [string, string, string][] = [
    // link, canonical path it resolves to, content
    ['/data/links/abs-passwd', '/etc/passwd', 'alice:x:1000'],
    ['/data/links/rel-escape', '/etc/hostname', 'guest-linux\n'],
    ['/data/links/slow-symlink', '/etc/hostname', 'guest-linux\n'],
    ['/data/links/dir-dotdot/hostname', '/etc/hostname', 'guest-linux\n'],
    ['/data/links/to-root/etc/hostname', '/etc/hostname', 'guest-linux\n'],
    ['/data/links/abs-root/etc/hostname', '/etc/hostname', 'guest-linux\n'],
    ['/data/links/host-shadow', '/etc/shadow', 'root:!:19000::::::\n'],
    ['/data/chain40/l1', '/data/hello.txt', 'hello, world\n'],
    ['/boot/up-hostname', '/etc/hostname', 'guest-linux\n'],
    ['/srv/www/hostname-link', '/etc/hostname', 'guest-linux\n'],
    ['/data/links/to-boot-cfg', '/boot/grub/grub.cfg', 'set default=0'],
    ['/data/links/to-srv/index.html', '/srv/www/index.html', '<h1>guest-linux</h1>'],
    ['/../../../etc/hostname', '/etc/hostname', 'guest-linux\n'],
    ['/boot/../etc/./hostname', '/etc/hostname', 'guest-linux\n'],
    ['/srv/../boot/grub/../up-hostname', '/etc/hostname', 'guest-linux\n'],
  ];
  for (const [link, canon, content] of cases) {
    it(`${link} → ${canon}`, () => {
      const r = view.resolve(link);
      expect(r.path).toBe(canon);
      expect(Buffer.from(view.readFile(link)).toString()).toContain(content);
    });
  }

  it('the guest /etc/shadow is read, never the host one', () => {
    expect(Buffer.from(view.readFile('/data/links/host-shadow')).toString()).toBe('root:!:19000::::::\n');
  });

  it('40 links deep resolves, 41 is ELOOP, as are loops and a self link', () => {
    expect(view.resolve('/data/chain40/l1').path).toBe('/data/hello.txt');
    expect(errCode(() => view.resolve('/data/chain41/l1'))).toBe('LOOP');
    expect(errCode(() => view.resolve('/data/links/loop-a'))).toBe('LOOP');
    expect(errCode(() => view.resolve('/data/links/self'))).toBe('LOOP');
    // Not followed: the link itself.
    expect(view.resolve('/data/chain41/l1', { follow: false }).path).toBe('/data/chain41/l1');
    expect(fileTypeOfMode(view.lstat('/data/links/loop-a').mode)).toBe('symlink');
  });

  it('dangling and missing paths are NOT_FOUND, files used as directories NOT_DIR', () => {
    expect(errCode(() => view.resolve('/data/links/dangling'))).toBe('NOT_FOUND');
    expect(errCode(() => view.resolve('/nope'))).toBe('NOT_FOUND');
    expect(errCode(() => view.resolve('/etc/hostname/x'))).toBe('NOT_DIR');
    expect(errCode(() => view.resolve('/etc/hostname/'))).toBe('NOT_DIR');
    expect(errCode(() => view.resolve('etc/hostname'))).toBe('NOT_FOUND');
    expect(errCode(() => view.readFile('/etc'))).toBe('IS_DIR');
  });

  it('a trailing slash follows a final symlink to a directory; lstat does not', () => {
    expect(fileTypeOfMode(view.lstat('/bin').mode)).toBe('symlink');
    expect(fileTypeOfMode(view.lstat('/bin/').mode)).toBe('dir');
    expect(view.resolve('/bin/', { follow: false }).path).toBe('/usr/bin');
  });

  it('.. out of a mounted filesystem goes back to the covering one', () => {
    const root = view.resolve('/');
    const up = view.resolve('/boot/..');
    expect([up.mount.id, up.ino]).toEqual([root.mount.id, root.ino]);
    expect(view.stat('/boot').dev).not.toBe(view.stat('/').dev);
  });
});

describe('Windows-style paths (virt-cat on a Windows guest)', () => {
  it('take a drive letter, backslashes and any case; keep what is not found as given', () => {
    expect(windowsPath(view, 'C:\\ETC\\HostName')).toBe('/etc/hostname');
    expect(windowsPath(view, 'c:/DATA/names/WITH SPACE.TXT')).toBe('/data/names/with space.txt');
    expect(windowsPath(view, '\\Boot\\GRUB\\grub.CFG')).toBe('/boot/grub/grub.cfg');
    expect(windowsPath(view, 'C:')).toBe('/');
    expect(windowsPath(view, '\\nope\\X')).toBe('/nope/X');
    expect(errCode(() => windowsPath(view, 'D:\\x'))).toBe('NOT_FOUND');
  });
});

describe('mounting', () => {
  it('refuses a mountpoint that is missing or not a directory', () => {
    const v = new GuestView();
    v.mount(disks.openFilesystem('/dev/sda3'), '/');
    expect(errCode(() => v.mount(disks.openFilesystem('/dev/sda1'), '/nope'))).toBe('NOT_FOUND');
    expect(errCode(() => v.mount(disks.openFilesystem('/dev/sda1'), '/etc/hostname'))).toBe('NOT_DIR');
  });

  it('mounts are per instance: the same filesystem at two places, and on a symlinked mountpoint', () => {
    const v = new GuestView();
    const boot = disks.openFilesystem('/dev/sda1');
    v.mount(disks.openFilesystem('/dev/sda3'), '/');
    v.mount(boot, '/boot');
    v.mount(boot, '/data/links/to-root/mnt/data'); // resolved inside the guest: /mnt/data
    expect(v.mounts.map((m) => m.mountpoint)).toEqual(['/', '/boot', '/data/links/to-root/mnt/data']);
    expect(Buffer.from(v.readFile('/mnt/data/grub/grub.cfg')).toString()).toContain('menuentry');
    // From the root of this second mount, `..` is /mnt: the link's ../etc/hostname is not there.
    expect(errCode(() => v.resolve('/mnt/data/up-hostname'))).toBe('NOT_FOUND');
    expect(v.resolve('/boot/up-hostname').path).toBe('/etc/hostname');
    expect(v.resolve('/mnt/data/..').path).toBe('/mnt');
  });

  it('an empty view is an empty root directory', () => {
    const v = new GuestView();
    expect(v.readdir('/')).toEqual([]);
    expect(errCode(() => v.resolve('/etc'))).toBe('NOT_FOUND');
  });
});

const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('hostile directory entries (guest-hostile)', () => {
  let hv: GuestView;
  let hd: DiskSet;
  beforeAll(() => {
    hd = DiskSet.open([{ path: ensureImage('guest-hostile', 'hostile.ext4') }]);
    hv = new GuestView();
    hv.mount(hd.openFilesystem('/dev/sda'), '/');
  });
  afterAll(() => hd?.close());

  it('never takes a name holding "/" as a path, nor "." / ".." entries as directories', () => {
    const names = hv.readdir('/dir').map((e) => e.name);
    expect(names).toContain('a/b');
    expect(names).not.toContain('.');
    expect(names).not.toContain('..');
    // "a/b" as a path means a/ then b: there is no directory a.
    expect(errCode(() => hv.resolve('/dir/a/b'))).toBe('NOT_FOUND');
    const e = [...hv.walk('/dir', { onError: () => {} })].find((x) => x.name === 'a/b')!;
    expect(e.badName).toBe(true);
  });

  it('walks a directory that contains itself without looping, and flags duplicate names', () => {
    const errors: string[] = [];
    const entries = [...hv.walk('/', { onError: (p, err) => errors.push(`${p}: ${err.code}`) })];
    expect(errors).toEqual(['/dir/sub/loop: LOOP']);
    expect(entries.filter((x) => x.path === '/dir/file').map((x) => x.duplicate)).toEqual([false, true]);
    expect(entries.filter((x) => x.path === '/attack/q1').map((x) => [x.type, x.duplicate])).toEqual([['symlink', false], ['dir', true]]);
  });

  it('listTree (ls -R) lists what walk() yields, sorted by bytes as a whole, with the same errors', () => {
    for (const [dir, prefix] of [['/', ''], ['/', '/'], ['/dir', '/'], ['/dir', ''], ['/names', '/']]) {
      const walkErrors: string[] = [];
      const listErrors: string[] = [];
      const cut = dir === '/' ? 1 : dir.length + 1;
      const walked = [...hv.walk(dir, { sort: false, onError: (p, e) => walkErrors.push(`${p}: ${e.code}: ${e.message}`) })]
        .map((x) => prefix + x.path.slice(cut));
      const listed = hv.listTree(dir, prefix, (p, e) => listErrors.push(`${p}: ${e.code}: ${e.message}`));
      expect(listed.length).toBeGreaterThan(3);
      expect(listed).toEqual(walked.sort(byUtf8));
      expect(listErrors.sort()).toEqual(walkErrors.sort());
    }
    expect(hv.listTree('/', '', () => {})).toContain('dir/a/b');
    // Names holding '/' next to the directory they name (debugfs made them): each where its
    // path sorts, inside that directory's listing.
    expect(hv.listTree('/names', '/', () => {})).toEqual(['/a', '/a-x', '/a/', '/a/0', '/a/b', '/a/c', '/a/d', '/a/d/', '/a/d/e', '/a/d/f', '/a0']);
    const streamed: string[] = [];
    expect(hv.listTree('/names', '', () => {}, { emit: (p) => streamed.push(p) })).toEqual([]);
    expect(streamed).toEqual(['a', 'a-x', 'a/', 'a/0', 'a/b', 'a/c', 'a/d', 'a/d/', 'a/d/e', 'a/d/f', 'a0']);
    expect(errCode(() => hv.listTree('/', '', () => {}, { maxPaths: 3 }))).toBe('LIMIT');
  });

  it('finds no operating system (there is no /etc)', () => {
    expect(errCode(() => inspectAndMount(new GuestView(), hd))).toBe('NOT_FOUND');
  });
});

describe('dissect.extfs chained relative symlinks', () => {
  let tmp: string;
  let dd: DiskSet;
  let dv: GuestView;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'gk-dissect-'));
    const img = join(tmp, 'ext4_symlink_test.bin');
    execFileSync('sh', ['-c', `gzip -dc "$1" > "$2"`, 'sh', sample('dissect.extfs/ext4_symlink_test.bin.gz'), img]);
    dd = DiskSet.open([{ path: img, format: 'raw' }]);
    dv = new GuestView();
    dv.mount(dd.openFilesystem('/dev/sda'), '/');
  });
  afterAll(() => {
    dd?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('/path/to/dir/with/file.ext resolves to /other/path/target/to/my/file.ext', () => {
    expect(dv.readlink('/path/to/dir/with/file.ext')).toBe('../../../../other/path/source/to/my/file.ext');
    expect(dv.readlink('/other/path/source/to')).toBe('../target/to');
    const r = dv.resolve('/path/to/dir/with/file.ext');
    expect(r.path).toBe('/other/path/target/to/my/file.ext');
    const direct = dv.resolve('/other/path/target/to/my/file.ext', { follow: false });
    expect([r.mount.id, r.ino]).toEqual([direct.mount.id, direct.ino]);
    expect(sha(dv.readFile('/path/to/dir/with/file.ext'))).toBe(sha(dv.readFile('/other/path/target/to/my/file.ext')));
  });
});

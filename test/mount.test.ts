// guestkit mount / unmount: real FUSE mounts on /dev/fuse of images built by images/.
// Compared against the fixture trees the images were made from (contents, modes, owners,
// sizes, link targets, mtimes to the second) and against the core API (every stat field
// find prints, mtimes to the millisecond fuse-native passes). Every mount is made on a temp
// directory and unmounted in afterAll (lazily if anything went wrong): a leftover FUSE mount
// would hang other people's `find`s.

import { beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { DiskSet, GuestView, applyMountSpecs, fileTypeOfMode, parseMountSpec } from '@guestkit/core';
import { GUESTKIT, ensureImage } from './helpers/images';
import { isMounted, mountScratch } from './helpers/mount';

const pexec = promisify(execFile);
const { mounted, tempDir } = mountScratch('gk-mount-');

async function mount(args: string[], mp: string): Promise<void> {
  await pexec(GUESTKIT, ['mount', ...args, mp], { timeout: 120_000 });
  mounted.push(mp);
  expect(isMounted(mp)).toBe(true);
}

function gk(args: string[], timeout = 60_000) {
  return spawnSync(GUESTKIT, args, { encoding: 'utf8', timeout });
}

/** find -printf over a directory, sorted, paths relative to it. */
async function findPrintf(dir: string, fmt = '%P %m %U %G %s %T@ %l\\n', extra: string[] = []): Promise<string[]> {
  const out = (await pexec('find', [dir, ...extra, '-printf', fmt], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 120_000 })).stdout;
  return out.split('\n').filter((l) => l !== '').sort();
}

/** sha256 of every regular file under dir (but `skip`), "relpath hash" sorted. */
async function sha256All(dir: string, skip: string[] = []): Promise<string[]> {
  const notName = skip.flatMap((s) => ['!', '-path', `./${s}`]);
  const out = (await pexec('sh', ['-c', 'cd "$1" && shift && find . -type f "$@" -print0 | xargs -0 -r sha256sum', 'sh', dir, ...notName],
    { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 180_000 })).stdout;
  return out.split('\n').filter((l) => l !== '').map((l) => `${l.slice(66)} ${l.slice(0, 64)}`).sort();
}

describe('guestkit mount: the sample guest with -i', () => {
  let mp: string;
  let img: string;
  let tree: string;
  beforeAll(async () => {
    img = ensureImage('sample', 'sample.qcow2');
    tree = ensureImage('sample');
    mp = tempDir();
    await mount(['-a', img, '-i'], mp);
  }, 180_000);

  it('find -printf over the mount equals the core API (mode, owner, size, mtime to the ms, link)', async () => {
    const disks = DiskSet.open([{ path: img }]);
    try {
      const view = new GuestView();
      applyMountSpecs(view, disks, [parseMountSpec('/dev/sda2:/'), parseMountSpec('/dev/sda1:/boot/efi')]);
      const expected: string[] = [];
      for (const e of view.walk('/')) {
        const st = e.mount.fs.stat(e.ino);
        const type = fileTypeOfMode(st.mode);
        const ms = st.mtime.sec * 1000 + Math.floor(st.mtime.nsec / 1e6);
        const t = `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}0000000`;
        const link = type === 'symlink' ? e.mount.fs.readlink(e.ino) : '';
        expected.push(`${e.path.slice(1)} ${(st.mode & 0o7777).toString(8)} ${st.uid} ${st.gid} ${st.size} ${t} ${link}`);
      }
      const got = await findPrintf(mp, undefined, ['-mindepth', '1']);
      expect(got.length).toBeGreaterThan(20);
      expect(got).toEqual(expected.sort());
    } finally {
      disks.close();
    }
  });

  it('every file reads back as the fixture tree has it (sha256)', async () => {
    const root = await sha256All(tree + '/tree-root');
    const efi = (await sha256All(tree + '/tree-efi')).map((l) => `./boot/efi/${l.slice(2)}`);
    const got = await sha256All(mp, ['lost+found/*']);
    expect(got).toEqual([...root, ...efi].sort());
  });

  it('is read-only: writes, creates and removes give EROFS', () => {
    for (const cmd of [`touch ${mp}/new`, `echo x >> ${mp}/etc/hostname`, `mkdir ${mp}/d`, `rm -f ${mp}/etc/hostname`, `chmod 777 ${mp}/etc`]) {
      const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
      expect(r.status, cmd).not.toBe(0);
      expect(r.stderr, cmd).toMatch(/Read-only file system/);
    }
  });

  it('errors map to errno: ENOENT, ENOTDIR', () => {
    expect(spawnSync('cat', [`${mp}/no/such`], { encoding: 'utf8' }).stderr).toMatch(/No such file or directory/);
    expect(spawnSync('stat', [`${mp}/etc/hostname/x`], { encoding: 'utf8' }).stderr).toMatch(/Not a directory/);
  });

  it('statfs is the root filesystem\'s, read-only', () => {
    const out = execFileSync('stat', ['-f', '-c', '%S %b %f %c %l', mp], { encoding: 'utf8' }).trim().split(' ').map(Number);
    const disks = DiskSet.open([{ path: img }]);
    try {
      const view = new GuestView();
      applyMountSpecs(view, disks, [parseMountSpec('/dev/sda2:/')]);
      const s = view.statfs('/');
      expect(out).toEqual([s.frsize, s.blocks, s.bfree, s.files, s.namemax]);
    } finally {
      disks.close();
    }
  });

  it('--rw without guestmount is a clear error; bad options are one line', () => {
    const r = gk(['mount', '-a', img, '-m', '/dev/nosuch', tempDir()]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^guestkit: .*nosuch/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('guestkit mount: ext4 from the Linux fixture tree', () => {
  let mp: string;
  let tree: string;
  const SPARSE = 'sparse/sparse-2g.bin';
  beforeAll(async () => {
    const img = ensureImage('ext-ext4', 'ext4.img');
    tree = ensureImage('ext-ext4') + '/tree';
    mp = tempDir();
    await mount(['-a', img, '-m', '/dev/sda'], mp);
  }, 180_000);

  it('find -printf equals the fixture tree (20,000-entry directory included; dir sizes and sub-second times aside)', async () => {
    // Directory sizes are the filesystem's own; mtimes compared to the second here (the
    // core-API test above checks milliseconds).
    const fmt = '%P %y %m %U %G %TY%Tm%Td%TH%TM%TS %l\\n';
    const strip = (l: string) => l.replace(/(\d{14})\.\d+/, '$1');
    const want = (await findPrintf(tree, fmt, ['-mindepth', '1'])).map(strip);
    const got = (await findPrintf(mp, fmt, ['-mindepth', '1', '-path', `${mp}/lost+found`, '-prune', '-o'])).map(strip);
    expect(got.length).toBeGreaterThan(20_000);
    expect(got).toEqual(want);
    const sizes = (d: string, extra: string[] = []) => findPrintf(d, '%P %s\\n', ['-mindepth', '1', ...extra, '!', '-type', 'd']);
    expect(await sizes(mp, ['-path', `${mp}/lost+found`, '-prune', '-o'])).toEqual(await sizes(tree));
  }, 240_000);

  it('sha256 of every file equals the fixture tree\'s (the 2 GiB sparse file and the 20,000-file directory by samples)', async () => {
    const got = await sha256All(mp, ['lost+found/*', SPARSE, 'bigdir/*']);
    expect(got.length).toBeGreaterThan(400);
    expect(got).toEqual(await sha256All(tree, [SPARSE, 'bigdir/*']));
    const some = execFileSync('sh', ['-c', 'cd "$1" && find bigdir -type f | sort | awk \'NR % 97 == 1\'', 'sh', tree], { encoding: 'utf8' }).trim().split('\n');
    expect(some.length).toBeGreaterThan(100);
    const sums = async (d: string) => (await pexec('sha256sum', some, { cwd: d, encoding: 'utf8', maxBuffer: 1 << 24 })).stdout;
    expect(await sums(mp)).toBe(await sums(tree));
    for (const off of [0, 1024, 2047]) {
      const a = execFileSync('sh', ['-c', `dd if="$1" bs=1M skip=${off} count=1 status=none | sha256sum`, 'sh', `${mp}/${SPARSE}`], { encoding: 'utf8' });
      const b = execFileSync('sh', ['-c', `dd if="$1" bs=1M skip=${off} count=1 status=none | sha256sum`, 'sh', `${tree}/${SPARSE}`], { encoding: 'utf8' });
      expect(a).toBe(b);
    }
  }, 300_000);

  it('readlink, xattrs and ELOOP', () => {
    expect(execFileSync('readlink', [`${mp}/links/absolute`], { encoding: 'utf8' }).trim()).toBe('/etc/hostname');
    expect(execFileSync('readlink', [`${mp}/links/slow-60`], { encoding: 'utf8' }).trim()).toBe('u'.repeat(60));
    const attrs = (d: string) => execFileSync('getfattr', ['-d', '-m', '-', '--absolute-names', '-e', 'hex', `${d}/xattr/many`, `${d}/xattr/big`, `${d}/xattr/binary`],
      { encoding: 'utf8' }).replaceAll(d, '');
    expect(attrs(mp)).toBe(attrs(tree));
    expect(attrs(mp)).toMatch(/user.attr-00/);
    expect(spawnSync('getfattr', ['-n', 'user.nosuch', `${mp}/xattr/small`], { encoding: 'utf8' }).stderr).toMatch(/No such attribute/);
  });

  it('16 parallel readers: different files, and one file at different offsets', async () => {
    const files = execFileSync('sh', ['-c', 'cd "$1" && find sizes nested -type f -size +1k | sort | head -8', 'sh', tree], { encoding: 'utf8' }).trim().split('\n');
    expect(files.length).toBe(8);
    const big = 'sizes/double-indirect-4k.bin';
    const jobs: Promise<[string, string]>[] = [];
    for (const f of files) {
      jobs.push(Promise.all([pexec('sha256sum', [`${mp}/${f}`]), pexec('sha256sum', [`${tree}/${f}`])]).then(([a, b]) => [a.stdout.slice(0, 64), b.stdout.slice(0, 64)]));
    }
    for (let i = 0; i < 8; i++) {
      const dd = (d: string) => pexec('sh', ['-c', `dd if="$1" bs=65536 skip=${i * 8} count=8 status=none | sha256sum`, 'sh', `${d}/${big}`]);
      jobs.push(Promise.all([dd(mp), dd(tree)]).then(([a, b]) => [a.stdout, b.stdout]));
    }
    const results = await Promise.all(jobs);
    expect(results).toHaveLength(16);
    for (const [a, b] of results) expect(a).toBe(b);
  }, 120_000);
});

describe('guestkit unmount', () => {
  let img: string;
  beforeAll(() => { img = ensureImage('sample', 'sample.qcow2'); });

  it('unmounts, waits for the server to exit; SIGTERM unmounts cleanly; not mounted is status 2', async () => {
    const mp = tempDir();
    const pidFile = join(tempDir(), 'pid');
    await mount(['-a', img, '-i', '--pid-file', pidFile], mp);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const r = gk(['unmount', mp]);
    expect(r.status, r.stderr).toBe(0);
    expect(isMounted(mp)).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(gk(['unmount', mp]).status).toBe(2);
    expect(gk(['unmount', '-q', mp]).stderr).toBe('');

    await mount(['-a', img, '-i', '--pid-file', pidFile], mp);
    const pid2 = Number(readFileSync(pidFile, 'utf8'));
    process.kill(pid2, 'SIGTERM');
    for (let i = 0; i < 100 && isMounted(mp); i++) await new Promise((res) => setTimeout(res, 100));
    expect(isMounted(mp)).toBe(false);
  }, 180_000);

  it('busy: status 3 with --no-retry', async () => {
    const mp = tempDir();
    await mount(['-a', img, '-i'], mp);
    const holder = execFile('sh', ['-c', 'exec sleep 30'], { cwd: mp });
    try {
      await new Promise((res) => setTimeout(res, 300));
      const r = gk(['unmount', '--no-retry', mp]);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/busy/);
    } finally {
      holder.kill();
    }
    await new Promise((res) => setTimeout(res, 300));
    expect(gk(['unmount', mp]).status).toBe(0);
  }, 180_000);

  it('kill -9 of the server: unmount cleans the stale mount and a second mount works', async () => {
    const mp = tempDir();
    const pidFile = join(tempDir(), 'pid');
    await mount(['-a', img, '-i', '--pid-file', pidFile], mp);
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    await new Promise((res) => setTimeout(res, 300));
    expect(spawnSync('ls', [mp], { encoding: 'utf8' }).stderr).toMatch(/not connected/);
    const r = gk(['unmount', mp]);
    expect(r.status, r.stderr).toBe(0);
    expect(isMounted(mp)).toBe(false);
    await mount(['-a', img, '-i'], mp);
    expect(readFileSync(join(mp, 'etc/hostname'), 'utf8').length).toBeGreaterThan(0);
    expect(gk(['unmount', mp]).status).toBe(0);
  }, 180_000);
});

describe('guestkit mount: a corrupt file underneath', () => {
  it('gives EIO, logged once; the mount stays up and other files read', async () => {
    const src = ensureImage('ext-ext4', 'ext4.img');
    const tree = ensureImage('ext-ext4') + '/tree';
    const work = tempDir();
    const img = join(work, 'bad.img');
    copyFileSync(src, img);
    // Garbage in the extent header (i_block[0]: magic and entry count) of one file.
    execFileSync('debugfs', ['-w', '-R', 'set_inode_field /sizes/dense-300k block[0] 0xdeadbeef', img], { stdio: 'ignore' });
    const mp = tempDir();
    // Foreground, so the EIO log is seen on stderr.
    const fg = execFile(GUESTKIT, ['mount', '-f', '-a', img, '-m', '/dev/sda', mp]);
    let stderr = '';
    fg.stderr!.on('data', (d) => { stderr += d; });
    mounted.push(mp);
    try {
      for (let i = 0; i < 600 && !isMounted(mp); i++) await new Promise((res) => setTimeout(res, 100));
      expect(isMounted(mp)).toBe(true);
      for (let i = 0; i < 2; i++) {
        const r = spawnSync('cat', [`${mp}/sizes/dense-300k`], { encoding: 'utf8' });
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/Input\/output error/);
      }
      const h = createHash('sha256').update(readFileSync(join(mp, 'sizes/size-274433'))).digest('hex');
      expect(h).toBe(createHash('sha256').update(readFileSync(join(tree, 'sizes/size-274433'))).digest('hex'));
      expect(isMounted(mp)).toBe(true);
    } finally {
      fg.kill('SIGTERM');
      await new Promise((res) => fg.on('exit', res));
    }
    expect(isMounted(mp)).toBe(false);
    expect(stderr.match(/dense-300k: input\/output error/g)).toHaveLength(1);
    rmSync(img);
  }, 180_000);
});

describe('guestkit mount: FUSE options, id maps', () => {
  let img: string;
  beforeAll(() => { img = ensureImage('sample', 'sample.qcow2'); });

  it('-o allow_other lets other users in (without it FUSE keeps them out); --uid-map/--gid-map map owners (--dir-cache-timeout accepted)', async () => {
    const asNobody = (p: string) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'ls', p], { encoding: 'utf8' });
    const mp = tempDir();
    await mount(['-a', img, '-i'], mp);
    const before = asNobody(mp);
    expect(before.status).not.toBe(0);
    expect(before.stderr).toMatch(/Permission denied/);
    expect(gk(['unmount', mp]).status).toBe(0);

    await mount(['-a', img, '-i', '-o', 'allow_other', '--uid-map', '0:1000:10', '--gid-map', '0:2000', '--dir-cache-timeout', '1'], mp);
    try {
      const opts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === mp)!;
      expect(opts).toMatch(/allow_other/);
      const r = asNobody(mp);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/etc/);
      // Guest root (0:0) is shown as 1000:2000; ids outside the maps as they are.
      expect(execFileSync('stat', ['-c', '%u:%g', `${mp}/etc/hostname`], { encoding: 'utf8' }).trim()).toBe('1000:2000');
    } finally {
      expect(gk(['unmount', mp]).status).toBe(0);
    }
    const bad = gk(['mount', '-a', img, '-i', '--uid-map', 'x:1', mp]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.trim()).toBe("guestkit: --uid-map 'x:1': expected GUEST:HOST[:COUNT]");
  }, 180_000);
});

describe('guestkit mount --rw: libguestfs\'s guestmount', () => {
  it('without guestmount on PATH: one clear line', () => {
    const img = ensureImage('guest-bigfile', 'big.ext4');
    const r = spawnSync(process.execPath, [GUESTKIT, 'mount', '--rw', '-a', img, '-m', '/dev/sda', tempDir()],
      { encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' }, timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("guestkit: --rw: guestkit mounts read-only; writes need libguestfs's guestmount, which is not installed (Debian: apt-get install guestmount)\n");
  });

  it.runIf(spawnSync('sh', ['-c', 'command -v guestmount']).status === 0)(
    'writes a file through guestmount (one appliance launch); unmount waits for it to flush; guestkit cat reads it back', async () => {
      const work = tempDir();
      const img = join(work, 'rw.ext4');
      copyFileSync(ensureImage('guest-bigfile', 'big.ext4'), img);
      const mp = tempDir();
      const pidFile = join(work, 'pid');
      const env = { ...process.env, LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };
      const r = await pexec(GUESTKIT, ['mount', '--rw', '--format=raw', '-a', img, '-m', '/dev/sda', '--pid-file', pidFile, mp], { env, timeout: 600_000 });
      mounted.push(mp);
      expect(r.stderr).toMatch(/handing over to libguestfs's guestmount/);
      expect(isMounted(mp)).toBe(true);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(pid).toBeGreaterThan(0);
      const text = `written through guestmount ${Date.now()}\n`;
      execFileSync('sh', ['-c', 'printf %s "$1" > "$2/rw-test.txt" && mkdir "$2/rw-dir"', 'sh', text, mp]);
      const u = gk(['unmount', mp], 300_000);
      expect(u.status, u.stderr).toBe(0);
      expect(isMounted(mp)).toBe(false);
      // Waited for guestmount to exit: the image is flushed and closed.
      expect(() => process.kill(pid, 0)).toThrow();
      const cat = gk(['cat', '-a', img, '-m', '/dev/sda', '/rw-test.txt']);
      expect(cat.stderr).toBe('');
      expect(cat.stdout).toBe(text);
      expect(gk(['ls', '-a', img, '-m', '/dev/sda', '/']).stdout).toMatch(/^rw-dir$/m);
    }, 900_000);
});

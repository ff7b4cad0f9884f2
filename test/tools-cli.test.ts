// guestkit cat, ls and df as commands: exit statuses, one-line errors, --json, streaming a
// 2 GiB file in bounded memory, -d through libvirt's test driver, and ls going on past a
// directory it cannot read. (Output formats are compared with libguestfs in tools-parity.)
// Needs `pnpm build` (runs bin/guestkit).

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ensureImage, GUESTKIT, ROOT } from './helpers/images';

let sample: string;
let guest: string;
let tmp: string;
let uri: string;

beforeAll(() => {
  sample = ensureImage('sample', 'sample.raw');
  guest = ensureImage('guest-linux', 'guest-linux.raw');
  tmp = mkdtempSync(join(tmpdir(), 'gk-cli-'));
  const xml = join(tmp, 'custom.xml');
  writeFileSync(xml, readFileSync(join(ROOT, 'test/parity/df-libvirt.xml.in'), 'utf8').replaceAll('@ROOT@', ROOT));
  uri = `test://${xml}`;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function gk(args: string[], opts: { env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [GUESTKIT, ...args], {
    cwd: ROOT, env: { ...process.env, TZ: 'UTC', ...opts.env }, maxBuffer: 1 << 28,
  });
  return { rc: r.status, out: (r.stdout as Buffer).toString(), err: (r.stderr as Buffer).toString() };
}

describe('guestkit cat', () => {
  it('prints files in order, reports a missing one in one line, goes on, exits 1', () => {
    const r = gk(['cat', '-a', sample, '/etc/hostname', '/nope', '/etc/motd']);
    expect(r.out).toBe('sample-guest\nWelcome to the guestkit sample guest.\n');
    expect(r.err).toBe('guestkit: /nope: No such file or directory\n');
    expect(r.rc).toBe(1);
  });

  it('refuses a directory, a relative path and a symlink loop, each in one line', () => {
    const r = gk(['cat', '-a', guest, '/etc', 'etc/hostname', '/data/links/loop-a']);
    expect(r.err.split('\n').filter((l) => l && !l.includes('could not be mounted'))).toEqual([
      'guestkit: /etc: Is a directory',
      'guestkit: etc/hostname: path must start with a / character',
      'guestkit: /data/links/loop-a: Too many levels of symbolic links',
    ]);
    expect(r.rc).toBe(1);
  });

  it('names a missing image and a missing -a in one line', () => {
    expect(gk(['cat', '-a', '/nonexistent/disk.img', '/etc/hostname'])).toEqual({
      rc: 1, out: '', err: 'guestkit: /nonexistent/disk.img: No such file or directory\n',
    });
    const r = gk(['cat', '/etc/hostname']);
    expect(r.rc).toBe(2);
    expect(r.err).toBe('guestkit: you must specify at least one -a or -d option\n');
  });

  it('says when there is no operating system to inspect (a bare ESP image)', () => {
    const esp = join(tmp, 'esp.img');
    // The sample's ESP partition alone: FAT, no OS.
    const fd = openSync(esp, 'w');
    const buf = readFileSync(sample).subarray(1024 * 1024, 35 * 1024 * 1024);
    writeSync(fd, buf);
    closeSync(fd);
    const r = gk(['cat', '-a', esp, '/EFI/debian/grub.cfg']);
    expect(r.rc).toBe(1);
    expect(r.err).toMatch(/^guestkit: no operating system was found on this disk/);
    expect(gk(['cat', '-a', esp, '-m', '/dev/sda', '/EFI/debian/grub.cfg']).out).toBe('search.fs_uuid 6a3c7a2e root\n');
  });

  it('--json: one object per file, content in base64, errors as objects', () => {
    const r = gk(['cat', '--json', '-a', sample, '/etc/hostname', '/nope']);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { path: '/etc/hostname', size: 13, base64: Buffer.from('sample-guest\n').toString('base64') },
      { path: '/nope', error: { code: 'NOT_FOUND', message: '/nope: No such file or directory' } },
    ]);
    expect(r.rc).toBe(1);
  });

  it('reads the guest of a libvirt domain (-c test:///... -d NAME)', () => {
    const r = gk(['cat', '-c', uri, '-d', 'guest-linux', '/etc/hostname']);
    expect(r).toMatchObject({ rc: 0, out: 'guest-linux\n' });
  });

  it('streams a 2 GiB sparse file in bounded memory, every byte right', async () => {
    const img = ensureImage('guest-bigfile', 'big.ext4');
    const timeFile = join(tmp, 'time.txt');
    // /usr/bin/time -v gives guestkit's peak RSS; the bytes are checked here as they arrive.
    const p = spawn('/usr/bin/time', ['-v', '-o', timeFile, process.execPath, GUESTKIT, 'cat', '-a', img, '-m', '/dev/sda', '/big.bin'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const zero = Buffer.alloc(1 << 20);
    let pos = 0;
    const found: [number, string][] = [];
    for await (const chunk of p.stdout as AsyncIterable<Buffer>) {
      if (chunk.compare(zero, 0, chunk.length) !== 0) {
        // Runs of non-zero bytes in this chunk.
        for (let i = 0; i < chunk.length; i++) {
          if (chunk[i] === 0) continue;
          let j = i;
          while (j < chunk.length && chunk[j] !== 0) j++;
          found.push([pos + i, chunk.toString('latin1', i, j)]);
          i = j;
        }
      }
      pos += chunk.length;
    }
    const code = await new Promise((r) => p.on('close', r));
    expect(code).toBe(0);
    expect(pos).toBe(2 * 1024 * 1024 * 1024);
    expect(found).toEqual([[0, 'START'], [1024 * 1024 * 1024, 'MIDDLE'], [2 * 1024 * 1024 * 1024 - 4, 'END!']]);
    const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, 'utf8'))![1]) * 1024;
    expect(rss).toBeLessThan(200 * 1024 * 1024);
  }, 300_000);
});

describe('guestkit ls', () => {
  it('--json lines for -lR', () => {
    const r = gk(['ls', '--json', '-lR', '-a', sample, '/home']);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.path, l.type, l.mode, l.uid])).toEqual([
      ['/home', 'dir', '0755', 0], ['/home/user', 'dir', '0755', 1000], ['/home/user/notes.txt', 'file', '0644', 1000],
    ]);
  });

  it('refuses -lR-only flags without -lR, and -h with --csv (usage errors, exit 2)', () => {
    expect(gk(['ls', '-a', sample, '--uids', '/'])).toMatchObject({ rc: 2, out: '' });
    expect(gk(['ls', '-a', sample, '-lR', '-h', '--csv', '/']).err).toBe('guestkit: you cannot use -h and --csv options together\n');
    expect(gk(['ls', '-a', sample, '-lR', '--checksum=sha3', '/']).rc).toBe(2);
  });

  it('takes --checksum without a value as md5 and never eats the directory after it', () => {
    const r = gk(['ls', '-a', sample, '-lR', '--checksum', '/etc/apt']);
    expect(r).toMatchObject({ rc: 0 });
    expect(r.out).toBe('d 0755       1024 /etc/apt\n');
  });

  it('warns about a directory it cannot read and lists the rest (-lR), exit 1', () => {
    // A copy of guest-hostile whose /attack inode has its extent tree root overwritten.
    const img = join(tmp, 'broken.ext4');
    copyFileSync(ensureImage('guest-hostile', 'hostile.ext4'), img);
    const imap = spawnSync('debugfs', ['-R', 'imap /attack', img], { encoding: 'utf8' }).stdout;
    const [, block, offset] = /located at block (\d+), offset 0x([0-9a-f]+)/.exec(imap)!;
    const fd = openSync(img, 'r+');
    // i_block (the extent header and entries) is at offset 40 of the inode, 60 bytes.
    writeSync(fd, Buffer.alloc(60, 0xa5), 0, 60, Number(block) * 1024 + parseInt(offset, 16) + 40);
    closeSync(fd);
    const r = gk(['ls', '-a', img, '-m', '/dev/sda', '-lR', '/']);
    expect(r.rc).toBe(1);
    expect(r.out).toContain(' /attack\n');
    expect(r.out).toContain(' /x-dir/inside\n');
    expect(r.out).toContain(' /plain.txt\n');
    expect(r.err).toMatch(/^guestkit: warning: \/attack: /m);
  });
});

describe('guestkit ls -R of a whole Debian guest', () => {
  it('lists the debootstrap tree, the ESP on /boot/efi and lost+found, in byte order as a whole', () => {
    const dir = ensureImage('guest-debian');
    const r = gk(['ls', '-R', '-a', join(dir, 'debian.qcow2'), '/']);
    expect([r.rc, r.err]).toEqual([0, '']);
    // The tree mke2fs -d was given (images/recipes/guest-debian.mjs), walked by node.
    const want = ['lost+found', 'boot/efi/EFI', 'boot/efi/EFI/debian', 'boot/efi/EFI/debian/grub.cfg'];
    const walk = (rel: string) => {
      for (const e of readdirSync(join(dir, 'root', rel), { withFileTypes: true })) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        want.push(p);
        if (e.isDirectory()) walk(p);
      }
    };
    walk('');
    want.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(r.out).toBe(`${want.join('\n')}\n`);
    // guestkit sorts each directory with its subtrees as name + "/" keys: names that sort
    // between a directory and its subtree ("klibc-..." between "klibc" and "klibc/...") are
    // where that differs from sorting names alone; the guest has some.
    const parents = new Set(want.map((p) => p.slice(0, p.lastIndexOf('/'))));
    const between = want.filter((p) => {
      const name = p.slice(p.lastIndexOf('/') + 1);
      const parent = p.slice(0, p.lastIndexOf('/') + 1);
      return [...name].some((c, i) => i > 0 && c < '/' && parents.has(parent + name.slice(0, i)));
    });
    expect(between.length).toBeGreaterThan(5);
  });
});

describe('guestkit df', () => {
  it('--json rows with the statvfs numbers', () => {
    const r = gk(['df', '--json', '-a', sample]);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => [x.vm, x.filesystem, x.type])).toEqual([['sample.raw', '/dev/sda1', 'vfat'], ['sample.raw', '/dev/sda2', 'ext4']]);
    for (const x of rows) expect(x.used).toBe((x.blocks - x.bfree) * x.bsize);
  });

  it('-h with --csv is a usage error', () => {
    expect(gk(['df', '-a', sample, '-h', '--csv'])).toMatchObject({ rc: 2, err: 'guestkit: you cannot use -h and --csv options together\n' });
  });

  it('lists every domain of a libvirt connection, sorted by name, with --uuid', () => {
    const r = gk(['df', '-c', uri, '--uuid']);
    expect(r.rc).toBe(0);
    // A name and device longer than 36 columns puts the numbers on the next line, as virt-df does.
    const names = r.out.split('\n').slice(1).filter((l) => l.includes(':')).map((l) => l.split(':')[0]);
    expect([...new Set(names)]).toEqual(['0b0a1e2d-3c4b-4a59-8877-66554433aa00', '5a3d1f2e-8b7c-4d6e-9f10-a1b2c3d4e5f6']);
  });
});

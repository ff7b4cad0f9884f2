// The read tools' formatters on their own: GNU ls's mode strings, column alignment and dates,
// virt-ls -lR fields and CSV quoting, virt-df's Use% (a C float printed by glibc), POSIX
// cksum, pax record lengths, tar --exclude globs. Oracles: GNU coreutils, glibc printf and
// cksum on this machine, and the formats' specifications.

import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { modeString, llTime, formatLl, lsLrLine, typeLetter } from '@guestkit/tool-ls/format';
import { cksumCrc } from '@guestkit/tool-ls/cksum';
import { checksumArg } from '@guestkit/tool-ls/run';
import { dfLine, dfTitle, fixed1 } from '@guestkit/tool-df/format';
import { paxRecord } from '@guestkit/tool-tar-out/pax';
import { globToRegExp } from '@guestkit/tool-tar-out/archive';
import { makedev, type GuestStat } from '@guestkit/core';

const st = (over: Partial<GuestStat>): GuestStat => ({
  ino: 12, mode: 0o100644, nlink: 1, uid: 0, gid: 0, size: 0, blocks: 0, blksize: 4096, rdev: 0, dev: makedev(8, 2),
  atime: { sec: 0, nsec: 0 }, mtime: { sec: 0, nsec: 0 }, ctime: { sec: 0, nsec: 0 }, ...over,
});

describe('GNU ls -l pieces', () => {
  it('mode strings with set-id and sticky bits (as coreutils filemode.c)', () => {
    expect(modeString(0o104755)).toBe('-rwsr-xr-x');
    expect(modeString(0o104644)).toBe('-rwSr--r--');
    expect(modeString(0o102755)).toBe('-rwxr-sr-x');
    expect(modeString(0o041777)).toBe('drwxrwxrwt');
    expect(modeString(0o041776)).toBe('drwxrwxrwT');
    expect(modeString(0o100000)).toBe('----------');
    expect(modeString(0o120777)).toBe('lrwxrwxrwx');
    expect(modeString(0o060660)).toBe('brw-rw----');
    expect(modeString(0o140755)).toBe('srwxr-xr-x');
  });

  it('dates: "%b %e %H:%M" within six months before now, "%b %e  %Y" otherwise (UTC)', () => {
    const now = 1700000000; // 2023-11-14 22:13:20
    expect(llTime(now - 3600, 0, now)).toBe('Nov 14 21:13');
    expect(llTime(now - 200 * 86400, 0, now)).toBe('Apr 28  2023');
    expect(llTime(now + 60, 0, now)).toBe('Nov 14  2023'); // in the future
    expect(llTime(1600000000, 0, now)).toBe('Sep 13  2020');
  });

  it('aligns columns, right-aligns numeric owners, prints devices as "major, minor"', () => {
    const out = formatLl([
      { name: '.', st: st({ mode: 0o040755, nlink: 2, size: 1024, blocks: 2 }) },
      { name: 'null', st: st({ mode: 0o020666, rdev: makedev(1, 3) }) },
      { name: 'sda', st: st({ mode: 0o060660, gid: 6, rdev: makedev(8, 0) }) },
      { name: 'big', st: st({ size: 123456789, uid: 1000, gid: 100, blocks: 8 }) },
      { name: 'l', st: st({ mode: 0o120777, size: 3 }), link: 'abc' },
    ], { now: 1700000000, user: () => undefined, group: () => undefined }, true);
    expect(out).toBe([
      'total 5',
      'drwxr-xr-x 2    0   0      1024 Jan  1  1970 .',
      'crw-rw-rw- 1    0   0      1, 3 Jan  1  1970 null',
      'brw-rw---- 1    0   6      8, 0 Jan  1  1970 sda',
      '-rw-r--r-- 1 1000 100 123456789 Jan  1  1970 big',
      'lrwxrwxrwx 1    0   0         3 Jan  1  1970 l -> abc',
      '',
    ].join('\n'));
  });
});

describe('virt-ls -lR lines', () => {
  const o = { csv: false, human: false, uids: false, times: false as const, extraStats: false, checksum: false, now: 0 };
  it('type letter, %04o, %10 size, path, -> target', () => {
    expect(lsLrLine('/a b', st({ size: 5 }), undefined, undefined, o)).toBe('- 0644          5 /a b');
    expect(lsLrLine('/l', st({ mode: 0o120777, size: 1 }), 'x', undefined, o)).toBe('l 0777          1 /l -> x');
    expect(typeLetter(0)).toBe('u');
  });

  it('CSV quotes fields with a space, quote, comma or newline, and keeps empty checksum fields', () => {
    const c = { ...o, csv: true, checksum: true };
    expect(lsLrLine('/a "b",c', st({ size: 5 }), undefined, 'abc', c)).toBe('-,0644,5,abc,"/a ""b"",c"');
    expect(lsLrLine('/d', st({ mode: 0o040755, size: 1024 }), undefined, undefined, c)).toBe('d,0755,1024,,/d');
    expect(lsLrLine('/l', st({ mode: 0o120777, size: 1 }), 'a b', undefined, c)).toBe('l,0777,1,,/l,"a b"');
  });

  it('--time-days and --time-relative count from now; --extra-stats prints dev and rdev as major:minor', () => {
    const t = { sec: 1000, nsec: 0 };
    const s = st({ atime: t, mtime: t, ctime: { sec: 200000, nsec: 0 }, rdev: makedev(4, 1) });
    expect(lsLrLine('/f', s, undefined, undefined, { ...o, times: 'days', now: 1000 + 3 * 86400 + 5 })).toBe('- 0644          0   3   3   0 /f');
    expect(lsLrLine('/f', s, undefined, undefined, { ...o, times: 'relative', now: 2000 })).toBe('- 0644          0     1000     1000  -198000 /f');
    expect(lsLrLine('/f', s, undefined, undefined, { ...o, extraStats: true })).toBe('- 0644          0 8:2 12 1 4:1 0 /f');
  });

  it('--checksum takes a value only with "=" (getopt optional argument)', () => {
    expect(checksumArg(['-lR', '--checksum', '/etc'])).toBe('md5');
    expect(checksumArg(['--checksums=sha256', '/'])).toBe('sha256');
    expect(checksumArg(['--checksum='])).toBe('md5');
    expect(checksumArg(['/'])).toBeUndefined();
  });
});

describe('virt-df lines', () => {
  it('prints glibc\'s "%.1f" of the float percentage, ties to even', () => {
    expect(fixed1(37.25)).toBe('37.2');
    expect(fixed1(37.75)).toBe('37.8');
    expect(fixed1(0.05)).toBe('0.1'); // 0.05 is a little above 0.05 as a double
    expect(fixed1(Math.fround(100 - (100 * 3) / 7))).toBe('57.1');
    expect(fixed1(0)).toBe('0.0');
    // glibc itself agrees:
    const c = spawnSync('printf', ['%.1f %.1f %.1f', '37.25', '37.75', '0.25'], { encoding: 'utf8' }).stdout;
    expect(c).toBe([fixed1(37.25), fixed1(37.75), fixed1(0.25)].join(' '));
  });

  it('wraps a name and device longer than 36 columns', () => {
    const s = { bsize: 4096, frsize: 4096, blocks: 1000, bfree: 250, bavail: 200, files: 10, ffree: 5, favail: 5, namemax: 255 };
    const o = { csv: false, human: false, inodes: false };
    expect(dfTitle(o)).toBe('Filesystem                           1K-blocks       Used  Available  Use%\n');
    expect(dfLine('vm', '/dev/sda1', s, o)).toBe('vm:/dev/sda1                              4000       3000        800   75%\n');
    expect(dfLine('a-very-long-guest-name-indeed', '/dev/sda1', s, o)).toBe(
      `a-very-long-guest-name-indeed:/dev/sda1\n${' '.repeat(36)}      4000       3000        800   75%\n`);
    expect(dfLine('vm', '/dev/sda1', s, { ...o, csv: true })).toBe('vm,/dev/sda1,4000,3000,800,75.0\n');
  });
});

describe('checksums and tar pieces', () => {
  it('POSIX cksum CRC equals cksum(1)', () => {
    for (const data of ['', 'a', 'hello world\n', 'x'.repeat(70000)]) {
      const c = cksumCrc();
      c.update(Buffer.from(data));
      const want = spawnSync('cksum', [], { input: data, encoding: 'utf8' }).stdout.split(' ')[0];
      expect(String(c.digest())).toBe(want);
    }
  });

  it('pax records count their own length, across a digit boundary', () => {
    expect(paxRecord('path', 'a').toString()).toBe('9 path=a\n');
    const r = paxRecord('path', 'x'.repeat(92)).toString(); // 8 + 92 = 100 bytes + "100" would be 103
    expect(r.startsWith('102 path=')).toBe(true);
    expect(Buffer.byteLength(r)).toBe(102);
    expect(paxRecord('SCHILY.xattr.user.b', Buffer.from([0, 0xff, 0x80])).subarray(-4)).toEqual(Buffer.from([0, 0xff, 0x80, 0x0a]));
  });

  it('--exclude globs', () => {
    expect(globToRegExp('*.txt').test('a.txt')).toBe(true);
    expect(globToRegExp('*.txt').test('a.txt.gz')).toBe(false);
    expect(globToRegExp('chain4?').test('chain41')).toBe(true);
    expect(globToRegExp('[ab]*').test('b1')).toBe(true);
    expect(globToRegExp('[!ab]*').test('b1')).toBe(false);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

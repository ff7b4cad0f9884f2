// -i (inspect-lite), /etc/fstab, -m and -d on real images: the sample guest (GPT, ESP at
// /boot/efi by UUID=), guest-linux (MBR; /boot by LABEL=, / by /dev/sda3, /srv by UUID=, swap,
// proc, tmpfs, nfs and a missing /dev/vdb1), PARTUUID=/PARTLABEL=/by-uuid/vdX specs resolved
// against the real devices, several roots refused as virt-* tools refuse multi-boot guests,
// and libvirt domains read through virsh's test driver.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  DiskSet, GuestView, GuestkitError, inspectAndMount, inspectRoots, parseFstab, shellUnquote, canonicalMountpoint,
  resolveFstabEntry, applyMountSpecs, parseMountSpec, setWarningSink, deviceNumber, major, minor, type FstabEntry,
} from '@guestkit/core';
import { openGuestFromArgs, parseDomainXml, driveArgs, displayNameOf } from '@guestkit/clikit';
import { ensureImage, ROOT } from './helpers/images';
// @ts-expect-error: plain .mjs fixture module
import { SAMPLE } from '../images/fixtures/sample-tree.mjs';
// @ts-expect-error: plain .mjs fixture module
import { GUEST } from '../images/fixtures/guest-tree.mjs';

const warnings: string[] = [];
setWarningSink((m) => warnings.push(m));

let sampleRaw: string;
let sampleQcow2: string;
let guestRaw: string;
beforeAll(() => {
  sampleRaw = ensureImage('sample', 'sample.raw');
  sampleQcow2 = ensureImage('sample', 'sample.qcow2');
  guestRaw = ensureImage('guest-linux', 'guest-linux.raw');
});

function errOf(f: () => unknown): GuestkitError {
  try {
    f();
  } catch (e) {
    if (e instanceof GuestkitError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('/etc/fstab parsing', () => {
  it('reads fields, skips comments and blank lines, decodes octal escapes, reports short lines', () => {
    const p = parseFstab([
      '# comment',
      '',
      'UUID="abc-def"\t/\text4  errors=remount-ro 0 1',
      'LABEL=My\\040Disk /mnt/my\\040disk vfat defaults',
      'tmpfs /tmp tmpfs',
      'broken-line /x',
      '  /dev/sda2   none swap sw 0 0  ',
    ].join('\n'));
    expect(p.entries.map((e) => [e.spec, e.file, e.vfstype, e.options.join(','), e.freq, e.passno, e.line])).toEqual([
      ['UUID="abc-def"', '/', 'ext4', 'errors=remount-ro', 0, 1, 3],
      ['LABEL=My Disk', '/mnt/my disk', 'vfat', 'defaults', 0, 0, 4],
      ['tmpfs', '/tmp', 'tmpfs', 'defaults', 0, 0, 5],
      ['/dev/sda2', 'none', 'swap', 'sw', 0, 0, 7],
    ]);
    expect(p.skipped).toEqual([[6, '2 fields, fstab needs at least 3']]);
  });

  it('unquotes TAG= values as libguestfs does, and canonicalises mountpoints', () => {
    expect(shellUnquote('"abc-def"')).toBe('abc-def');
    expect(shellUnquote("'a b'")).toBe('a b');
    expect(shellUnquote('plain')).toBe('plain');
    expect(canonicalMountpoint('///usr//local//')).toBe('/usr/local');
  });
});

describe('-i on the sample guest', () => {
  let disks: DiskSet;
  afterAll(() => disks?.close());

  it('finds the ext4 root and mounts the ESP at /boot/efi through UUID=', () => {
    disks = DiskSet.open([{ path: sampleRaw }]);
    const view = new GuestView();
    const root = inspectAndMount(view, disks);
    expect(root).toMatchObject({ device: '/dev/sda2', osType: 'linux', matched: 'Linux root' });
    expect(root.mountpoints).toEqual([
      { mountpoint: '/', device: '/dev/sda2', line: 2, options: undefined },
      { mountpoint: '/boot/efi', device: '/dev/sda1', line: 3, options: undefined },
    ]);
    expect(Buffer.from(view.readFile('/boot/efi/EFI/debian/grub.cfg')).toString()).toContain('search.fs_uuid');
    expect(view.stat('/boot/efi').dev).toBe(deviceNumber(disks, '/dev/sda1'));
    expect([major(view.stat('/').dev), minor(view.stat('/').dev)]).toEqual([8, 2]);
  });

  it('reads the same guest from the qcow2 image', () => {
    const d = DiskSet.open([{ path: sampleQcow2 }]);
    try {
      const view = new GuestView();
      inspectAndMount(view, d);
      expect(Buffer.from(view.readFile('/etc/hostname')).toString()).toBe(`${SAMPLE.hostname}\n`);
    } finally {
      d.close();
    }
  });
});

describe('-i on guest-linux', () => {
  let disks: DiskSet;
  beforeAll(() => {
    disks = DiskSet.open([{ path: guestRaw }]);
  });
  afterAll(() => disks?.close());

  it('resolves /dev/sda3, LABEL= and UUID=, skips swap, proc, tmpfs and nfs, keeps the missing /dev/vdb1', () => {
    const [root] = inspectRoots(disks);
    expect(root.device).toBe('/dev/sda3');
    expect(root.mountpoints.map((m) => [m.mountpoint, m.device])).toEqual([
      ['/', '/dev/sda3'], ['/srv', '/dev/sda4'], ['/boot', '/dev/sda1'], ['/mnt/data', '/dev/vdb1'],
    ]);
  });

  it('mounts what it can and warns once for the rest, as virt-* tools do', () => {
    warnings.length = 0;
    const view = new GuestView();
    inspectAndMount(view, disks);
    expect(view.mounts.map((m) => m.mountpoint)).toEqual(['/', '/srv', '/boot']);
    expect(warnings).toEqual(['some filesystems could not be mounted (ignored)']);
  });

  it('resolves PARTUUID=, PARTLABEL=, /dev/vdX, /dev/hdX, /dev/xvdX, /dev/disk/by-uuid/ and /dev/root', () => {
    const ctx = { disks, devices: disks.devices(), rootDevice: '/dev/sda3', osType: 'linux' as const };
    const entry = (spec: string, file = '/x', vfstype = 'ext4'): FstabEntry => ({ spec, file, vfstype, options: ['defaults'], freq: 0, passno: 0, line: 1 });
    const dev = (spec: string) => resolveFstabEntry(entry(spec), ctx)?.device ?? null;
    expect(dev(`PARTUUID=${GUEST.partuuidSrv}`)).toBe('/dev/sda4');
    expect(dev(`PARTUUID=${GUEST.partuuidSrv.toUpperCase()}`)).toBe('/dev/sda4');
    expect(dev('PARTUUID=00000000-09')).toBeNull();
    expect(dev(`UUID=${GUEST.bootUuid}`)).toBe('/dev/sda1');
    expect(dev(`UUID="${GUEST.bootUuid}"`)).toBe('/dev/sda1');
    expect(dev('LABEL=srv')).toBe('/dev/sda4');
    expect(dev('LABEL=nope')).toBeNull();
    expect(dev('/dev/vda3')).toBe('/dev/sda3');
    expect(dev('/dev/hda1')).toBe('/dev/sda1');
    expect(dev('/dev/xvda4')).toBe('/dev/sda4');
    expect(dev('/dev/vdb1')).toBe('/dev/vdb1'); // no such disk: left as is (its mount fails)
    expect(dev(`/dev/disk/by-uuid/${GUEST.srvUuid}`)).toBe('/dev/sda4');
    expect(dev('/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001-part1')).toBe('/dev/sda1');
    expect(dev('/dev/root')).toBe('/dev/sda3');
    expect(dev('/dev/cdrom')).toBeNull();
    expect(dev('/dev/fd0')).toBeNull();
    expect(resolveFstabEntry(entry('/dev/sda1', '/proc/x'), ctx)).toBeNull();
    expect(resolveFstabEntry(entry('/dev/sda1', '/media/usb'), ctx)).toBeNull();
    expect(resolveFstabEntry(entry('/dev/sda3', '/', 'btrfs'), ctx)).toMatchObject({ device: '/dev/sda3' });
    const sub = resolveFstabEntry({ ...entry('/dev/sda3', '/home', 'btrfs'), options: ['rw', 'subvol=@home'] }, ctx);
    expect(sub).toMatchObject({ device: '/dev/sda3', options: 'subvol=@home', mountpoint: '/home' });
  });

  it('refuses a guest with two roots as a multi-boot guest', () => {
    const both = DiskSet.open([{ path: sampleRaw }, { path: guestRaw }]);
    try {
      const e = errOf(() => inspectAndMount(new GuestView(), both));
      expect(e.message).toMatch(/^multi-boot operating systems are not supported \(roots: \/dev\/sda2, \/dev\/sdb3/);
    } finally {
      both.close();
    }
  });
});

describe('-m DEV[:MOUNTPOINT[:OPTIONS[:FSTYPE]]]', () => {
  let disks: DiskSet;
  beforeAll(() => {
    disks = DiskSet.open([{ path: guestRaw }]);
  });
  afterAll(() => disks?.close());

  it('mounts in order, any device spelling, with a forced type', () => {
    const view = new GuestView();
    applyMountSpecs(view, disks, ['/dev/vda3', '/dev/hda1:/boot::ext2', '/dev/sda4:/srv:ro'].map(parseMountSpec));
    expect(view.mounts.map((m) => [m.device, m.mountpoint, m.options])).toEqual([
      ['/dev/sda3', '/', undefined], ['/dev/sda1', '/boot', undefined], ['/dev/sda4', '/srv', 'ro'],
    ]);
  });

  it('names the filesystems there are when a spec cannot be mounted', () => {
    const e = errOf(() => applyMountSpecs(new GuestView(), disks, [parseMountSpec('/dev/sdb1')]));
    expect(e.message).toBe(
      "'/dev/sdb1' could not be mounted on /: /dev/sdb1: no such device " +
      '(filesystems: /dev/sda1 (ext2), /dev/sda2 (swap), /dev/sda3 (ext4), /dev/sda4 (ext4))');
    expect(errOf(() => applyMountSpecs(new GuestView(), disks, [parseMountSpec('/dev/sda2')])).message).toMatch(/could not be mounted on \/: .*swap/);
    expect(errOf(() => parseMountSpec('/dev/sda1:boot')).code).toBe('USAGE');
  });
});

describe('-d DOMAIN with libvirt\'s test driver', () => {
  let tmp: string;
  let uri: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'gk-libvirt-'));
    const xml = join(tmp, 'custom.xml');
    writeFileSync(xml, readFileSync(join(ROOT, 'test/parity/df-libvirt.xml.in'), 'utf8').replaceAll('@ROOT@', ROOT));
    uri = `test://${xml}`;
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('parses file and block disks with their formats; skips CD-ROMs, network disks and empty drives', () => {
    warnings.length = 0;
    const dom = parseDomainXml(`<domain type='kvm'><name>vm1</name><uuid>1234</uuid><devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/a.qcow2'/><target dev='vda'/></disk>
      <disk type='block' device='disk'><source dev='/dev/vg/lv'/><target dev='vdb'/><readonly/></disk>
      <disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='hdc'/></disk>
      <disk type='network' device='disk'><source protocol='rbd' name='pool/img'/><target dev='vdc'/></disk>
      <disk type='file' device='disk'><target dev='vdd'/></disk>
      </devices></domain>`);
    expect(dom).toEqual({
      name: 'vm1', uuid: '1234', disks: [
        { path: '/var/lib/a.qcow2', format: 'qcow2', target: 'vda', readonly: false },
        { path: '/dev/vg/lv', format: undefined, target: 'vdb', readonly: true },
      ],
    });
    expect(warnings).toEqual(["domain vm1: disk vdc of type 'network' is not supported (only file and block disks); skipped"]);
    expect(() => parseDomainXml('<domain><devices/></domain>')).toThrow(/no <name>/);
    expect(() => parseDomainXml('not xml <')).toThrow(GuestkitError);
  });

  it('opens the domain\'s disks through virsh dumpxml and inspects the guest', () => {
    const raw = ['-c', uri, '-d', 'sample'];
    expect(driveArgs(raw)).toEqual([{ kind: 'd', domain: 'sample' }]);
    const g = openGuestFromArgs({ connect: uri, domain: 'sample' }, raw, { implyInspector: true });
    try {
      expect(g.domains.map((d) => [d.name, d.disks.map((x) => x.path)])).toEqual([['sample', [join(ROOT, 'images/out/sample/sample.raw')]]]);
      expect(Buffer.from(g.view.readFile('/etc/hostname')).toString()).toBe(`${SAMPLE.hostname}\n`);
      expect(g.displayName).toBe('sample');
    } finally {
      g.close();
    }
  });

  it('reports an unknown domain in one line', () => {
    const e = errOf(() => openGuestFromArgs({ connect: uri }, ['-c', uri, '-d', 'nope'], { implyInspector: true }));
    expect(e.code).toBe('EXTERNAL');
    expect(e.message).toMatch(/^virsh -c test:\/\/.* dumpxml --domain nope: .*nope/);
    expect(e.message).not.toContain('\n');
  });

  it('keeps -a / -d / --format order and names the guest as virt-df does', () => {
    const raw = ['-a', 'x/one.img', '--format=qcow2', '-a', 'two.qcow2', '-d', 'dom', '-m', '/dev/sda1', '--format', 'raw', '--add=three'];
    const d = driveArgs(raw);
    expect(d).toEqual([
      { kind: 'a', path: 'x/one.img' }, { kind: 'a', path: 'two.qcow2', format: 'qcow2' }, { kind: 'd', domain: 'dom' },
      { kind: 'a', path: 'three', format: 'raw' },
    ]);
    expect(displayNameOf(d)).toBe('one.img+++');
  });
});

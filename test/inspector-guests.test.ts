// guestkit inspector on guests made by real installers and on a multi-boot disk, against
// virt-inspector (goldens from test/parity/make-inspector-goldens.sh) and the package tools'
// own view of the installed packages:
//   guest-multiboot   three roots on one disk, each with its distro logo: <icon> as libguestfs
//                     finds it (lib/inspect-icon.c), XML equal to virt-inspector's
//   guest-fedora-rpm  a root installed by Debian's `rpm --root DIR -i` (sqlite rpmdb): XML equal
//                     to virt-inspector's, applications equal to `rpm --root DIR -qa`
//   guest-alpine      an Alpine 3.19 root constructed from apk's formats: XML equal to virt-inspector's
//   guest-debian      `debootstrap --variant=minbase --include=linux-image-amd64 bookworm`:
//                     the stable facts equal virt-inspector's (its icon too: debconf's
//                     /usr/share/pixmaps/debian-logo.png), applications equal dpkg-query's
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { inspectorJson, pngGeometry, base64Lines, type Application } from '@guestkit/inspect';
import { ensureImage, GUESTKIT, ROOT } from './helpers/images.js';
import { inspectImage, sortAppsPerOs } from './helpers/inspector.js';
// @ts-expect-error: plain .mjs fixture module
import { logoPng } from '../images/fixtures/phony-guests-icons.mjs';
// @ts-expect-error: plain .mjs recipe module
import { ALPINE_PACKAGES } from '../images/recipes/guest-alpine.mjs';

const golden = (name: string) => readFileSync(join(ROOT, 'test/goldens/inspector', name), 'utf8');
const png = (b64: string) => Buffer.from(b64, 'base64');

describe('multi-boot disk: three operating systems, icons', () => {
  let img: string;
  beforeAll(() => {
    img = join(ensureImage('guest-multiboot'), 'multiboot.img');
  });

  it("XML equals virt-inspector's (applications of same name in any order), icons included", async () => {
    const { xml, oses, warnings } = await inspectImage(img, { icon: true });
    expect(sortAppsPerOs(xml)).toBe(sortAppsPerOs(golden('multiboot.xml')));
    expect(oses.map((o) => [o.root, o.distro, o.hostname])).toEqual([
      ['/dev/sda1', 'fedora', 'fedora.invalid'], ['/dev/sda2', 'debian', 'debian.invalid'], ['/dev/sda3', 'ubuntu', 'ubuntu-multiboot.invalid'],
    ]);
    expect(warnings).toEqual([]);
  });

  it('icons are the logo files: fedora 96x96, debian 16x16, ubuntu the second path (the first is over 2048 bytes)', async () => {
    const { oses } = await inspectImage(img, { icon: true, applications: false });
    expect(png(oses[0].icon!)).toEqual(logoPng(96, [60, 110, 180]));
    expect(png(oses[1].icon!)).toEqual(logoPng(16, [215, 10, 83]));
    expect(png(oses[2].icon!)).toEqual(logoPng(24, [233, 84, 32]));
    expect(pngGeometry(png(oses[2].icon!))).toEqual({ width: 24, height: 24 });
    expect(logoPng(32, [233, 84, 32]).length).toBeGreaterThan(2048);
  });

  it('--no-icon leaves <icon> out; the CLI prints it by default, as virt-inspector does', async () => {
    const { xml } = await inspectImage(img, { icon: false, applications: false });
    expect(xml).not.toContain('<icon>');
    const r = spawnSync(GUESTKIT, ['inspector', '--format', 'raw', '-a', img, '--no-applications'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.status).toBe(0);
    expect(r.stdout.match(/<icon>/g)).toHaveLength(3);
    expect(r.stdout).toContain(`<icon>${base64Lines(logoPng(16, [215, 10, 83]).toString('base64'))}</icon>`);
    const n = spawnSync(GUESTKIT, ['inspector', '--format', 'raw', '-a', img, '--no-applications', '--no-icon'], { encoding: 'utf8' });
    expect(n.stdout).not.toContain('<icon>');
  });

  it('base64 as libxml2 writes it: 72-character lines joined by CR LF', () => {
    expect(base64Lines('A'.repeat(150))).toBe(`${'A'.repeat(72)}\r\n${'A'.repeat(72)}\r\n${'A'.repeat(6)}`);
    expect(base64Lines('A'.repeat(72))).toBe('A'.repeat(72));
  });

  it('pngGeometry: only what libmagic calls "PNG image data, W x H"', () => {
    const p = logoPng(16, [0, 0, 0]);
    expect(pngGeometry(p)).toEqual({ width: 16, height: 16 });
    const bad = Buffer.from(p);
    bad[12] = 0x78; // chunk type not IHDR
    expect(pngGeometry(bad)).toBeNull();
    expect(pngGeometry(p.subarray(0, 20))).toBeNull();
  });
});

describe('rpm root installed by Debian rpm into a folder (sqlite rpmdb)', () => {
  let dir: string;
  beforeAll(() => {
    dir = ensureImage('guest-fedora-rpm');
  });

  it("XML equals virt-inspector's byte for byte", async () => {
    const { xml, warnings } = await inspectImage(join(dir, 'fedora-rpm.img'), { icon: true });
    expect(xml).toBe(golden('fedora-rpm.xml'));
    expect(warnings).toEqual([]);
  });

  it('the applications are what `rpm --root DIR -qa` lists', async () => {
    const { oses } = await inspectImage(join(dir, 'fedora-rpm.img'));
    const ours = oses[0].applications!.map((a: Application) => [a.name, a.epoch, a.version, a.release, a.arch, a.summary, a.url].join('\t')).sort();
    expect(ours).toEqual(readFileSync(join(dir, 'rpm-qa.txt'), 'utf8').trim().split('\n').sort());
    expect(ours).toHaveLength(6);
    // rpm left its database checkpointed: the WAL beside it is empty, the main file is complete.
    expect(readFileSync(join(dir, 'rpmdb-files.txt'), 'utf8')).toContain('rpmdb.sqlite-wal\t0\n');
  });
});

describe('Alpine root (constructed: no minirootfs or apk-tools in Debian)', () => {
  it("XML equals virt-inspector's byte for byte; the applications are the installed database's", async () => {
    const img = join(ensureImage('guest-alpine'), 'alpine.img');
    const { xml, oses, warnings } = await inspectImage(img, { icon: true });
    expect(xml).toBe(golden('alpine.xml'));
    expect(warnings).toEqual([]);
    expect(oses[0].applications!.map((a) => `${a.name} ${a.version}-r${a.release}`)).toEqual(
      (ALPINE_PACKAGES as string[][]).map(([name, version]) => `${name} ${version}`).sort(),
    );
  });
});

describe('debootstrapped Debian 12 (minbase plus a kernel)', () => {
  let dir: string;
  beforeAll(() => {
    dir = ensureImage('guest-debian');
  }, 600_000);

  it("the stable facts equal virt-inspector's (debian.facts.xml); version from /etc/debian_version", async () => {
    const { xml, oses, warnings } = await inspectImage(join(dir, 'debian.raw'), { icon: true });
    const facts = xml.replace(/\n *<product_name>[^<]*<\/product_name>/, '').replace(/\n *<minor_version>[^<]*<\/minor_version>/, '')
      .replace(/\n *<applications>[\s\S]*<\/applications>/, '');
    expect(facts).toBe(golden('debian.facts.xml'));
    const release = readFileSync(join(dir, 'root/etc/debian_version'), 'utf8').trim();
    expect(oses[0].productName).toBe(release);
    expect(`${oses[0].majorVersion}.${oses[0].minorVersion}`).toBe(release);
    expect((inspectorJson(oses) as { operatingsystems: { firmware: string }[] }).operatingsystems[0].firmware).toBe('uefi');
    expect(warnings).toEqual([]);
  });

  it('the applications are the installed packages `dpkg-query -W --admindir` lists, the kernel among them', async () => {
    const { oses } = await inspectImage(join(dir, 'debian.qcow2'), {}, 'qcow2');
    const ver = (a: Application) => `${a.epoch ? `${a.epoch}:` : ''}${a.version}${a.release ? `-${a.release}` : ''}`;
    const ours = oses[0].applications!.map((a) => `${a.name}\t${ver(a)}\t${a.arch}`).sort();
    const q = spawnSync('dpkg-query', ['-W', `--admindir=${join(dir, 'root/var/lib/dpkg')}`, '-f', '${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\n'], { encoding: 'utf8' });
    expect(q.status).toBe(0);
    const theirs = q.stdout.trim().split('\n').filter((l) => l.startsWith('installed\t')).map((l) => l.slice('installed\t'.length)).sort();
    expect(ours).toEqual(theirs);
    expect(ours.length).toBeGreaterThan(90);
    const kernel = oses[0].applications!.find((a) => /^linux-image-\d.*-amd64$/.test(a.name));
    expect(kernel).toBeDefined();
    const abi = kernel!.name.replace('linux-image-', '');
    expect(readdirSync(join(dir, 'root/boot'))).toContain(`vmlinuz-${abi}`);
  });
});

// guest-alpine: an Alpine Linux 3.19 root. Debian's archive carries no Alpine minirootfs (apt-cache
// search finds only alpine-chroot-install, which downloads from Alpine's mirrors: no network
// here) and no apk-tools, so the root is constructed the way the phony guests are: the files
// inspection reads — /etc/os-release and /etc/alpine-release as Alpine 3.19.1 ships them, the
// minirootfs's /etc/fstab, /lib/apk/db/installed in apk's installed-database format ("X:value"
// lines, a blank line after each package) listing the minirootfs's packages, /bin/busybox an
// x86_64 ELF (binaries/bin-x86_64-dynamic) with /bin/ls and /bin/sh symlinks to it — on an ext4
// partition of an MBR disk. Fixed UUIDs and times: deterministic (golden from virt-inspector).
//   alpine.img

import { join } from 'node:path';
import { mkdirSync, writeFileSync, copyFileSync, symlinkSync, chmodSync, rmSync } from 'node:fs';
import { PHONY_SAMPLES, stampTree } from '../fixtures/phony-guests.mjs';
import { mkext, phonyDisk } from '../fixtures/phony-guests-disk.mjs';

export const ALPINE_UUID = '0a1b1e00-0319-4001-8000-000000000001';

/** [name, version, arch, description, url, origin] of the packages in alpine-minirootfs-3.19.1. */
export const ALPINE_PACKAGES = [
  ['alpine-baselayout', '3.4.3-r2', 'x86_64', 'Alpine base dir structure and init scripts', 'https://git.alpinelinux.org/cgit/aports/tree/main/alpine-baselayout', 'alpine-baselayout'],
  ['alpine-baselayout-data', '3.4.3-r2', 'x86_64', 'Alpine base dir structure and init scripts', 'https://git.alpinelinux.org/cgit/aports/tree/main/alpine-baselayout', 'alpine-baselayout'],
  ['alpine-keys', '2.4-r1', 'x86_64', 'Public keys for Alpine Linux packages', 'https://alpinelinux.org', 'alpine-keys'],
  ['apk-tools', '2.14.0-r5', 'x86_64', 'Alpine Package Keeper - package manager for alpine', 'https://gitlab.alpinelinux.org/alpine/apk-tools', 'apk-tools'],
  ['busybox', '1.36.1-r15', 'x86_64', 'Size optimized toolbox of many common UNIX utilities', 'https://busybox.net/', 'busybox'],
  ['busybox-binsh', '1.36.1-r15', 'x86_64', 'busybox ash /bin/sh', 'https://busybox.net/', 'busybox'],
  ['ca-certificates-bundle', '20230506-r0', 'x86_64', 'Pre generated bundle of Mozilla certificates', 'https://www.mozilla.org/en-US/about/governance/policies/security-group/certs/', 'ca-certificates'],
  ['libc-utils', '0.7.2-r5', 'x86_64', 'Meta package to pull in correct libc', 'https://alpinelinux.org', 'libc-dev'],
  ['libcrypto3', '3.1.4-r5', 'x86_64', 'Crypto library from openssl', 'https://www.openssl.org/', 'openssl'],
  ['libssl3', '3.1.4-r5', 'x86_64', 'SSL shared libraries', 'https://www.openssl.org/', 'openssl'],
  ['musl', '1.2.4_git20230717-r4', 'x86_64', 'the musl c library (libc) implementation', 'https://musl.libc.org/', 'musl'],
  ['musl-utils', '1.2.4_git20230717-r4', 'x86_64', 'the musl c library (libc) implementation', 'https://musl.libc.org/', 'musl'],
  ['scanelf', '1.3.7-r2', 'x86_64', 'Scan ELF binaries for stuff', 'https://wiki.gentoo.org/wiki/Hardened/PaX_Utilities', 'pax-utils'],
  ['ssl_client', '1.36.1-r15', 'x86_64', 'EXTERNAL ssl_client for busybox wget', 'https://busybox.net/', 'busybox'],
  ['zlib', '1.3.1-r0', 'x86_64', 'A compression/decompression Library', 'https://zlib.net/', 'zlib'],
];

function installedDb() {
  return ALPINE_PACKAGES.map(([name, version, arch, desc, url, origin], i) => [
    `C:Q1${Buffer.from(`${name}-${version}`).toString('base64').slice(0, 26)}=`, `P:${name}`, `V:${version}`, `A:${arch}`,
    `S:${10000 + i * 977}`, `I:${40960 + i * 4096}`, `T:${desc}`, `U:${url}`, 'L:MIT', `o:${origin}`,
    'm:Natanael Copa <ncopa@alpinelinux.org>', `t:${1700000000 + i}`, 'c:0123456789abcdef0123456789abcdef01234567', '',
  ].join('\n')).join('\n') + '\n';
}

export default {
  name: 'guest-alpine',
  inputs: ['fixtures/phony-guests.mjs', 'fixtures/phony-guests-disk.mjs'],
  tools: ['mke2fs', 'sfdisk'],
  async build({ out }) {
    const root = join(out, 'root');
    for (const d of ['bin', 'etc/apk', 'lib/apk/db', 'usr/bin', 'var', 'home', 'root', 'media/cdrom', 'media/usb']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'etc/alpine-release'), '3.19.1\n');
    writeFileSync(join(root, 'etc/os-release'), ['NAME="Alpine Linux"', 'ID=alpine', 'VERSION_ID=3.19.1', 'PRETTY_NAME="Alpine Linux v3.19"',
      'HOME_URL="https://alpinelinux.org/"', 'BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"', ''].join('\n'));
    writeFileSync(join(root, 'etc/fstab'), `/dev/cdrom\t/media/cdrom\tiso9660\tnoauto,ro 0 0\n/dev/usbdisk\t/media/usb\tvfat\tnoauto\t0 0\nUUID=${ALPINE_UUID}\t/\text4\trw,relatime 0 1\n`);
    writeFileSync(join(root, 'etc/hostname'), 'alpine.invalid\n');
    writeFileSync(join(root, 'etc/apk/world'), 'alpine-baselayout\nalpine-keys\napk-tools\nbusybox\nlibc-utils\n');
    writeFileSync(join(root, 'lib/apk/db/installed'), installedDb());
    copyFileSync(join(PHONY_SAMPLES, 'binaries', 'bin-x86_64-dynamic'), join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    symlinkSync('/bin/busybox', join(root, 'bin/ls'));
    symlinkSync('/bin/busybox', join(root, 'bin/sh'));
    stampTree(root);
    const part = { start: 2048, end: 32 * 2048 - 1, type: '83' };
    part.image = mkext(join(out, 'root.ext4'), { type: 'ext4', label: 'alpine', uuid: ALPINE_UUID, tree: root, sectors: part.end - part.start + 1 });
    phonyDisk(join(out, 'alpine.img'), { label: 'dos', sizeMiB: 33, parts: [part], extra: ['label-id: 0x0a1b1e00'] });
    rmSync(root, { recursive: true });
  },
};

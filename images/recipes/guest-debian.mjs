// guest-debian: a real Debian 12 guest for the read tools' benchmarks (bench/read-tools.mjs) and
// the inspector's real-guest test: `debootstrap --variant=minbase --include=linux-image-amd64
// bookworm` into a folder (minbase plus a kernel, its modules and initramfs), an ext4 root made from it with
// mke2fs -d, a FAT32 EFI system partition, GPT, and the qcow2 of it. Needs the Debian mirror
// (deb.debian.org, or $DEBIAN_MIRROR). Not used for goldens, so not made deterministic.
//   debian.raw, debian.qcow2

import { join } from 'node:path';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { run, makePartitionedDisk, log } from '../lib.mjs';

export default {
  name: 'guest-debian',
  inputs: [],
  tools: ['debootstrap', 'mke2fs', 'mkfs.fat', 'mcopy', 'sfdisk', 'qemu-img'],
  async build({ out }) {
    const root = join(out, 'root');
    const mirror = process.env.DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
    log('guest-debian: debootstrap --variant=minbase --include=linux-image-amd64 bookworm (downloads ~120 MB)');
    run('debootstrap', ['--variant=minbase', '--include=linux-image-amd64', 'bookworm', root, mirror]);
    // What an installed system has and a chroot lacks: fstab, hostname, an ESP mountpoint.
    mkdirSync(join(root, 'boot', 'efi'), { recursive: true });
    writeFileSync(join(root, 'etc', 'fstab'), [
      'UUID=7b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b / ext4 errors=remount-ro 0 1',
      'UUID=7B1C-2D3E /boot/efi vfat umask=0077 0 1',
      '',
    ].join('\n'));
    writeFileSync(join(root, 'etc', 'hostname'), 'debian-bench\n');
    const rootImg = join(out, 'root.ext4');
    run('mke2fs', ['-q', '-t', 'ext4', '-L', 'root', '-U', '7b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b', '-d', root, rootImg, '1536M']);
    const efi = join(out, 'efi');
    mkdirSync(join(efi, 'EFI', 'debian'), { recursive: true });
    writeFileSync(join(efi, 'EFI', 'debian', 'grub.cfg'), 'search.fs_uuid 7b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b root\n');
    const efiImg = join(out, 'efi.fat');
    run('mkfs.fat', ['-C', '-F', '32', '-n', 'EFI', '-i', '7B1C2D3E', efiImg, String(64 * 1024)]);
    run('mcopy', ['-s', '-m', '-i', efiImg, join(efi, 'EFI'), '::/']);
    const raw = join(out, 'debian.raw');
    makePartitionedDisk(raw, {
      label: 'gpt',
      sizeMiB: 1700,
      parts: [
        { sizeMiB: 64, type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', name: 'EFI System', image: efiImg },
        { type: '0FC63DAF-8483-4772-8D69-3D69D8BB2D56', name: 'root', image: rootImg },
      ],
    });
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, join(out, 'debian.qcow2')]);
    for (const p of [rootImg, efiImg, efi]) rmSync(p, { recursive: true, force: true });
    // The debootstrap tree stays: the benchmark counts its files to check the listings.
  },
};

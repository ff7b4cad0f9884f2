// guest-multiboot: one MBR disk with three Linux roots (the phony Fedora with its rpmdb.sqlite,
// the phony Debian and the phony Ubuntu of fixtures/phony-guests.mjs, each on its own ext4
// partition, fstab naming only its own root), for virt-inspector's several <operatingsystem>
// elements and its <icon>: each root carries the distro logo where libguestfs looks for it
// (lib/inspect-icon.c) — Fedora's 96x96 fedora-logo-icon.png, Debian's 16x16 debian-logo.png,
// and on Ubuntu a 32x32 logo at the first path that is over the 2048-byte limit (skipped) and
// a 24x24 one at the second path. Fixed UUIDs and times: deterministic (goldens from
// virt-inspector: test/parity/make-inspector-goldens.sh).
//   multiboot.img

import { join } from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import { writeFedoraTree, writeDebianTree, writeUbuntuTree, makeFedoraDb, stampTree } from '../fixtures/phony-guests.mjs';
import { mkext, phonyDisk } from '../fixtures/phony-guests-disk.mjs';
import { logoPng, writeIcon } from '../fixtures/phony-guests-icons.mjs';

export const MULTIBOOT_UUID = (n) => `0badb007-0123-4567-89ab-00000000000${n}`;
const MiB = 2048; // sectors

export default {
  name: 'guest-multiboot',
  inputs: ['fixtures/phony-guests.mjs', 'fixtures/phony-guests-disk.mjs', 'fixtures/phony-guests-icons.mjs'],
  tools: ['mke2fs', 'sfdisk', 'sqlite3'],
  async build({ out }) {
    const fedora = join(out, 'tree-fedora');
    const db = makeFedoraDb(join(out, 'fedora.db'));
    writeFedoraTree(fedora, db);
    rmSync(db);
    writeFileSync(join(fedora, 'etc/fstab'), `UUID=${MULTIBOOT_UUID(1)} / ext4 defaults 0 1\n`);
    writeIcon(fedora, 'usr/share/icons/hicolor/96x96/apps/fedora-logo-icon.png', logoPng(96, [60, 110, 180]));
    stampTree(fedora);

    const debian = join(out, 'tree-debian');
    writeDebianTree(debian);
    writeFileSync(join(debian, 'etc/fstab'), '/dev/sda2 / ext4 defaults 0 1\n');
    writeIcon(debian, 'usr/share/pixmaps/debian-logo.png', logoPng(16, [215, 10, 83]));
    stampTree(debian);

    const ubuntu = join(out, 'tree-ubuntu');
    const ubuntuBoot = join(out, 'tree-ubuntu-boot');
    writeUbuntuTree(ubuntu, ubuntuBoot);
    writeFileSync(join(ubuntu, 'etc/fstab'), 'LABEL=UBUNTU / ext4 defaults 0 1\n');
    writeFileSync(join(ubuntu, 'etc/hostname'), 'ubuntu-multiboot.invalid\n');
    writeIcon(ubuntu, 'usr/share/icons/gnome/24x24/places/ubuntu-logo.png', logoPng(32, [233, 84, 32]));
    writeIcon(ubuntu, 'usr/share/help/C/ubuntu-help/figures/ubuntu-logo.png', logoPng(24, [233, 84, 32]));
    stampTree(ubuntu);

    const parts = [
      { start: 2048, end: 129 * MiB - 1, type: '83' },
      { start: 129 * MiB, end: 193 * MiB - 1, type: '83', bootable: true },
      { start: 193 * MiB, end: 257 * MiB - 1, type: '83' },
    ];
    const sectors = (p) => p.end - p.start + 1;
    parts[0].image = mkext(join(out, 'p1.img'), { type: 'ext4', label: 'FEDORA', uuid: MULTIBOOT_UUID(1), tree: fedora, sectors: sectors(parts[0]) });
    parts[1].image = mkext(join(out, 'p2.img'), { type: 'ext4', label: 'DEBIAN', uuid: MULTIBOOT_UUID(2), tree: debian, sectors: sectors(parts[1]) });
    parts[2].image = mkext(join(out, 'p3.img'), { type: 'ext4', label: 'UBUNTU', uuid: MULTIBOOT_UUID(3), tree: ubuntu, sectors: sectors(parts[2]) });
    phonyDisk(join(out, 'multiboot.img'), { label: 'dos', sizeMiB: 258, parts, extra: ['label-id: 0x0b007b00'] });
    for (const t of [fedora, debian, ubuntu, ubuntuBoot]) rmSync(t, { recursive: true });
  },
};

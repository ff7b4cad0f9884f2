// libguestfs's phony Linux guests without LVM (ubuntu, archlinux, coreos), built without
// the appliance: each filesystem with mke2fs -d from fixtures/phony-guests.mjs, the disk with
// sfdisk at the sector layout of test-data/phony-guests/make-*-img.sh (part-add 64 … -64),
// the filesystems dd'd into place. Fixed UUIDs and times: deterministic.

import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { run } from '../lib.mjs';
import { writeUbuntuTree, writeArchTree, writeCoreosTrees, PHONY_UUID } from '../fixtures/phony-guests.mjs';
import { mkext, phonyDisk as disk, phonyEnv as env } from '../fixtures/phony-guests-disk.mjs';

const END512 = 512 * 2048; // sectors in 512 MiB

export default {
  name: 'phony-linux',
  inputs: ['fixtures/phony-guests.mjs', 'fixtures/phony-guests-disk.mjs'],
  tools: ['mke2fs', 'sfdisk', 'mkfs.fat'],
  async build({ out }) {
    // ubuntu: sda1 64…524287 BOOT, sda2 524288…(end−64) root.
    {
      const root = join(out, 'tree-ubuntu');
      const boot = join(out, 'tree-ubuntu-boot');
      writeUbuntuTree(root, boot);
      const p1 = { start: 64, end: 524287, type: '83' };
      const p2 = { start: 524288, end: END512 - 65, type: '83' };
      p1.image = mkext(join(out, 'u1.img'), { type: 'ext2', label: 'BOOT', uuid: PHONY_UUID(1), tree: boot, sectors: p1.end - p1.start + 1 });
      p2.image = mkext(join(out, 'u2.img'), { type: 'ext2', uuid: PHONY_UUID(2), tree: root, sectors: p2.end - p2.start + 1 });
      disk(join(out, 'ubuntu.img'), { label: 'dos', sizeMiB: 512, parts: [p1, p2], extra: ['label-id: 0x0badcafe'] });
    }
    // archlinux: sda1 64…(end−64), ext4.
    {
      const root = join(out, 'tree-archlinux');
      writeArchTree(root);
      const p1 = { start: 64, end: END512 - 65, type: '83' };
      p1.image = mkext(join(out, 'a1.img'), { type: 'ext4', uuid: PHONY_UUID(2), tree: root, sectors: p1.end - p1.start + 1 });
      disk(join(out, 'archlinux.img'), { label: 'dos', sizeMiB: 512, parts: [p1], extra: ['label-id: 0x0badcafe'] });
    }
    // coreos: GPT, EFI_SYSTEM (FAT), BIOS-BOOT, USR-A (ext4), USR-B, ROOT (ext4).
    {
      const root = join(out, 'tree-coreos-root');
      const usr = join(out, 'tree-coreos-usr');
      writeCoreosTrees(root, usr);
      const L = '0FC63DAF-8483-4772-8D69-3D69D8BB2D56';
      const parts = [
        { start: 4096, end: 266239, type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', name: 'EFI_SYSTEM' },
        { start: 266240, end: 270335, type: '21686148-6449-6E6F-744E-656564454649', name: 'BIOS-BOOT' },
        { start: 270336, end: 532479, type: L, name: 'USR-A' },
        { start: 532480, end: 794623, type: L, name: 'USR-B' },
        { start: 794624, end: END512 - 4097, type: L, name: 'ROOT' },
      ];
      const efi = join(out, 'c1.img');
      run('mkfs.fat', ['--invariant', '-C', '-i', '12345678', efi, String((parts[0].end - parts[0].start + 1) / 2)], { env: env() });
      parts[0].image = efi;
      parts[2].image = mkext(join(out, 'c3.img'), { type: 'ext4', label: 'USR-A', uuid: PHONY_UUID(1), tree: usr, sectors: parts[2].end - parts[2].start + 1 });
      parts[4].image = mkext(join(out, 'c5.img'), { type: 'ext4', label: 'ROOT', uuid: PHONY_UUID(2), tree: root, sectors: parts[4].end - parts[4].start + 1 });
      disk(join(out, 'coreos.img'), {
        label: 'gpt', sizeMiB: 512, parts,
        extra: ['label-id: 01234567-89AB-CDEF-0123-456789ABCDEF', 'first-lba: 34'],
      });
      for (let i = 1; i <= 5; i++) {
        run('sfdisk', ['--no-reread', '--no-tell-kernel', '--part-uuid', join(out, 'coreos.img'), String(i), `01234567-89AB-CDEF-0123-45678900000${i}`]);
      }
    }
    for (const t of ['tree-ubuntu', 'tree-ubuntu-boot', 'tree-archlinux', 'tree-coreos-root', 'tree-coreos-usr']) rmSync(join(out, t), { recursive: true });
  },
};

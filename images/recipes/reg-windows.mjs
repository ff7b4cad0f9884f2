// A Windows-layout guest for `guestkit win-reg -a` and its virt-win-reg goldens, laid out like
// libguestfs's phony Windows guest: a raw 512 MiB disk, MBR with disk signature "1234",
//   partition 1 (1 MiB, 64 MiB)   NTFS "System Reserved": \Boot\BCD
//   partition 2 (256 MiB to end)  NTFS: \Windows\System32\config\{SOFTWARE,SYSTEM,SAM,SECURITY,DEFAULT},
//                                 ...\config\systemprofile\NTUSER.DAT, \Windows\System32\cmd.exe,
//                                 \Windows\System32\Drivers\, \Program Files\, \Users\alice\NTUSER.DAT,
//                                 \Documents and Settings\bob\NTUSER.DAT, \autoexec.bat
// The hives are reg-hives' guest/ (hivexregedit --merge of libguestfs's phony .reg files and
// ours). Each NTFS is made by mkntfs -T (fixed times and serial) and filled through ntfs-3g.

import { mkdirSync, copyFileSync, writeFileSync, rmSync, cpSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, makePartitionedDisk } from '../lib.mjs';
import { fillNtfs } from '../fixtures/phony-guests-ntfs.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const BINARIES = join(here, '..', '..', '..', 'shared', 'samples', 'guestfs-tools', 'binaries');

/** mkntfs an image of `sizeMiB` and copy the `tree` directory into it through ntfs-3g. */
export async function ntfsFromTree(img, sizeMiB, label, tree, mnt) {
  run('truncate', ['-s', `${sizeMiB}M`, img]);
  run('mkntfs', ['-q', '-F', '-f', '-T', '-L', label, img]);
  await fillNtfs(img, tree, mnt);
}

export default {
  name: 'reg-windows',
  inputs: ['fixtures/phony-guests-ntfs.mjs'],
  deps: ['reg-hives'],
  tools: ['mkntfs', 'ntfs-3g', 'sfdisk'],
  async build({ out, dep }) {
    const guest = join(dep('reg-hives'), 'guest');
    const sys = join(out, 'tree-system');
    mkdirSync(join(sys, 'Boot'), { recursive: true });
    copyFileSync(join(guest, 'Boot', 'BCD'), join(sys, 'Boot', 'BCD'));
    const c = join(out, 'tree-c');
    cpSync(join(guest, 'Windows'), join(c, 'Windows'), { recursive: true });
    cpSync(join(guest, 'Users'), join(c, 'Users'), { recursive: true });
    cpSync(join(guest, 'Documents and Settings'), join(c, 'Documents and Settings'), { recursive: true });
    mkdirSync(join(c, 'Windows', 'System32', 'Drivers'), { recursive: true });
    mkdirSync(join(c, 'Program Files'), { recursive: true });
    copyFileSync(join(BINARIES, 'bin-win32.exe'), join(c, 'Windows', 'System32', 'cmd.exe'));
    writeFileSync(join(c, 'autoexec.bat'), '');
    const p1 = join(out, 'p1.ntfs');
    const p2 = join(out, 'p2.ntfs');
    await ntfsFromTree(p1, 64, 'System Reserved', sys, join(out, 'mnt1'));
    await ntfsFromTree(p2, 255, 'Windows', c, join(out, 'mnt2'));
    makePartitionedDisk(join(out, 'windows.img'), {
      label: 'dos',
      sizeMiB: 512,
      extra: 'label-id: 0x34333231',
      parts: [
        { start: 2048, sizeMiB: 64, type: '7', bootable: true, image: p1 },
        { start: 524288, sizeMiB: 255, type: '7', image: p2 },
      ],
    });
    for (const f of [p1, p2]) rmSync(f);
    rmSync(sys, { recursive: true });
    rmSync(c, { recursive: true });
  },
};

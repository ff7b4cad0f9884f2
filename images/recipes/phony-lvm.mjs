// libguestfs's phony Fedora and Debian guests (LVM), in ONE libguestfs appliance launch (the
// host kernel has no device-mapper): the guestfish commands of test-data/phony-guests/
// make-fedora-img.pl (LAYOUT=partitions-lvm) and make-debian-img.sh, the files put in with
// tar-in from the trees of fixtures/phony-guests.mjs. fedora's rpmdb.sqlite is
// `xzcat fedora-db.sql.xz | sqlite3` as libguestfs's Makefile makes it.

import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { guestfish, run } from '../lib.mjs';
import { writeFedoraTree, writeDebianTree, makeFedoraDb, PHONY_UUID } from '../fixtures/phony-guests.mjs';

const tarOf = (dir, out) => {
  run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu', '-cf', out, '-C', dir, '.']);
  return out;
};

export default {
  name: 'phony-lvm',
  inputs: ['fixtures/phony-guests.mjs'],
  tools: ['guestfish', 'tar', 'sqlite3'],
  async build({ out }) {
    const db = makeFedoraDb(join(out, 'fedora.db'));
    const ft = join(out, 'tree-fedora');
    writeFedoraTree(ft, db);
    const dt = join(out, 'tree-debian');
    writeDebianTree(dt);
    const ftar = tarOf(ft, join(out, 'fedora.tar'));
    const dtar = tarOf(dt, join(out, 'debian.tar'));
    const fedora = join(out, 'fedora.img');
    const debian = join(out, 'debian.img');
    run('truncate', ['-s', '1G', fedora]);
    run('truncate', ['-s', '512M', debian]);
    const L = [`add ${fedora} format:raw`, `add ${debian} format:raw`, 'run'];
    // fedora (sda)
    L.push('part-init /dev/sda mbr', 'part-add /dev/sda p 64 1048575', 'part-add /dev/sda p 1048576 -64');
    L.push('pvcreate /dev/sda2', 'vgcreate VG /dev/sda2', 'lvcreate Root VG 32', 'lvcreate LV1 VG 32', 'lvcreate LV2 VG 32', 'lvcreate LV3 VG 64');
    L.push('mkfs ext2 /dev/VG/Root blocksize:4096', 'set-label /dev/VG/Root ROOT', `set-uuid /dev/VG/Root ${PHONY_UUID(2)}`);
    L.push('mkfs ext2 /dev/VG/LV1 blocksize:4096', 'mkfs ext2 /dev/VG/LV2 blocksize:1024', 'mkfs ext2 /dev/VG/LV3 blocksize:2048');
    L.push('mkfs ext2 /dev/sda1 blocksize:4096', 'set-label /dev/sda1 BOOT', `set-uuid /dev/sda1 ${PHONY_UUID(1)}`);
    L.push('mount /dev/VG/Root /', 'mkdir /boot', 'mount /dev/sda1 /boot', `tar-in ${ftar} /`);
    L.push('mkfifo 0777 /bin/test6', 'mknod 0777 10 10 /bin/test7', 'chown 10 11 /etc/test3');
    L.push('lsetxattr security.selinux "system_u:object_r:shadow_t:s0" 29 /etc/shadow');
    L.push('umount-all');
    // debian (sdb)
    L.push('part-init /dev/sdb mbr', 'part-add /dev/sdb p 64 524287', 'part-add /dev/sdb p 524288 -64');
    L.push('pvcreate /dev/sdb2', 'vgcreate debian /dev/sdb2');
    for (const [lv, size] of [['root', 64], ['usr', 32], ['var', 32], ['home', 32]]) L.push(`lvcreate ${lv} debian ${size}`);
    L.push('mkfs ext2 /dev/sdb1 blocksize:4096', 'set-label /dev/sdb1 BOOT', `set-e2uuid /dev/sdb1 ${PHONY_UUID(1)}`);
    ['root', 'usr', 'var', 'home'].forEach((lv, i) => L.push(`mkfs ext2 /dev/debian/${lv} blocksize:4096`, `set-e2uuid /dev/debian/${lv} ${PHONY_UUID(i + 2)}`));
    L.push('mount /dev/debian/root /');
    for (const [mp, dev] of [['/boot', '/dev/sdb1'], ['/usr', '/dev/debian/usr'], ['/var', '/dev/debian/var'], ['/home', '/dev/debian/home']]) {
      L.push(`mkdir ${mp}`, `mount ${dev} ${mp}`);
    }
    L.push(`tar-in ${dtar} /`, 'umount-all', 'shutdown');
    guestfish([], L.join('\n') + '\n');
    for (const f of [ftar, dtar, db]) rmSync(f);
    rmSync(ft, { recursive: true });
    rmSync(dt, { recursive: true });
  },
};

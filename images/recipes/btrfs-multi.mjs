// A btrfs filesystem over two whole-disk images: `mkfs.btrfs -d raid0 -m raid1 A B` (data
// striped over both devices, metadata and system mirrored; run on the host, with a fixed fsid,
// like btrfs-guestfs: the appliance has the same btrfs-progs, and its kernel names for the
// disks are not guaranteed to be guestfish's), then filled by the Linux kernel in the
// libguestfs appliance (one launch, mounted by UUID): the fixture tree of btrfs-rootdir
// (without bigdir/) extracted by GNU tar, times, owners, xattrs and ACLs included. The device
// UUIDs are random (mkfs.btrfs has no option for them), so the bytes differ between builds,
// not the tree. Outputs:
//   multi-a.img, multi-b.img   devid 1 and 2 (the order libguestfs gives them: /dev/sda, sdb)
//   multi.oracle.sha256        sha256sum of every file as Linux reads it (a read-only mount)
//   multi.oracle.statvfs       stat -f: %S %b %f %a %c %d %l
//   multi.oracle.usage         `btrfs filesystem usage -b`: what lies on which device
//   images.json                UUID, label, profiles and the files

import { join } from 'node:path';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { run, guestfish, log } from '../lib.mjs';

export const BTRFS_MULTI = {
  uuid: '7b1f5c2e-0020-4d3a-9c1e-b7f5a0000020',
  label: 'btrfs-multi',
  files: ['multi-a.img', 'multi-b.img'],
  data: 'raid0',
  metadata: 'raid1',
  sizeMiB: 256,
};

export default {
  name: 'btrfs-multi',
  inputs: [],
  tools: ['mkfs.btrfs', 'guestfish', 'tar'],
  deps: ['btrfs-rootdir'],
  async build({ out, dep }) {
    const M = BTRFS_MULTI;
    const src = dep('btrfs-rootdir');
    const root = JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8'))[0];
    run('tar', ['--format=posix', '--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '-S', '-cf', join(out, 'tree.tar'),
      '-C', join(src, 'tree'), '--exclude=./bigdir', '.']);
    const files = M.files.map((f) => join(out, f));
    for (const f of files) run('truncate', ['-s', `${M.sizeMiB}M`, f]);
    run('mkfs.btrfs', ['-q', '-f', '-U', M.uuid, '-L', M.label, '-d', M.data, '-m', M.metadata, ...files]);
    const scratch = join(out, 'scratch.img');
    run('truncate', ['-s', '128M', scratch]);
    const ts = (t) => `@${t.sec}.${String(t.nsec).padStart(9, '0')}`;
    const script = `set -eu
S=/sysroot; D=$S/mnt; O=$S/out
mkdir -p $D $O
btrfs device scan >/dev/null 2>&1 || true
mount UUID=${M.uuid} $D
tar -xpf $S/tree.tar -C $D --xattrs --xattrs-include='*' --acls --numeric-owner --same-owner
chown ${root.uid}:${root.gid} $D
chmod ${(root.mode & 0o7777).toString(8)} $D
touch -h -a -d ${ts(root.atime)} $D
touch -h -m -d ${ts(root.mtime)} $D
sync
umount $D
mount -o ro UUID=${M.uuid} $D
( cd $D && find . -type f -print0 | sort -z | xargs -0 -r sha256sum ) > $O/multi.oracle.sha256
stat -f -c '%S %b %f %a %c %d %l' $D > $O/multi.oracle.statvfs
btrfs filesystem usage -b $D > $O/multi.oracle.usage
umount $D
`;
    writeFileSync(join(out, 'run.sh'), script);
    log('btrfs-multi: one libguestfs launch makes a two-device btrfs (data raid0, metadata raid1)');
    const res = guestfish([], `add-drive ${files[0]} format:raw
add-drive ${files[1]} format:raw
add-drive ${scratch} format:raw
run
mkfs ext4 /dev/sdc
mount /dev/sdc /
upload ${join(out, 'tree.tar')} /tree.tar
upload ${join(out, 'run.sh')} /run.sh
debug sh "sh -eu /sysroot/run.sh > /sysroot/run.log 2>&1; echo rc=$?"
download /run.log ${join(out, 'run.log')}
tar-out /out ${join(out, 'oracle.tar')}
`, { timeout: 3600_000 });
    const runLog = readFileSync(join(out, 'run.log'), 'utf8');
    if (!/rc=0/.test(res)) throw new Error(`appliance script failed: ${res}\n${runLog.slice(-4000)}`);
    run('tar', ['-xf', join(out, 'oracle.tar'), '-C', out]);
    const usage = readFileSync(join(out, 'multi.oracle.usage'), 'utf8');
    // Data must really be striped over both devices, metadata mirrored on both.
    if (!/Data,RAID0/.test(usage) || !/Metadata,RAID1/.test(usage)) throw new Error(`btrfs-multi: unexpected profiles:\n${usage}`);
    for (const f of ['oracle.tar', 'tree.tar', 'scratch.img', 'run.sh']) rmSync(join(out, f));
    writeFileSync(join(out, 'images.json'), JSON.stringify(M, null, 2) + '\n');
  },
};

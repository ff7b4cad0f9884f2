// btrfs images filled by the Linux kernel inside the libguestfs appliance (one launch), from
// the fixture tree of btrfs-rootdir (without bigdir/), made empty on the host by mkfs.btrfs
// with fixed UUIDs:
//   dup.img          metadata DUP, data single (no-holes): the tree extracted with GNU tar
//                    (times with nanoseconds, device numbers, xattrs, ACLs, hard links)
//   compress.img     no-holes off (explicit hole extents); subvolumes zstd/, lzo/, zlib/, each
//                    holding the tree written under compress-force=<that algorithm>;
//                    zstd/inner/ (a subvolume in a subvolume), snap-zstd/ (a read-only
//                    snapshot of zstd/, where inner/ is an empty placeholder), README in the
//                    top level; the default subvolume is zstd/
//   raid1-{a,b}.img  data and metadata RAID1 on two devices
//   raid0-{a,b,c}.img data RAID0, metadata RAID1C3
//   raid10-{a..d}.img data RAID10, metadata RAID1C4
//   raid5-{a,b,c}.img data RAID5, metadata RAID6
// In every tree, btrfs/partial.txt, btrfs/prealloc.bin and btrfs/holes.bin are rewritten in
// place (fixtures/btrfs-tree.mjs) to get extents that point into the middle of a compressed
// extent, a preallocated extent with a write inside, and holes.
// The same launch records what Linux shows on a read-only mount of each image (and of
// btrfs-rootdir's btrfs.img): `find -printf` listing, device numbers, sha256sum of every file,
// getfattr dump, statvfs (stat -f), `btrfs subvolume list` and get-default:
// <name>.oracle.{list,rdev,sha256,xattr,statvfs,subvols,default} (read by
// packages/core/test/btrfs-helpers.ts). images.json says what is where. The filesystems are
// made by the host's mkfs.btrfs (the appliance runs the same btrfs-progs) so that the options
// sit next to the UUIDs here.

import { join } from 'node:path';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { run, guestfish, log } from '../lib.mjs';
import { linuxTreeTimes } from '../fixtures/linux-tree.mjs';
import { btrfsRelayoutScript, btrfsRelayoutInputs } from '../fixtures/btrfs-tree.mjs';

export const BTRFS_GUESTFS = {
  dup: { uuid: '7b1f5c2e-0010-4d3a-9c1e-b7f5a0000010', label: 'btrfs-dup', files: ['dup.img'], mkfs: ['-m', 'dup', '-d', 'single'], sizeMiB: 256 },
  compress: { uuid: '7b1f5c2e-0011-4d3a-9c1e-b7f5a0000011', label: 'btrfs-comp', files: ['compress.img'], mkfs: ['-O', '^no-holes'], sizeMiB: 512 },
  raid1: { uuid: '7b1f5c2e-0012-4d3a-9c1e-b7f5a0000012', label: 'btrfs-raid1', files: ['raid1-a.img', 'raid1-b.img'], mkfs: ['-d', 'raid1', '-m', 'raid1'], sizeMiB: 256 },
  raid0: { uuid: '7b1f5c2e-0013-4d3a-9c1e-b7f5a0000013', label: 'btrfs-raid0', files: ['raid0-a.img', 'raid0-b.img', 'raid0-c.img'], mkfs: ['-d', 'raid0', '-m', 'raid1c3'], sizeMiB: 256 },
  raid10: { uuid: '7b1f5c2e-0014-4d3a-9c1e-b7f5a0000014', label: 'btrfs-raid10', files: ['raid10-a.img', 'raid10-b.img', 'raid10-c.img', 'raid10-d.img'], mkfs: ['-d', 'raid10', '-m', 'raid1c4'], sizeMiB: 256 },
  raid5: { uuid: '7b1f5c2e-0015-4d3a-9c1e-b7f5a0000015', label: 'btrfs-raid5', files: ['raid5-a.img', 'raid5-b.img', 'raid5-c.img'], mkfs: ['-d', 'raid5', '-m', 'raid6'], sizeMiB: 256 },
  /** Subvolumes of compress.img, in creation order (ids 256...). */
  algorithms: ['zstd', 'lzo', 'zlib'],
  nested: { path: 'zstd/inner', file: 'file.txt', text: 'inside a nested subvolume\n' },
  readme: 'top level of compress.img\n',
};

const ORACLE_FMT = '%i\\t%y\\t%#m\\t%U\\t%G\\t%s\\t%n\\t%A@\\t%T@\\t%b\\t%p\\t%l\\n';
const ts = (t) => `@${t.sec}.${String(t.nsec).padStart(9, '0')}`;

/** touch lines giving `path` the fixture times of fixture path `rel`. */
function times(path, rel) {
  const { atime, mtime } = linuxTreeTimes(rel);
  return `touch -h -a -d ${ts(atime)} ${path}\ntouch -h -m -d ${ts(mtime)} ${path}`;
}

function applianceScript(manifestRoot) {
  const G = BTRFS_GUESTFS;
  const root = (dir) => `chown ${manifestRoot.uid}:${manifestRoot.gid} ${dir}\nchmod ${(manifestRoot.mode & 0o7777).toString(8)} ${dir}\n${times(dir, '')}`;
  const fill = (dir) => `tar -xpf $S/tree.tar -C ${dir} --xattrs --xattrs-include='*' --acls --numeric-owner --same-owner\nrelayout ${dir}`;
  const oracle = (name, uuid, opts = '') => `
M=$S/mnt/oracle; O=$S/out/${name}
mount -o ro${opts} UUID=${uuid} $M
( cd $M && find . -printf '${ORACLE_FMT}' ) > $O.oracle.list
( cd $M && find . \\( -type b -o -type c \\) -exec stat -c '%t %T %n' {} + ) > $O.oracle.rdev
( cd $M && find . -type f -print0 | sort -z | xargs -0 -r sha256sum ) > $O.oracle.sha256
( cd $M && find . -print0 | xargs -0 getfattr -h -d -m - -e hex ) > $O.oracle.xattr 2>/dev/null || true
stat -f -c '%S %b %f %a %c %d %l' $M > $O.oracle.statvfs
btrfs subvolume list -p $M > $O.oracle.subvols
btrfs subvolume get-default $M > $O.oracle.default
umount $M`;
  const S = [
    'set -eu',
    'S=/sysroot',
    'mkdir -p $S/mnt/fill $S/mnt/oracle $S/out',
    'for t in btrfs mkfs.btrfs fallocate getfattr sha256sum tar; do command -v $t; done',
    `relayout() {\nR=$1\n${btrfsRelayoutScript('$R', '$S/relayout')}}`,
    'btrfs device scan >/dev/null 2>&1 || true',
    'M=$S/mnt/fill',
  ];
  for (const k of ['dup', 'raid1', 'raid0', 'raid10', 'raid5']) {
    S.push(`echo "== ${k}"`, `mount UUID=${G[k].uuid} $M`, fill('$M'), root('$M'), 'sync', 'umount $M');
  }
  S.push('echo "== compress"');
  for (const alg of G.algorithms) {
    S.push(`mount -o compress-force=${alg} UUID=${G.compress.uuid} $M`, `btrfs subvolume create $M/${alg}`, fill(`$M/${alg}`));
    if (alg === 'zstd') {
      S.push(`btrfs subvolume create $M/${G.nested.path}`, `printf '${G.nested.text.replace(/\n/g, '\\n')}' > $M/${G.nested.path}/${G.nested.file}`,
        times(`$M/${G.nested.path}/${G.nested.file}`, `${G.nested.path}/${G.nested.file}`), times(`$M/${G.nested.path}`, G.nested.path));
    }
    S.push(root(`$M/${alg}`), 'sync', 'umount $M');
  }
  S.push(`mount UUID=${G.compress.uuid} $M`,
    'btrfs subvolume snapshot -r $M/zstd $M/snap-zstd',
    'btrfs subvolume set-default $M/zstd',
    `printf '${G.readme.replace(/\n/g, '\\n')}' > $M/README`, times('$M/README', 'README'), times('$M', ''), 'sync', 'umount $M');
  S.push(oracle('dup', G.dup.uuid), oracle('compress', G.compress.uuid, ',subvolid=5'));
  for (const k of ['raid1', 'raid0', 'raid10', 'raid5']) S.push(oracle(k, G[k].uuid));
  S.push('echo "== oracle btrfs.img"', oracle('rootdir', '7b1f5c2e-0001-4d3a-9c1e-b7f5a0000001'));
  return S.join('\n') + '\n';
}

export default {
  name: 'btrfs-guestfs',
  inputs: ['fixtures/linux-tree.mjs', 'fixtures/btrfs-tree.mjs'],
  tools: ['mkfs.btrfs', 'guestfish', 'tar'],
  deps: ['btrfs-rootdir'],
  async build({ out, dep }) {
    const G = BTRFS_GUESTFS;
    const src = dep('btrfs-rootdir');
    const manifest = JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8'));
    run('tar', ['--format=posix', '--xattrs', "--xattrs-include=*", '--acls', '--numeric-owner', '-S', '-cf', join(out, 'tree.tar'),
      '-C', join(src, 'tree'), '--exclude=./bigdir', '.']);
    btrfsRelayoutInputs(join(out, 'relayout'));
    run('tar', ['-cf', join(out, 'relayout.tar'), '-C', join(out, 'relayout'), '.']);
    const drives = [];
    for (const k of ['dup', 'compress', 'raid1', 'raid0', 'raid10', 'raid5']) {
      const files = G[k].files.map((f) => join(out, f));
      for (const f of files) run('truncate', ['-s', `${G[k].sizeMiB}M`, f]);
      run('mkfs.btrfs', ['-q', '-f', '-U', G[k].uuid, '-L', G[k].label, ...G[k].mkfs, ...files]);
      drives.push(...files);
    }
    const scratch = join(out, 'scratch.img');
    run('truncate', ['-s', '256M', scratch]);
    writeFileSync(join(out, 'run.sh'), applianceScript(manifest[0]));
    log('btrfs-guestfs: one libguestfs launch fills and checks 14 btrfs devices (TCG: several minutes)');
    const script = `add-drive ${scratch} format:raw
${drives.map((d) => `add-drive ${d} format:raw`).join('\n')}
add-drive ${join(src, 'btrfs.img')} format:raw readonly:true
run
mkfs ext4 /dev/sda
mount /dev/sda /
upload ${join(out, 'tree.tar')} /tree.tar
mkdir /relayout
tar-in ${join(out, 'relayout.tar')} /relayout
upload ${join(out, 'run.sh')} /run.sh
debug sh "sh -eu /sysroot/run.sh > /sysroot/run.log 2>&1; echo rc=$?"
download /run.log ${join(out, 'run.log')}
tar-out /out ${join(out, 'oracle.tar')}
`;
    const res = guestfish([], script, { timeout: 3600_000 });
    const runLog = readFileSync(join(out, 'run.log'), 'utf8');
    if (!/rc=0/.test(res)) throw new Error(`appliance script failed: ${res}\n${runLog.slice(-4000)}`);
    run('tar', ['-xf', join(out, 'oracle.tar'), '-C', out]);
    for (const f of ['oracle.tar', 'tree.tar', 'relayout.tar', 'scratch.img']) rmSync(join(out, f));
    rmSync(join(out, 'relayout'), { recursive: true });
    writeFileSync(join(out, 'images.json'), JSON.stringify(G, null, 2) + '\n');
  },
};

// XFS images whose log needs recovery, with the kernel's own recovery as the oracle:
//   dirty-v5.img   v5 (mkfs.xfs defaults). (No v4 image: the appliance's kernel does not mount
//                  v4 XFS, so it cannot give the oracle.)
// In one libguestfs appliance launch, on each: a base tree is written back in place (a freeze
// checkpoints the log), then changes that only reach the log (sync forces the log, not the
// metadata): creates (a 120-entry directory, nested directories), writes, a rename, unlinks,
// chmod / chown / touch (setattr), hard and symbolic links (inline and remote), a truncate and
// an xattr; then `xfs_io -x -c shutdown` leaves the log dirty. The dirty image is then copied
// to a spare drive, and the copy mounted: the kernel replays the log, and what it shows is the
// oracle (<name>.oracle.list: `find -printf`, .sha256, .xattr, .statvfs from a read-only
// remount). The dirty images themselves are never mounted again.

import { join } from 'node:path';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { run, guestfish, log } from '../lib.mjs';

export const XFS_DIRTY = [
  { name: 'dirty-v5', uuid: '8f0c4c1e-7a3b-4d2e-9c8f-0a1b2c3d4e58', label: 'gk-dirty5', mkfs: [] },
];
const SIZE_MIB = 320;
const ORACLE_FMT = '%i\\t%y\\t%#m\\t%U\\t%G\\t%s\\t%n\\t%A@\\t%T@\\t%b\\t%p\\t%l\\n';
const LONG_TARGET = `/${'long-symlink-target-component/'.repeat(10)}end`;

/** The changes (appliance shell, cwd = the mounted filesystem). */
const BASE = `
mkdir base base/dir1
echo keep > base/keep; echo old > base/rename-src; echo gone > base/unlink-me; echo mode > base/setattr
seq 1 30000 > base/big.txt
i=0; while [ $i -lt 30 ]; do echo "dir1 $i" > base/dir1/f$i; i=$((i+1)); done
`;
const LOGGED = `
mkdir new
i=0; while [ $i -lt 120 ]; do echo "new $i" > new/n$i; i=$((i+1)); done
mkdir -p deep/a/b/c; echo deep > deep/a/b/c/file
mv base/rename-src base/rename-dst
rm base/unlink-me
i=1; while [ $i -lt 10 ]; do rm base/dir1/f$i; i=$((i+1)); done
chmod 0600 base/setattr; chown 1234:5678 base/setattr; touch -d @1500000000 base/setattr
ln base/keep base/keep-link
ln -s ../base/keep new/sym
ln -s ${LONG_TARGET} new/longsym
truncate -s 1000 base/dir1/f0
seq 30001 31000 >> base/big.txt
setfattr -n user.note -v logged new/n1
`;

function applianceScript() {
  const S = ['set -eu', 'mkdir -p /sysroot/mnt /sysroot/out'];
  XFS_DIRTY.forEach((d, i) => {
    const dev = `/dev/sd${String.fromCharCode(97 + i)}`;
    const copy = `/dev/sd${String.fromCharCode(97 + XFS_DIRTY.length + i)}`;
    const M = `/sysroot/mnt/${d.name}`;
    const O = `/sysroot/out/${d.name}`;
    S.push(`
M=${M}; mkdir -p $M
mount -t xfs ${dev} $M || { blkid ${dev} || true; dmesg | tail -20; exit 1; }
( cd $M && ${BASE.trim().split('\n').join(' && ')} )
sync; xfs_freeze -f $M; xfs_freeze -u $M
( cd $M && ${LOGGED.trim().split('\n').join(' && ')} )
sync
xfs_io -x -c shutdown $M
umount $M
dd if=${dev} of=${copy} bs=1M status=none
mount -t xfs ${copy} $M || { dmesg | tail -20; exit 1; }
umount $M
mount -t xfs -o ro ${copy} $M
( cd $M && find . -printf '${ORACLE_FMT}' ) > ${O}.oracle.list
( cd $M && find . -type f -print0 | sort -z | xargs -0 -r sha256sum ) > ${O}.oracle.sha256
( cd $M && find . -print0 | xargs -0 getfattr -h -d -m - -e hex ) > ${O}.oracle.xattr 2>/dev/null || true
stat -f -c '%S %b %f %a %c %d %l' $M > ${O}.oracle.statvfs
umount $M`);
  });
  return S.join('\n') + '\n';
}

function logState(img) {
  const r = spawnSync('xfs_logprint', ['-t', img], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const m = /log tail: (\d+) head: (\d+) state: <(\w+)>/.exec(`${r.stdout}${r.stderr}`);
  return m ? { tail: Number(m[1]), head: Number(m[2]), state: m[3] } : { state: 'unknown' };
}

export default {
  name: 'xfs-dirty',
  inputs: [],
  tools: ['mkfs.xfs', 'xfs_logprint', 'guestfish'],
  async build({ out }) {
    const drives = [];
    for (const d of XFS_DIRTY) {
      const img = join(out, `${d.name}.img`);
      run('truncate', ['-s', `${SIZE_MIB}m`, img]);
      run('mkfs.xfs', ['-f', '-q', '-m', `uuid=${d.uuid}`, '-L', d.label, ...d.mkfs, img]);
      drives.push(img);
    }
    for (const d of XFS_DIRTY) {
      const copy = join(out, `${d.name}.copy.img`);
      run('truncate', ['-s', `${SIZE_MIB}m`, copy]);
      drives.push(copy);
    }
    const scratch = join(out, 'scratch.img');
    run('truncate', ['-s', '64m', scratch]);
    writeFileSync(join(out, 'run.sh'), applianceScript());
    log('xfs-dirty: one libguestfs launch (TCG: a minute or two)');
    const sdScratch = `/dev/sd${String.fromCharCode(97 + drives.length)}`;
    const script = `${drives.map((p) => `add-drive ${p} format:raw\n`).join('')}add-drive ${scratch} format:raw
run
mkfs ext4 ${sdScratch}
mount ${sdScratch} /
upload ${join(out, 'run.sh')} /run.sh
debug sh "sh -eu /sysroot/run.sh > /sysroot/run.log 2>&1; echo rc=$?"
download /run.log ${join(out, 'run.log')}
tar-out /out ${join(out, 'oracle.tar')}
`;
    const res = guestfish([], script, { timeout: 3600_000 });
    const runLog = readFileSync(join(out, 'run.log'), 'utf8');
    if (!/rc=0/.test(res)) throw new Error(`appliance script failed: ${res}\n${runLog.slice(-4000)}`);
    run('tar', ['-xf', join(out, 'oracle.tar'), '-C', out]);
    rmSync(join(out, 'oracle.tar'));
    rmSync(scratch);
    for (const d of XFS_DIRTY) {
      rmSync(join(out, `${d.name}.copy.img`));
      const st = logState(join(out, `${d.name}.img`));
      if (st.state !== 'DIRTY') throw new Error(`${d.name}: the log is ${st.state}, not DIRTY`);
      writeFileSync(join(out, `${d.name}.json`), JSON.stringify({ ...d, log: st, longTarget: LONG_TARGET }, null, 2) + '\n');
    }
  },
};

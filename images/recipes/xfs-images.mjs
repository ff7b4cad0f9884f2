// XFS images made by real tools from fixtures/xfs-tree.mjs:
//   xfs-v5.img   mkfs.xfs defaults (v5: CRCs, ftype, finobt, reflink, sparse inodes, bigtime)
//                plus nrext64, filled from a protofile (mkfs.xfs -p);
//   xfs-v4.img   the same tree on a v4 filesystem (-m crc=0) without ftype (-n ftype=0);
//   spinodes.img v5 whose free space is cut into 4-block pieces before files are created, so
//                that inodes live in sparse inode chunks;
//   dirty.img    v5 shut down (xfs_io -x shutdown) after writes: a log that needs recovery.
// One libguestfs appliance launch does, on all four, what a protofile cannot (hard links,
// xattrs, ACLs, sticky bits, names with blanks, fragmented / unwritten / sparse files, times)
// and records what the Linux kernel sees on a read-only mount (the oracle): `find -printf`
// listings, sha256 of files, getfattr dumps, statvfs. xfs_db then writes ctime and crtime from
// the manifest (the appliance cannot set them), so the images are deterministic.
// Next to each image: <name>.json (forms of the dirs/ directories as xfs_db shows them,
// statvfs, xfs_logprint's log state, sparse inode chunk count) and <name>.oracle.* files.

import { join } from 'node:path';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { run, guestfish, log } from '../lib.mjs';
import { XFS_TREE, writeXfsTree, xfsProtofile, xfsApplianceScript, manifestFor, fileContent } from '../fixtures/xfs-tree.mjs';

const MAIN = [
  { name: 'xfs-v5', variant: 'v5', mkfs: ['-i', 'nrext64=1'] },
  { name: 'xfs-v4', variant: 'v4', mkfs: ['-m', 'crc=0', '-n', 'ftype=0'] },
];

const ORACLE_FMT = '%i\\t%y\\t%#m\\t%U\\t%G\\t%s\\t%n\\t%A@\\t%T@\\t%b\\t%p\\t%l\\n';

/** Shell snippet (appliance): mount by UUID at M, run, remount read-only, write oracles. */
function oracleSnippet(name, uuid, withSha) {
  return `
M=/sysroot/mnt/${name}; O=/sysroot/out/${name}
mount -o ro UUID=${uuid} $M
( cd $M && find . -printf '${ORACLE_FMT}' ) > $O.oracle.list
( cd $M && find . \\( -type b -o -type c \\) -exec stat -c '%t %T %n' {} + ) > $O.oracle.rdev
${withSha ? `( cd $M && find . -type f -size +0 -not -path './big/*' -not -path './tree/*' -print0 | sort -z | xargs -0 -r sha256sum ) > $O.oracle.sha256
( cd $M && find . -path ./big -prune -o -path ./tree -prune -o -print0 | xargs -0 getfattr -h -d -m - -e hex ) > $O.oracle.xattr 2>/dev/null || true` : ''}
stat -f -c '%S %b %f %a %c %d %l' $M > $O.oracle.statvfs
umount $M
`;
}

export function applianceScript() {
  const [v5, v4] = MAIN;
  const S = ['set -eu', 'mkdir -p /sysroot/mnt /sysroot/out'];
  for (const m of MAIN) {
    const uuid = XFS_TREE[m.variant].uuid;
    // noatime: the find that stamps bulk entries must not move the atimes it has just set.
    S.push(`mkdir -p /sysroot/mnt/${m.name}`, `mount -o noatime UUID=${uuid} /sysroot/mnt/${m.name}`);
    S.push(`( cd /sysroot/mnt/${m.name} && sh -eu /sysroot/${m.name}.sh )`);
    S.push(`umount /sysroot/mnt/${m.name}`);
    S.push(oracleSnippet(m.name, uuid, true));
  }
  // Sparse inode chunks: empty the reserve pool, take all free space with preallocated files,
  // then punch 7 of every 8 blocks (AG offsets 8k+1 .. 8k+7): no free extent can hold a full
  // 8-block chunk (which needs 8 + alignment slack), every one can hold a 4-block sparse piece
  // (4 + 3 slack = 7), so the files created next get their inodes in sparse chunks. The image
  // has no finobt/reflink, whose per-AG reservations would keep unfragmented space free.
  const sp = XFS_TREE.spinodes.uuid;
  S.push(`
M=/sysroot/mnt/spinodes; mkdir -p $M; mount UUID=${sp} $M
xfs_io -x -c 'resblks 0' $M >/dev/null
i=0; for sz in 16m 1m 64k 4k; do while xfs_io -f -c "falloc 0 $sz" $M/filler$i 2>/dev/null; do i=$((i+1)); done; rm -f $M/filler$i; done
for f in $M/filler*; do
  xfs_bmap -v $f | gawk 'NR>2 && $6 != "" {
    split($2, f, /[\\[\\].:]+/); split($5, a, /[().]+/);
    fo = f[2]; a1 = a[2]; a2 = a[3];
    for (x = int((a1 + 63) / 64) * 64; x + 64 <= a2 + 1; x += 64) printf "fpunch %d %d\\n", (fo + x + 8 - a1) * 512, 56 * 512
  }' > /tmp/punch
  xfs_io $f < /tmp/punch 2>/dev/null
done
sync
mkdir $M/inodes
i=0; while [ $i -lt ${XFS_TREE.spinodeFiles} ]; do echo "file $i" > $M/inodes/f$i; i=$((i+1)); done
sync; umount $M
${oracleSnippet('spinodes', sp, false)}`);
  // A log that needs recovery: before/ is written back in place (a freeze checkpoints the log
  // and writes all metadata home), after/ only reaches the log (sync forces the log, not the
  // metadata), then a shutdown skips the unmount record. Without replay, before/ is there and
  // after/ is not.
  const dy = XFS_TREE.dirty.uuid;
  S.push(`
M=/sysroot/mnt/dirty; mkdir -p $M; mount UUID=${dy} $M
mkdir $M/before; echo before > $M/before/file
sync; xfs_freeze -f $M; xfs_freeze -u $M
mkdir $M/after; i=0; while [ $i -lt 50 ]; do echo "after $i" > $M/after/f$i; i=$((i+1)); done
sync
xfs_io -x -c shutdown $M
umount $M
`);
  return S.join('\n') + '\n';
}

/** Parse `find -printf ORACLE_FMT` output: path → record. */
export function parseOracleList(text) {
  const m = new Map();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split('\t');
    const p = f[10] === '.' ? '' : f[10].replace(/^\.\//, '');
    m.set(p, { ino: Number(f[0]), type: f[1], mode: parseInt(f[2], 8), uid: Number(f[3]), gid: Number(f[4]), size: Number(f[5]), nlink: Number(f[6]), atime: f[7], mtime: f[8], blocks: Number(f[9]), target: f[11] });
  }
  return m;
}

/**
 * find's %T@ → [sec, nsec]. GNU find prints tv_sec, a dot, then tv_nsec (10 digits): a time
 * of -2000000000 s + 999999999 ns is "-2000000000.9999999990", not a negative decimal.
 */
export function findTime(s) {
  const [i, f = ''] = s.split('.');
  return [Number(i), Number((f + '000000000').slice(0, 9))];
}

/** The kernel's view must be what the manifest asked for (else the recipe is wrong). */
function checkAgainstManifest(name, variant, oracle) {
  const problems = [];
  const typeChar = { dir: 'd', file: 'f', symlink: 'l', chardev: 'c', blockdev: 'b', fifo: 'p', hardlink: 'f' };
  for (const e of manifestFor(variant)) {
    const o = oracle.get(e.path);
    if (!o) { problems.push(`${e.path}: missing`); continue; }
    if (o.type !== typeChar[e.type]) problems.push(`${e.path}: type ${o.type}`);
    if (e.type === 'hardlink') continue;
    if (e.type !== 'symlink' && o.mode !== e.mode) problems.push(`${e.path}: mode ${o.mode.toString(8)} != ${e.mode.toString(8)}`);
    if (o.uid !== e.uid || o.gid !== e.gid) problems.push(`${e.path}: owner ${o.uid}:${o.gid}`);
    if (e.type === 'file' && o.size !== fileContent(e).length) problems.push(`${e.path}: size ${o.size}`);
    if (e.type === 'symlink' && o.target !== e.target) problems.push(`${e.path}: target ${o.target}`);
    if (findTime(o.mtime).join() !== e.times.mtime.join()) problems.push(`${e.path}: mtime ${o.mtime} != ${e.times.mtime}`);
    if (findTime(o.atime).join() !== e.times.atime.join()) problems.push(`${e.path}: atime ${o.atime} != ${e.times.atime}`);
  }
  if (problems.length) throw new Error(`${name}: the kernel's view differs from the manifest:\n${problems.slice(0, 30).join('\n')}`);
}

/**
 * Set ctime and crtime of every manifest inode with xfs_db (expert mode). xfs_db 6.1 writes a
 * timestamp's whole 64-bit field through its ".sec" name, as a signed 64-bit number: for
 * bigtime inodes the nanoseconds since the bigtime epoch (1901-12-13T20:45:52Z), for legacy
 * ones (v4) the signed 32-bit seconds in the high word and the nanoseconds in the low word.
 * The spot check below reads one back through xfs_db's own date formatting.
 */
function stampTimes(img, variant, oracle) {
  const v5 = variant === 'v5';
  const cmds = [];
  const seen = new Set();
  const raw = ([s, ns]) => v5
    ? BigInt.asIntN(64, (BigInt(s) + 2147483648n) * 1000000000n + BigInt(ns)).toString()
    : BigInt.asIntN(64, (BigInt.asUintN(32, BigInt(s)) << 32n) | BigInt(ns)).toString();
  for (const e of manifestFor(variant)) {
    if (e.type === 'hardlink') continue;
    const ino = oracle.get(e.path).ino;
    if (seen.has(ino)) continue;
    seen.add(ino);
    cmds.push(`inode ${ino}`, `write -- core.ctime.sec ${raw(e.times.ctime)}`);
    if (v5) cmds.push(`write -- v3.crtime.sec ${raw(e.times.crtime)}`);
  }
  run('xfs_db', ['-x', img], { input: cmds.join('\n') + '\n', maxBuffer: 1 << 30 });
  for (const path of ['times/before-1970', 'etc/hostname']) {
    const e = manifestFor(variant).find((x) => x.path === path);
    const out = run('xfs_db', ['-r', '-c', `inode ${oracle.get(path).ino}`, '-c', 'print core.ctime', img], { env: { ...process.env, TZ: 'UTC' } });
    const [sec, ns] = e.times.ctime;
    const want = `core.ctime.sec = ${ctimeString(sec)}\ncore.ctime.nsec = ${ns}`;
    if (!out.includes(want)) throw new Error(`${img}: xfs_db did not write ${path}'s ctime: ${out} (expected ${want})`);
  }
}

/** C ctime(3) format in UTC, as xfs_db prints timestamps: "Wed Dec 31 23:59:59 1969". */
function ctimeString(sec) {
  const d = new Date(sec * 1000);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p2 = (n) => String(n).padStart(2, '0');
  return `${day} ${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** Directory form of `path` as xfs_db sees it. */
function dirForm(img, path, blocksize) {
  const out = run('xfs_db', ['-r', '-c', `path /${path}`, '-c', 'print core.format', '-c', 'bmap', img]);
  const fmt = /core\.format = (\d+)/.exec(out)[1];
  if (fmt === '1') return 'shortform';
  if (fmt === '3') return 'btree';
  const offs = [...out.matchAll(/data offset (\d+) startblock \d+ \(\d+\/\d+\) count (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  const leafOff = 2 ** 35 / blocksize, freeOff = 2 ** 36 / blocksize;
  if (offs.some(([o]) => o >= freeOff)) return 'node';
  if (offs.some(([o]) => o >= leafOff)) return 'leaf';
  return 'block';
}

/** Count inode btree records with a non-zero holemask (sparse inode chunks) over all AGs. */
function sparseChunks(img) {
  const agcount = Number(/agcount = (\d+)/.exec(run('xfs_db', ['-r', '-c', 'sb 0', '-c', 'print agcount', img]))[1]);
  let n = 0;
  for (let ag = 0; ag < agcount; ag++) {
    const out = run('xfs_db', ['-r', '-c', `agi ${ag}`, '-c', 'addr root', '-c', 'print recs', img]);
    // Records print as N:[startino,holemask,count,freecount,free]; holemask may be hex.
    for (const m of out.matchAll(/\d+:\[(\d+),(0x[0-9a-f]+|\d+),(\d+),(\d+),/g)) if (Number(m[2]) !== 0) n++;
  }
  return n;
}

function logState(img) {
  // xfs_logprint may exit non-zero on a dirty log; its report is what counts.
  const r = spawnSync('xfs_logprint', ['-t', img], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const out = `${r.stdout}${r.stderr}`;
  const m = /log tail: (\d+) head: (\d+) state: <(\w+)>/.exec(out);
  return m ? { tail: Number(m[1]), head: Number(m[2]), state: m[3] } : { state: 'unknown', text: out };
}

export default {
  name: 'xfs-images',
  inputs: ['fixtures/xfs-tree.mjs'],
  tools: ['mkfs.xfs', 'xfs_db', 'xfs_repair', 'guestfish'],
  async build({ out }) {
    const tree = writeXfsTree(join(out, 'tree'));
    const size = `${XFS_TREE.sizeMiB}m`;
    for (const m of MAIN) {
      const proto = join(out, `${m.name}.proto`);
      writeFileSync(proto, xfsProtofile(m.variant, tree));
      const meta = XFS_TREE[m.variant];
      run('truncate', ['-s', size, join(out, `${m.name}.img`)]);
      run('mkfs.xfs', ['-f', '-q', '-m', `uuid=${meta.uuid}`, '-L', meta.label, ...m.mkfs, '-p', proto, join(out, `${m.name}.img`)]);
      writeFileSync(join(out, `${m.name}.sh`), xfsApplianceScript(m.variant));
    }
    for (const x of ['spinodes', 'dirty']) {
      const img = join(out, `${x}.img`);
      run('truncate', ['-s', size, img]);
      const extra = x === 'spinodes' ? ['-m', 'finobt=0,reflink=0,inobtcount=0'] : [];
      run('mkfs.xfs', ['-f', '-q', '-m', `uuid=${XFS_TREE[x].uuid}`, '-L', XFS_TREE[x].label, ...extra, img]);
    }
    // Scratch disk for the scripts and the oracle output (guestfish needs a mounted root to
    // upload and download).
    const scratch = join(out, 'scratch.img');
    run('truncate', ['-s', '256m', scratch]);
    writeFileSync(join(out, 'run.sh'), applianceScript());
    log('xfs-images: one libguestfs launch for all four images (TCG: a few minutes)');
    const drives = ['xfs-v5', 'xfs-v4', 'spinodes', 'dirty'].map((n) => `add-drive ${join(out, `${n}.img`)} format:raw\n`).join('');
    const script = `${drives}add-drive ${scratch} format:raw
run
mkfs ext4 /dev/sde
mount /dev/sde /
upload ${join(out, 'run.sh')} /run.sh
upload ${join(out, 'xfs-v5.sh')} /xfs-v5.sh
upload ${join(out, 'xfs-v4.sh')} /xfs-v4.sh
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

    for (const m of MAIN) {
      const img = join(out, `${m.name}.img`);
      const oracle = parseOracleList(readFileSync(join(out, `${m.name}.oracle.list`), 'utf8'));
      checkAgainstManifest(m.name, m.variant, oracle);
      stampTimes(img, m.variant, oracle);
      const blocksize = Number(/blocksize = (\d+)/.exec(run('xfs_db', ['-r', '-c', 'sb 0', '-c', 'print blocksize', img]))[1]);
      const forms = {};
      for (const d of ['dirs/empty', 'dirs/sf', 'dirs/block', 'dirs/leaf', 'dirs/node', 'big', 'tree']) forms[d] = dirForm(img, d, blocksize);
      const [bsize, blocks, bfree, bavail, files, ffree, namelen] = readFileSync(join(out, `${m.name}.oracle.statvfs`), 'utf8').trim().split(' ').map(Number);
      writeFileSync(join(out, `${m.name}.json`), JSON.stringify({
        variant: m.variant, ...XFS_TREE[m.variant], blocksize, dirForms: forms,
        statvfs: { bsize, blocks, bfree, bavail, files, ffree, namelen },
        log: logState(img),
      }, null, 2) + '\n');
    }
    for (const x of ['spinodes', 'dirty']) {
      const img = join(out, `${x}.img`);
      const info = { ...XFS_TREE[x], log: logState(img) };
      if (x === 'spinodes') {
        info.sparseChunks = sparseChunks(img);
        const [bsize, blocks, bfree, bavail, files, ffree, namelen] = readFileSync(join(out, `${x}.oracle.statvfs`), 'utf8').trim().split(' ').map(Number);
        info.statvfs = { bsize, blocks, bfree, bavail, files, ffree, namelen };
      }
      writeFileSync(join(out, `${x}.json`), JSON.stringify(info, null, 2) + '\n');
    }
    // xfs_repair -n: the finished images (after xfs_db's writes) are consistent.
    for (const n of ['xfs-v5', 'xfs-v4', 'spinodes']) run('xfs_repair', ['-n', join(out, `${n}.img`)]);
    for (const m of MAIN) rmSync(join(out, `${m.name}.sh`));
  },
};

// guest-linux: a raw MBR disk holding a Linux guest for the guest view and the read tools
// (cat, ls, df, tar-out, copy-out) and their libguestfs goldens:
//   sda1 ext2 /boot (LABEL=boot)   sda2 swap   sda3 ext4 / (/dev/sda3)   sda4 ext4 /srv (UUID=)
// Trees from fixtures/guest-tree.mjs via mke2fs -d; device nodes, fifos, xattrs, owners and
// times set with debugfs. Deterministic (fixed UUIDs, disk id, hash seeds and times).

import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { run, makePartitionedDisk } from '../lib.mjs';
import { stampExtImage } from '../fixtures/sample-tree.mjs';
import {
  GUEST, GUEST_OWNERS, GUEST_SPECIAL, GUEST_XATTRS, writeGuestRoot, writeGuestBoot, writeGuestSrv,
} from '../fixtures/guest-tree.mjs';

function mkext(type, img, tree, uuid, label, size, env, stampOpts) {
  run('mke2fs', ['-q', '-t', type, '-L', label, '-U', uuid, '-E', `root_owner=0:0,hash_seed=${GUEST.hashSeed}`, '-d', tree, img, size], { env });
  stampExtImage(img, tree, { time: GUEST.time, ...stampOpts });
}

export default {
  name: 'guest-linux',
  inputs: ['fixtures/guest-tree.mjs', 'fixtures/sample-tree.mjs'],
  tools: ['sfdisk', 'mke2fs', 'debugfs', 'mkswap'],
  async build({ out }) {
    const env = { ...process.env, E2FSPROGS_FAKE_TIME: String(GUEST.time), SOURCE_DATE_EPOCH: String(GUEST.time) };
    const trees = { root: join(out, 'tree-root'), boot: join(out, 'tree-boot'), srv: join(out, 'tree-srv') };
    writeGuestRoot(trees.root);
    writeGuestBoot(trees.boot);
    writeGuestSrv(trees.srv);
    const img = (n) => join(out, `${n}.img`);

    // Special files, xattrs and their owners/times, in the same debugfs run as the stamping.
    const extra = [];
    const t = `@${GUEST.time}`;
    for (const s of GUEST_SPECIAL) {
      const dir = s.path.split('/').slice(0, -1).join('/');
      const name = s.path.split('/').pop();
      extra.push(`cd /${dir}`);
      extra.push(s.type === 'p' ? `mknod ${name} p` : `mknod ${name} ${s.type} ${s.major} ${s.minor}`);
      extra.push('cd /');
      const type = { p: 0o010000, c: 0o020000, b: 0o060000 }[s.type];
      extra.push(`sif /${s.path} mode 0${(type | s.mode).toString(8)}`);
      const [uid, gid] = s.owner ?? [0, 0];
      extra.push(`sif /${s.path} uid ${uid}`, `sif /${s.path} gid ${gid}`);
      for (const f of ['atime', 'mtime', 'ctime', 'crtime']) extra.push(`sif /${s.path} ${f} ${t}`);
    }
    for (const [p, attrs] of Object.entries(GUEST_XATTRS)) {
      for (const [k, v] of Object.entries(attrs)) extra.push(`ea_set /${p} ${k} "${v}"`);
      extra.push(`sif /${p} ctime ${t}`); // ea_set stamps the real time
    }
    // Directories whose entries changed get their times back.
    for (const d of new Set(GUEST_SPECIAL.map((s) => s.path.split('/').slice(0, -1).join('/')))) {
      for (const f of ['atime', 'mtime', 'ctime']) extra.push(`sif /${d} ${f} ${t}`);
    }
    mkext('ext4', img('root'), trees.root, GUEST.rootUuid, 'root', '64M', env, { owners: GUEST_OWNERS, extra });
    mkext('ext2', img('boot'), trees.boot, GUEST.bootUuid, 'boot', '16M', env, {});
    mkext('ext4', img('srv'), trees.srv, GUEST.srvUuid, 'srv', '16M', env, {});
    run('truncate', ['-s', '8M', img('swap')]);
    run('mkswap', ['-q', '-U', GUEST.swapUuid, '-L', 'swap', img('swap')]);

    const raw = join(out, 'guest-linux.raw');
    makePartitionedDisk(raw, {
      label: 'dos',
      sizeMiB: 110,
      extra: `label-id: ${GUEST.diskId}`,
      parts: [
        { sizeMiB: 16, type: '83', image: img('boot'), bootable: true },
        { sizeMiB: 8, type: '82', image: img('swap') },
        { sizeMiB: 64, type: '83', image: img('root') },
        { type: '83', image: img('srv') },
      ],
    });
    for (const n of ['root', 'boot', 'srv', 'swap']) rmSync(img(n));
  },
};

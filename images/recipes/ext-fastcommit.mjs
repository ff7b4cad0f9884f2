// An ext4 with fast_commit whose journal needs recovery and holds fast commits, written by
// the Linux kernel of the libguestfs appliance, and the kernel's own view of it after
// recovery (the oracle: e2fsprogs 1.47.0's fast-commit replay fails on these images, see
// below).
//   1. mke2fs -O fast_commit from a small tree (keep/, fc/);
//   2. appliance: mount with commit=600 (no periodic full commit), then file operations each
//      followed by an fsync (sync FILE) so that each becomes a fast commit: a new file, an
//      append, a hard link, an unlink, a truncate (DEL_RANGE), an in-place write, a new
//      directory and a file created in a new directory, then the removal of a file the log
//      changed before and of one of two hard links; then an immediate reboot
//      (sysrq b: no sync, no unmount) ends the appliance: crash.img;
//   3. a second appliance mounts a copy (the kernel replays the journal and the fast commits)
//      and lists every file: kernel.txt ("./path mode:uid:size:nlink:blocks sha256-or-dash",
//      the mode in hex as stat %f prints it, blocks in 512-byte units, sorted), and takes
//      statvfs: kernel-statfs.json (bsize, blocks, bfree, bavail, files, ffree).
// The recipe fails if the kernel did not leave fast-commit records of every kind in the log.
// fsck.log: what `e2fsck -fy` made of a copy. e2fsprogs 1.47.0 cannot be the oracle: its
// fast-commit replay stops with 'Error "No free space in the directory" encountered in
// function ext4_fc_handle_link_and_create' (a file created in a directory the same fast
// commits created) and "Superblock checksum does not match superblock while trying to
// re-open", exit 12, leaving the replay unfinished.

import { join } from 'node:path';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { run, guestfsEnv } from '../lib.mjs';
import { EXT_FAKE_TIME } from './ext-ext4.mjs';

/** The operations, run by the appliance's shell in the mounted filesystem. */
const OPS = [
  'yes fastcommit | head -c 50000 > fc/new.bin', 'sync fc/new.bin',
  'echo appended >> keep/append.txt', 'sync keep/append.txt',
  'ln keep/linked.txt fc/hardlink.txt', 'sync fc/hardlink.txt',
  'rm keep/gone.txt', 'sync keep/f1.txt',
  'truncate -s 4096 keep/shrink.bin', 'sync keep/shrink.bin',
  'printf XXXX | dd of=keep/poke.bin bs=1 seek=100 conv=notrunc,fsync status=none',
  'mkdir fc/emptydir', 'echo new > keep/f41.txt', 'sync keep/f41.txt',
  'mkdir fc/subdir', 'echo inner > fc/subdir/inner.txt', 'sync fc/subdir/inner.txt',
  'rm keep/poke.bin fc/hardlink.txt', 'sync keep/f2.txt',
];

/** Fast-commit tags (as debugfs logdump names them) the crash image must hold. */
const WANT_TAGS = ['HEAD', 'INODE', 'ADD_RANGE', 'DEL_RANGE', 'CREAT_DENTRY', 'ADD_ENTRY', 'DEL_ENTRY', 'TAIL'];

const sq = (s) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

function guestfishScript(lines) {
  return spawnSync('guestfish', [], { input: lines.join('\n') + '\n', env: guestfsEnv(), encoding: 'utf8', maxBuffer: 1 << 26 });
}

export default {
  name: 'ext-fastcommit',
  inputs: ['recipes/ext-ext4.mjs', 'lib.mjs'],
  tools: ['mke2fs', 'e2fsck', 'debugfs', 'dumpe2fs', 'guestfish'],
  async build({ out }) {
    const tree = join(out, 'tree');
    mkdirSync(join(tree, 'keep'), { recursive: true });
    mkdirSync(join(tree, 'fc'), { recursive: true });
    writeFileSync(join(tree, 'keep', 'append.txt'), 'kept line\n'.repeat(2000));
    writeFileSync(join(tree, 'keep', 'shrink.bin'), 'shrink\n'.repeat(5852).slice(0, 40960));
    writeFileSync(join(tree, 'keep', 'linked.txt'), 'linked\n');
    writeFileSync(join(tree, 'keep', 'gone.txt'), 'to be removed\n');
    writeFileSync(join(tree, 'keep', 'poke.bin'), 'poke\n'.repeat(3277).slice(0, 16384));
    for (let i = 1; i <= 40; i++) writeFileSync(join(tree, 'keep', `f${i}.txt`), `file ${i}\n`);
    const base = join(out, 'base.img');
    run('mke2fs', [
      '-q', '-F', '-t', 'ext4', '-b', '4096', '-O', 'fast_commit',
      '-E', 'hash_seed=e4e4e4e4-fc00-4000-8000-0000000000b0',
      '-U', 'e4e4e4e4-fc00-4000-8000-000000000010', '-L', 'fastcommit', '-d', tree, base, '32M',
    ], { env: { ...process.env, E2FSPROGS_FAKE_TIME: String(EXT_FAKE_TIME) } });

    // 2. The crash. guestfish fails when the appliance goes away: expected.
    const crash = join(out, 'crash.img');
    copyFileSync(base, crash);
    const fish = guestfishScript([
      `add-drive ${crash} format:raw`, 'run', 'mount-options commit=600 /dev/sda /',
      `debug sh "set -e; cd /sysroot; ${sq(OPS.join('; '))}; echo b > /proc/sysrq-trigger"`,
    ]);
    const dump = run('dumpe2fs', ['-h', crash]);
    if (!/needs_recovery/.test(dump)) {
      throw new Error(`${crash}: needs_recovery is not set: the appliance was not killed before unmounting\n${fish.stdout}${fish.stderr}`);
    }
    const log = run('debugfs', ['-R', 'logdump', crash]);
    writeFileSync(join(out, 'logdump.txt'), log);
    const fcPart = log.split('*** Fast Commit Area ***')[1] ?? '';
    const missing = WANT_TAGS.filter((t) => !new RegExp(`tag ${t}\\b`).test(fcPart));
    if (missing.length) throw new Error(`${crash}: the kernel wrote no fast-commit ${missing.join(', ')} records (see logdump.txt)`);

    // 3. The kernel's view after its own recovery, on a copy.
    const kernelImg = join(out, 'kernel.img');
    copyFileSync(crash, kernelImg);
    const list = guestfishScript([
      `add-drive ${kernelImg} format:raw`, 'run',
      // The kernel's name for the disk is not always sda (the appliance's own disk may come first).
      'debug sh "mkdir -p /tmp/k; mount $(blkid -U e4e4e4e4-fc00-4000-8000-000000000010) /tmp/k; cd /tmp/k; find . -mindepth 1 | sort | while read -r p; do ' +
        's=$(stat -c %f:%u:%s:%h:%b \\"$p\\"); ' +
        'if [ -f \\"$p\\" ]; then echo \\"$p $s $(sha256sum < \\"$p\\" | cut -c1-64)\\"; else echo \\"$p $s -\\"; fi; done; ' +
        'stat -f -c \\"statfs %S %b %f %a %c %d\\" /tmp/k; cd /; umount /tmp/k"',
    ]);
    if (list.status !== 0 || !/^\.\/keep\//m.test(list.stdout)) throw new Error(`kernel listing of ${kernelImg} failed: ${list.stderr}`);
    writeFileSync(join(out, 'kernel.txt'), list.stdout.split('\n').filter((l) => l.startsWith('./')).join('\n') + '\n');
    // statvfs(2) of the recovered filesystem, as the kernel counts it (what df and virt-df show).
    const m = /^statfs (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$/m.exec(list.stdout);
    if (!m) throw new Error(`no statfs line from the appliance:\n${list.stdout}`);
    const [bsize, blocks, bfree, bavail, files, ffree] = m.slice(1).map(Number);
    writeFileSync(join(out, 'kernel-statfs.json'), JSON.stringify({ bsize, blocks, bfree, bavail, files, ffree }) + '\n');

    const fsck = join(out, 'fsck.img');
    copyFileSync(crash, fsck);
    const r = spawnSync('e2fsck', ['-fy', fsck], { encoding: 'utf8' });
    writeFileSync(join(out, 'fsck.log'), `exit ${r.status}\n${r.stdout}${r.stderr}`);
  },
};

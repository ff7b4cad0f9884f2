// Linux's own vfat, in libguestfs's appliance (one launch):
// 1. what it shows for the fat-images filesystems: every file's stat (mode, owner, size,
//    nlink, blocks, atime/mtime/ctime/btime with nanoseconds), statvfs, and blkid's
//    type/label/UUID → oracle.json; the FAT tests compare guestkit's stat()/statfs() with it;
// 2. linux.img: a FAT16 made by mkfs.fat and written by the kernel's vfat driver from
//    linuxTreeFiles() (names outside the BMP, which mtools cannot store), with its stat oracle.
//    The kernel stamps creation and access times with the build time: those are compared with
//    the oracle only, and linux.img is not for goldens.

import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { guestfish, run } from '../lib.mjs';
import { FAT_VARIANTS } from './fat-images.mjs';
import { writeFiles, linuxTreeFiles } from '../fixtures/fat-tree.mjs';

export const LINUX_FAT = { serial: '4C494E58', uuid: '4C49-4E58', label: 'LINUXVFAT' };

// stat --format ends each record with a newline. No quoting survives guestfish's debug sh, so
// the format has no shell metacharacters: ':'-separated, the name last (no name has a ':').
const STAT_FORMAT = '%f:%u:%g:%s:%h:%b:%B:%o:%.9X:%.9Y:%.9Z:%.9W:%n';

const q = (s) => `"${s.replace(/(["\\])/g, '\\$1')}"`;

export default {
  name: 'fat-linux',
  deps: ['fat-images'],
  inputs: ['fixtures/fat-tree.mjs', 'recipes/fat-images.mjs'],
  tools: ['guestfish'],
  async build({ out, dep }) {
    const tree = writeFiles(join(out, 'linux-tree'), linuxTreeFiles());
    const linuxImg = join(out, 'linux.img');
    run('truncate', ['-s', '16M', linuxImg]);

    const lines = FAT_VARIANTS.map((v) => `add ${join(dep('fat-images'), `${v.name}.img`)} readonly:true format:raw`);
    lines.push(`add ${linuxImg} format:raw`, 'run');
    const oracle = (name, dev) => {
      lines.push(`echo ==== ${name}`);
      lines.push('echo -- blkid', `vfs-type ${dev}`, `vfs-label ${dev}`, `vfs-uuid ${dev}`);
      lines.push(`mount-ro ${dev} /`);
      lines.push('echo -- statvfs', 'statvfs /');
      lines.push('echo -- stat');
      lines.push(`debug sh "cd /sysroot && find . -exec stat --format=${STAT_FORMAT} {} +"`);
      lines.push('umount /');
    };
    FAT_VARIANTS.forEach((v, i) => oracle(v.name, `/dev/sd${String.fromCharCode(97 + i)}`));

    // linux.img: the kernel writes the files; then remounted read-only for its oracle, so that
    // what is compared is what reached the disk.
    const dev = '/dev/sdd';
    lines.push(`debug sh "mkfs.fat --invariant -i ${LINUX_FAT.serial} -n ${LINUX_FAT.label} ${dev} >/dev/null"`);
    lines.push(`mount ${dev} /`);
    const dirs = new Set();
    for (const f of linuxTreeFiles()) {
      const parts = f.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (!dirs.has(d)) lines.push(`mkdir ${q('/' + d)}`);
        dirs.add(d);
      }
      lines.push(`upload ${q(join(tree, f.path))} ${q('/' + f.path)}`);
      lines.push(`utimens ${q('/' + f.path)} ${f.mtime} 0 ${f.mtime} 0`);
    }
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
      const t = Date.parse('2020-02-02T02:02:02Z') / 1000;
      lines.push(`utimens ${q('/' + d)} ${t} 0 ${t} 0`);
    }
    lines.push('umount /');
    oracle('linux', dev);

    const text = guestfish([], lines.join('\n') + '\n');
    writeFileSync(join(out, 'guestfish.txt'), text);
    writeFileSync(join(out, 'oracle.json'), JSON.stringify(parse(text), null, 1) + '\n');
  },
};

function ts(s) {
  const [sec, nsec = '0'] = s.split('.');
  return { sec: Number(sec), nsec: Number(nsec) };
}

function parse(text) {
  const out = {};
  let cur;
  let section;
  for (const line of text.split('\n')) {
    let m;
    if ((m = /^==== (\S+)$/.exec(line))) {
      cur = out[m[1]] = { blkid: [], statvfs: {}, files: {} };
      continue;
    }
    if ((m = /^-- (\S+)$/.exec(line))) {
      section = m[1];
      continue;
    }
    if (!cur || !line) continue;
    if (section === 'blkid') cur.blkid.push(line);
    else if (section === 'statvfs') {
      const kv = /^(\w+): (-?\d+)$/.exec(line);
      if (kv) cur.statvfs[kv[1]] = Number(kv[2]);
    } else if (section === 'stat') {
      const f = line.split(':');
      if (f.length < 13) continue;
      const name = f.slice(12).join(':');
      const path = name === '.' ? '/' : name.replace(/^\.\//, '/');
      cur.files[path] = {
        mode: parseInt(f[0], 16), uid: Number(f[1]), gid: Number(f[2]), size: Number(f[3]),
        nlink: Number(f[4]), blocks: Number(f[5]), blockUnit: Number(f[6]), blksize: Number(f[7]),
        atime: ts(f[8]), mtime: ts(f[9]), ctime: ts(f[10]), crtime: ts(f[11]),
      };
    }
  }
  for (const v of Object.values(out)) {
    const [type, label, uuid] = v.blkid;
    Object.assign(v, { type, label, uuid });
    delete v.blkid;
  }
  return out;
}

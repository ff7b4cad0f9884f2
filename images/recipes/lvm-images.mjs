// LVM2 images built inside libguestfs's appliance (the host kernel has no device-mapper), in
// one guestfish launch:
//   lvm-a.raw, lvm-b.raw: GPT disks, one partition each, PVs /dev/sda1 and /dev/sdb1 (sdb1
//     with two metadata areas), VG vg0 across both: striped (2 stripes of 64 KiB), small (on
//     sda1 only), linear (spanning both PVs), mirror (raid1), oldmirror (mirror, core log),
//     pool (thin pool) + thin, snap (snapshot of small);
//   lvm-c.raw: a whole-disk PV (no partition table) with a small metadata area (32 KiB asked,
//     the minimum; LVM extends it to the 64 KiB data alignment), VG vg1 with
//     LV data, whose metadata has gone round its circular buffer (40 VG changes adding long
//     tags: the text grows by ~110 bytes a change; LVM 2.03 restarts at the start of the
//     buffer rather than writing a copy across its end, so the wrapped case is made in the test).
// ext4 on striped, small, linear, mirror and vg1/data, filled with tar-in from the tree below.
// PV UUIDs are fixed (pvcreate -u); VG/LV UUIDs and creation times cannot be, so the oracle
// lvm.json records what LVM reports: pvs-full, vgs-full, lvs-full, lvs, the UUIDs, `lvm lvs -a`
// with segment types and devices, pvs with metadata area sizes, and the sha256 of every
// readable LV as `checksum-device` computes it in the appliance.

import { join } from 'node:path';
import { writeFileSync, symlinkSync, utimesSync, lutimesSync } from 'node:fs';
import { guestfish, run } from '../lib.mjs';
import { writeFiles } from '../fixtures/fat-tree.mjs';

export const LVM = {
  pvA: 'AAAAAA-aaaa-1111-2222-3333-4444-aaaaaa',
  pvB: 'BBBBBB-bbbb-1111-2222-3333-4444-bbbbbb',
  pvC: 'CCCCCC-cccc-1111-2222-3333-4444-cccccc',
  /** LVs whose contents are checksummed (readable ones). */
  readable: ['/dev/vg0/striped', '/dev/vg0/small', '/dev/vg0/linear', '/dev/vg0/mirror', '/dev/vg0/oldmirror', '/dev/vg1/data'],
  /** LVs with ext4 and the tree in them. */
  withTree: ['/dev/vg0/striped', '/dev/vg0/small', '/dev/vg0/linear', '/dev/vg0/mirror', '/dev/vg1/data'],
  /** VG changes made on vg1 so that its metadata wraps around the 16 KiB buffer. */
  vg1Changes: 40,
};

const T = (iso) => Date.parse(iso) / 1000;

/** The tree put into each LV's ext4. */
export function lvmTreeFiles() {
  return [
    { path: 'hello.txt', text: 'hello from a logical volume\n', mtime: T('2021-03-04T05:06:07Z') },
    { path: 'etc/fstab', text: '/dev/vg0/striped / ext4 defaults 0 1\n', mtime: T('2021-03-04T05:06:08Z') },
    { path: 'data/random-300k.bin', size: 300_000, mtime: T('2021-03-04T05:06:09Z') },
    { path: 'data/random-1m.bin', size: 1_048_576, mtime: T('2021-03-04T05:06:10Z') },
    { path: 'data/small.bin', size: 777, mtime: T('2021-03-04T05:06:11Z') },
    { path: 'deep/a/b/c/leaf.txt', text: 'leaf\n', mtime: T('2021-03-04T05:06:12Z') },
  ];
}

function writeLvmTree(dir) {
  writeFiles(dir, lvmTreeFiles());
  symlinkSync('../hello.txt', join(dir, 'etc', 'hello-link'));
  lutimesSync(join(dir, 'etc', 'hello-link'), T('2021-03-04T05:06:13Z'), T('2021-03-04T05:06:13Z'));
  utimesSync(join(dir, 'etc'), T('2021-03-04T05:06:14Z'), T('2021-03-04T05:06:14Z'));
  return dir;
}

export default {
  name: 'lvm-images',
  inputs: ['fixtures/fat-tree.mjs'],
  tools: ['guestfish', 'tar'],
  async build({ out }) {
    const tree = writeLvmTree(join(out, 'tree'));
    const tar = join(out, 'tree.tar');
    run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu', '-cf', tar, '-C', tree, '.']);
    const a = join(out, 'lvm-a.raw');
    const b = join(out, 'lvm-b.raw');
    const c = join(out, 'lvm-c.raw');
    run('truncate', ['-s', '64M', a, b]);
    run('truncate', ['-s', '32M', c]);

    const L = [];
    const sh = (cmd) => L.push(`debug sh "${cmd} 2>&1"`);
    L.push(`add ${a} format:raw`, `add ${b} format:raw`, `add ${c} format:raw`, 'run');
    L.push('part-disk /dev/sda gpt', 'part-disk /dev/sdb gpt');
    sh(`lvm pvcreate -y --norestorefile -u ${LVM.pvA} /dev/sda1`);
    sh(`lvm pvcreate -y --norestorefile -u ${LVM.pvB} --pvmetadatacopies 2 /dev/sdb1`);
    sh(`lvm pvcreate -y --norestorefile -u ${LVM.pvC} --metadatasize 32k --dataalignment 64k /dev/sdc`);
    sh('lvm vgcreate vg0 /dev/sda1 /dev/sdb1');
    sh('lvm vgcreate vg1 /dev/sdc');
    sh('lvm lvcreate -y -i 2 -I 64k -L 16M -n striped vg0 /dev/sda1 /dev/sdb1');
    sh('lvm lvcreate -y -l 1 -n small vg0 /dev/sda1');
    sh('lvm lvcreate -y -l 6 -n linear vg0 /dev/sda1:3-5 /dev/sdb1:2-4');
    sh('lvm lvcreate -y --type raid1 -m 1 -l 1 -n mirror vg0 /dev/sda1 /dev/sdb1');
    sh('lvm lvcreate -y --type mirror -m 1 --mirrorlog core -l 1 -n oldmirror vg0 /dev/sda1 /dev/sdb1');
    sh('lvm lvcreate -y --type thin-pool -l 1 -n pool vg0');
    sh('lvm lvcreate -y -V 8M --thin -n thin vg0/pool');
    sh('lvm lvcreate -y -s -l 1 -n snap vg0/small');
    sh('lvm lvcreate -y -l 100%FREE -n data vg1');
    for (let i = 1; i <= LVM.vg1Changes; i++) sh(`lvm vgchange --addtag change${i}_${'x'.repeat(100)} vg1 >/dev/null`);
    sh('lvm vgchange -ay');
    for (const [i, lv] of LVM.withTree.entries()) {
      sh(`mkfs.ext4 -q -F -U 6c766d00-0000-4000-8000-00000000000${i} -L lv${i} ${lv}`);
      L.push(`mount ${lv} /`, `tar-in ${tar} /`, 'umount /');
    }
    L.push('sync');

    // The oracle.
    const sect = (name) => L.push(`echo ==== ${name}`);
    sect('pvs-full'); L.push('pvs-full');
    sect('vgs-full'); L.push('vgs-full');
    sect('lvs-full'); L.push('lvs-full');
    sect('lvs'); L.push('lvs');
    sect('lvm-lvs');
    sh('lvm lvs -a --noheadings --units b --nosuffix --separator , -o vg_name,lv_name,lv_uuid,lv_size,segtype,lv_attr,devices');
    sect('lvm-pvs');
    sh('lvm pvs --noheadings --units b --nosuffix --separator , -o pv_name,pv_uuid,vg_name,pv_mda_count,pv_mda_size,pe_start,pv_pe_count');
    sect('checksums');
    for (const lv of LVM.readable) L.push(`echo ${lv}`, `checksum-device sha256 ${lv}`);
    sect('end');

    const text = guestfish([], L.join('\n') + '\n');
    writeFileSync(join(out, 'guestfish.txt'), text);
    writeFileSync(join(out, 'lvm.json'), JSON.stringify(parse(text), null, 1) + '\n');
  },
};

/** guestfish prints structs as "[N] = {" / "  key: value" / "}". */
function structs(lines) {
  const out = [];
  let cur;
  for (const l of lines) {
    if (/^\[\d+\] = \{$/.test(l)) out.push((cur = {}));
    else if (cur && /^\s+\w+: /.test(l)) {
      const m = /^\s+(\w+): (.*)$/.exec(l);
      cur[m[1]] = /^-?\d+$/.test(m[2]) ? Number(m[2]) : m[2];
    }
  }
  return out;
}

function csv(lines) {
  return lines.map((l) => l.trim()).filter(Boolean).map((l) => l.split(','));
}

export function parse(text) {
  const sections = {};
  let cur = null;
  for (const line of text.split('\n')) {
    const m = /^==== (\S+)$/.exec(line);
    if (m) sections[(cur = m[1])] = [];
    else if (cur) sections[cur].push(line);
  }
  const checksums = {};
  const ck = sections.checksums.filter(Boolean);
  for (let i = 0; i + 1 < ck.length; i += 2) checksums[ck[i]] = ck[i + 1];
  return {
    pvsFull: structs(sections['pvs-full']),
    vgsFull: structs(sections['vgs-full']),
    lvsFull: structs(sections['lvs-full']),
    lvs: sections.lvs.filter(Boolean),
    lvmLvs: csv(sections['lvm-lvs']).map(([vg, lv, uuid, size, segtype, attr, ...devices]) => ({ vg, lv, uuid, size: Number(size), segtype, attr, devices: devices.join(',') })),
    lvmPvs: csv(sections['lvm-pvs']).map(([name, uuid, vg, mdaCount, mdaSize, peStart, peCount]) => ({
      name, uuid, vg, mdaCount: Number(mdaCount), mdaSize: Number(mdaSize), peStart: Number(peStart), peCount: Number(peCount),
    })),
    checksums,
  };
}

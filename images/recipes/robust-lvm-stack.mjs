// robust-lvm-stack: logical volumes stacked on logical volumes, as LVM itself records them, for
// the lvmMaxLvDepth test (test/robustness/limits.test.ts). Built inside libguestfs's appliance
// (the host kernel has no device-mapper), in one guestfish launch:
//   three whole-disk PVs (fixed UUIDs), VG vgm: `lin` (linear, on sda), `r` (raid1: rmeta and
//   rimage on sda and sdb), `m` (mirror, core log: mimage on sda and sdb), each filled with
//   4 MiB of random bytes; then `pvmove --background /dev/sda /dev/sdc` and, while it runs (a
//   poll interval of an hour), a copy of the three disks: pvmove-a.raw, pvmove-b.raw,
//   pvmove-c.raw. In that state LVM's metadata has lin on pvmove0 (a striped segment whose
//   stripe is an LV), r_rimage_0/r_rmeta_0 and m_mimage_0 on pvmove0, and pvmove0 a mirror
//   whose legs are PV areas (sda: the source, sdc: the destination): r → r_rimage_0 → pvmove0
//   and m → m_mimage_0 → pvmove0 are stacks two deep, lin → pvmove0 one deep.
// The oracle stack.json: `lvm lvs -a` (segment types and devices) and the metadata as
// vgcfgbackup writes it, both taken in that state, and the sha256 of each LV as
// checksum-device computes it in the appliance before the move.
// (LVM 2.03 does not insert the temporary "mimagetmp" layer when a mirror gets more legs, so
// pvmove is the way its tools stack LVs more than one deep without thin or cache pools.)

import { join } from 'node:path';
import { writeFileSync, rmSync } from 'node:fs';
import { guestfish, run } from '../lib.mjs';

export const LVM_STACK = {
  pvs: ['5TACKa-aaaa-1111-2222-3333-4444-aaaaaa', '5TACKb-bbbb-1111-2222-3333-4444-bbbbbb', '5TACKc-cccc-1111-2222-3333-4444-cccccc'],
  disks: ['pvmove-a.raw', 'pvmove-b.raw', 'pvmove-c.raw'],
  /** LV → how many LVs lie below it in its deepest chain, in the copied state. */
  depth: { lin: 1, r: 2, m: 2 },
};

export default {
  name: 'robust-lvm-stack',
  tools: ['guestfish'],
  async build({ out }) {
    const live = ['live-a.raw', 'live-b.raw', 'live-c.raw'].map((f) => join(out, f));
    const copies = LVM_STACK.disks.map((f) => join(out, f));
    run('truncate', ['-s', '32M', ...live, ...copies]);
    // Only the live disks are LVM's: the copies would be duplicate PVs.
    const F = '--config "devices{global_filter=[\\"a|^/dev/sd[a-c]$|\\",\\"r|.*|\\"]}"';
    const L = [];
    const sh = (cmd) => L.push(`debug sh '${cmd} 2>&1'`);
    for (const d of [...live, ...copies]) L.push(`add ${d} format:raw`);
    L.push('run');
    sh(`lvm pvcreate ${F} -y --norestorefile -u ${LVM_STACK.pvs[0]} /dev/sda`);
    sh(`lvm pvcreate ${F} -y --norestorefile -u ${LVM_STACK.pvs[1]} /dev/sdb`);
    sh(`lvm pvcreate ${F} -y --norestorefile -u ${LVM_STACK.pvs[2]} /dev/sdc`);
    sh(`lvm vgcreate ${F} vgm /dev/sda /dev/sdb /dev/sdc`);
    sh(`lvm lvcreate ${F} -y -l 1 -n lin vgm /dev/sda`);
    sh(`lvm lvcreate ${F} -y --type raid1 -m 1 -l 1 -n r vgm /dev/sda /dev/sdb`);
    sh(`lvm lvcreate ${F} -y --type mirror -m 1 --mirrorlog core -l 1 -n m vgm /dev/sda /dev/sdb`);
    sh('for l in lin r m; do dd if=/dev/urandom of=/dev/vgm/$l bs=1M count=4 status=none; done; sync');
    // raid1 and mirror finish their initial sync before the move.
    sh(`for i in $(seq 60); do lvm lvs ${F} --noheadings -o copy_percent vgm/r vgm/m | grep -qv 100.00 || break; sleep 1; done`);
    L.push('echo ==== checksums');
    for (const lv of ['lin', 'r', 'm']) L.push(`echo ${lv}`, `checksum-device sha256 /dev/vgm/${lv}`);
    sh(`lvm pvmove ${F} --background -i 3600 /dev/sda /dev/sdc >/dev/null`);
    sh('dd if=/dev/sda of=/dev/sdd bs=1M status=none; dd if=/dev/sdb of=/dev/sde bs=1M status=none; dd if=/dev/sdc of=/dev/sdf bs=1M status=none; sync');
    L.push('echo ==== lvs');
    sh(`lvm lvs ${F} -a --noheadings --separator , -o lv_name,segtype,devices vgm`);
    L.push('echo ==== metadata');
    sh(`lvm vgcfgbackup ${F} -f /tmp/vgm.txt vgm >/dev/null; cat /tmp/vgm.txt`);
    L.push('echo ==== end');
    const text = guestfish([], L.join('\n') + '\n');
    writeFileSync(join(out, 'guestfish.txt'), text);
    rmSync(live[0]);
    rmSync(live[1]);
    rmSync(live[2]);

    // [before, name1, body1, name2, body2, ...]
    const parts = text.split(/^==== (\S+)\n/m);
    const sections = {};
    for (let i = 1; i + 1 < parts.length; i += 2) sections[parts[i]] = parts[i + 1].split('\n');
    const ck = sections.checksums.filter(Boolean);
    const checksums = {};
    for (let i = 0; i + 1 < ck.length; i += 2) checksums[ck[i]] = ck[i + 1];
    const lvs = sections.lvs.map((l) => l.trim()).filter(Boolean).map((l) => {
      const [name, segtype, ...devices] = l.split(',');
      return { name, segtype, devices: devices.join(',') };
    });
    const metadata = sections.metadata.join('\n');
    if (!/"pvmove0", \d/.test(metadata) || !/PVMOVE/.test(metadata)) throw new Error('the copy was not taken while pvmove ran:\n' + text);
    writeFileSync(join(out, 'stack.json'), JSON.stringify({ checksums, lvs, metadata }, null, 1) + '\n');
  },
};

// Content the probes must recognise beyond part-tables' filesystems, each made by its own tool
// and laid into one GPT disk (part-probes.raw):
//   1 LUKS1 (cryptsetup luksFormat --type luks1)     2 LUKS2 with a label
//   3 LVM2 PV (pvcreate, see below)                  4 ISO 9660 + Joliet (genisoimage -J)
//   5 ISO 9660 without Joliet                        6 squashfs 4.0 (mksquashfs)
//   7 btrfs (mkfs.btrfs)                             8 FAT12 (mkfs.fat -F 12)
//   9 ext4 without a journal                        10 external ext journal (mke2fs -O journal_dev)
//  11 exFAT with no label                           12 swap v1 with no label
// Also whole disks without a partition table, a filesystem on the whole device:
//   whole-fat.raw (FAT16, so 0x55AA in sector 0 and still no MBR), whole-ext4.raw.
// pvcreate needs a block device: the PV is written through a loop device (losetup) when the
// machine has one; otherwise partition 3 stays empty and ids.json says "pv": null.

import { join } from 'node:path';
import { mkdirSync, writeFileSync, rmSync, utimesSync } from 'node:fs';
import { run, log } from '../lib.mjs';
import { partitionDisk } from './part-tables.mjs';

const TIME = 1700000000;
const env = { ...process.env, E2FSPROGS_FAKE_TIME: String(TIME), SOURCE_DATE_EPOCH: String(TIME), TZ: 'UTC', LC_ALL: 'C' };
const LINUX = '0FC63DAF-8483-4772-8D69-3D69D8BB2D56';

export const PROBES = {
  luks1: { uuid: '1c1c1c1c-0000-4000-8000-000000000001' },
  luks2: { uuid: '2c2c2c2c-0000-4000-8000-000000000002', label: 'cryptdata' },
  pv: { uuid: 'PrBe01-aBcD-eFgH-iJkL-mNoP-qRsT-uVwXyZ' },
  iso: { label: 'GUESTKIT_ISO', joliet: 'GuestKit ISO' },
  btrfs: { uuid: 'b7b7b7b7-0000-4000-8000-000000000007', label: 'btrdata' },
  fat12: { serial: '0F12ABCD', label: 'FLOPPY' },
  ext4nj: { uuid: '4f4f4f4f-0000-4000-8000-000000000009', label: 'nojournal' },
  jdev: { uuid: '0d0d0d0d-0000-4000-8000-000000000010', label: 'extjournal' },
  swap: { uuid: '5d5d5d5d-0000-4000-8000-000000000012' },
  wholeFat: { serial: '3D15C0DE', label: 'WHOLEFAT' },
  wholeExt4: { uuid: '3e4e5e6e-0000-4000-8000-00000000d15c', label: 'whole' },
};

function blank(path, mib) {
  rmSync(path, { force: true });
  run('truncate', ['-s', `${mib}M`, path]);
  return path;
}

function luks(path, type, { uuid, label }) {
  blank(path, 20);
  const args = ['luksFormat', '--batch-mode', '--type', type, '--uuid', uuid, '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', '--key-file', '-'];
  if (label) args.push('--label', label);
  run('cryptsetup', [...args, path], { input: 'guestkit-test-passphrase' });
  return path;
}

/** pvcreate through a loop device; null when there is none to be had. */
function pv(path, { uuid }) {
  blank(path, 8);
  let loop;
  try {
    loop = run('losetup', ['-f', '--show', path]).trim();
  } catch (e) {
    log(`part-probes: no loop device (${e.message.split('\n')[0]}): the LVM2 PV partition stays empty`);
    return null;
  }
  try {
    run('pvcreate', ['-q', '--config', 'devices { filter = [ "a|.*|" ] use_devicesfile = 0 }', '-u', uuid, '--norestorefile', loop], { env: { ...env, LVM_SUPPRESS_FD_WARNINGS: '1' } });
  } catch (e) {
    log(`part-probes: pvcreate failed (${e.message.split('\n')[0]}): the LVM2 PV partition stays empty`);
    blank(path, 8);
    return null;
  } finally {
    run('losetup', ['-d', loop]);
  }
  return path;
}

function iso(path, tree, joliet) {
  rmSync(path, { force: true });
  const args = ['-quiet', '-V', PROBES.iso.label, '-o', path];
  if (joliet) args.push('-J', '-joliet-long');
  run('genisoimage', [...args, tree], { env });
  return path;
}

export default {
  name: 'part-probes',
  inputs: ['recipes/part-tables.mjs'],
  tools: ['sfdisk', 'cryptsetup', 'pvcreate', 'losetup', 'genisoimage', 'mksquashfs', 'mkfs.btrfs', 'mkfs.fat', 'mke2fs', 'mkfs.exfat', 'mkswap'],
  async build({ out }) {
    const t = (n) => join(out, n);
    const tree = t('tree');
    mkdirSync(join(tree, 'dir'), { recursive: true });
    writeFileSync(join(tree, 'hello.txt'), 'hello\n');
    writeFileSync(join(tree, 'dir', 'file'), 'x'.repeat(10000));
    for (const p of ['hello.txt', 'dir/file', 'dir', '.']) utimesSync(join(tree, p), TIME, TIME);

    const images = {
      p1: luks(t('p1.img'), 'luks1', PROBES.luks1),
      p2: luks(t('p2.img'), 'luks2', PROBES.luks2),
      p3: pv(t('p3.img'), PROBES.pv),
      p4: iso(t('p4.img'), tree, true),
      p5: iso(t('p5.img'), tree, false),
    };
    rmSync(t('p6.img'), { force: true });
    run('mksquashfs', [tree, t('p6.img'), '-quiet', '-no-progress', '-all-root'], { env });
    images.p6 = t('p6.img');
    blank(t('p7.img'), 128);
    run('mkfs.btrfs', ['-q', '-f', '-U', PROBES.btrfs.uuid, '-L', PROBES.btrfs.label, t('p7.img')], { env });
    images.p7 = t('p7.img');
    rmSync(t('p8.img'), { force: true });
    run('mkfs.fat', ['--invariant', '-C', '-F', '12', '-n', PROBES.fat12.label, '-i', PROBES.fat12.serial, t('p8.img'), '4096'], { env });
    images.p8 = t('p8.img');
    blank(t('p9.img'), 16);
    run('mke2fs', ['-q', '-F', '-t', 'ext4', '-O', '^has_journal', '-U', PROBES.ext4nj.uuid, '-L', PROBES.ext4nj.label, t('p9.img')], { env });
    images.p9 = t('p9.img');
    blank(t('p10.img'), 8);
    run('mke2fs', ['-q', '-F', '-O', 'journal_dev', '-b', '1024', '-U', PROBES.jdev.uuid, '-L', PROBES.jdev.label, t('p10.img')], { env });
    images.p10 = t('p10.img');
    blank(t('p11.img'), 16);
    run('mkfs.exfat', [t('p11.img')], { env });
    images.p11 = t('p11.img');
    blank(t('p12.img'), 8);
    run('mkswap', ['-q', '-U', PROBES.swap.uuid, t('p12.img')], { env });
    images.p12 = t('p12.img');

    const sizes = { p1: 20, p2: 20, p3: 8, p4: 4, p5: 4, p6: 4, p7: 128, p8: 4, p9: 16, p10: 8, p11: 16, p12: 8 };
    partitionDisk(t('part-probes.raw'), {
      label: 'gpt',
      sizeMiB: 260,
      extra: ['label-id: 9B9B9B9B-0000-4000-8000-00000000BEEF'],
      parts: Object.keys(sizes).map((k, i) => ({
        sizeMiB: sizes[k],
        type: LINUX,
        name: k,
        uuid: `9C9C9C9C-0000-4000-8000-0000000000${String(i + 1).padStart(2, '0')}`,
        image: images[k] ?? undefined,
      })),
    });
    for (const k of Object.keys(sizes)) rmSync(t(`${k}.img`), { force: true });
    run('mkfs.fat', ['--invariant', '-C', '-F', '16', '-n', PROBES.wholeFat.label, '-i', PROBES.wholeFat.serial, t('whole-fat.raw'), String(24 * 1024)], { env });
    blank(t('whole-ext4.raw'), 32);
    run('mke2fs', ['-q', '-F', '-t', 'ext4', '-U', PROBES.wholeExt4.uuid, '-L', PROBES.wholeExt4.label, '-E', `hash_seed=${PROBES.wholeExt4.uuid}`, t('whole-ext4.raw')], { env });
    rmSync(tree, { recursive: true });
    writeFileSync(t('ids.json'), JSON.stringify({ ...PROBES, pv: images.p3 ? PROBES.pv : null }, null, 2) + '\n');
  },
};

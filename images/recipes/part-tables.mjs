// Partitioned disks for the partition-table readers, the probes and `guestkit filesystems`
// (whose goldens come from virt-filesystems on these very images):
//   part-mbr.raw    MBR: ext4 (bootable), FAT16, an extended partition in slot 3 (slot 4 empty)
//                   holding logicals swap, NTFS (label with a blank), ext2 and one with no
//                   filesystem; numbered 1, 2, 3, 5, 6, 7, 8.
//   part-gpt.raw    GPT: ESP (FAT32), Microsoft reserved, ext4, XFS (UTF-16 name "données"),
//                   swap, NTFS, exFAT, ext3, with entry 9 deleted so the last partition is 10.
//   part-gpt4k.raw  GPT on 4096-byte sectors: FAT16 (4 KiB logical sectors), ext4 (4 KiB
//                   blocks), swap, NTFS (4 KiB sectors).
//   part-mbr.qcow2, part-gpt.qcow2: qemu-img convert of the raw disks.
// Every filesystem is made by its own mkfs on a file and dd'd into place; all identifiers are
// fixed (sfdisk label-id and partition UUIDs, mke2fs -U/hash_seed/E2FSPROGS_FAKE_TIME,
// mkfs.fat -i --invariant, mkswap -U, mkfs.xfs -m uuid= under faketime, mkntfs -T, exFAT serial
// patched in)
// so a rebuild gives the same bytes.

import { join } from 'node:path';
import { readFileSync, writeFileSync, rmSync, openSync, writeSync, readSync, closeSync } from 'node:fs';
import { run } from '../lib.mjs';

const TIME = 1700000000;
const env = { ...process.env, E2FSPROGS_FAKE_TIME: String(TIME), SOURCE_DATE_EPOCH: String(TIME), TZ: 'UTC', LC_ALL: 'C' };

/** Identifiers of every disk, partition and filesystem (tests read them from here). */
export const PART = {
  mbr: {
    labelId: '0x5eed0001',
    ext4: { uuid: '0b7d2f5e-6a41-4c33-9e21-3f6a8d1c0001', label: 'mbr-root' },
    fat16: { serial: '1A2B3C4D', label: 'MBRFAT' },
    swap: { uuid: '5b0a7c3e-2d19-4e88-a1f0-7c3e2d190003', label: 'mbrswap' },
    ntfs: { label: 'Data NTFS' },
    ext2: { uuid: '2e2e2e2e-0000-4000-8000-000000000007', label: 'old' },
  },
  gpt: {
    labelId: '6C1D2E3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F',
    esp: { serial: 'E5B00001', label: 'ESP' },
    ext4: { uuid: '4e4e4e4e-1111-4222-8333-000000000003', label: 'gpt-root' },
    xfs: { uuid: '7f7f7f7f-2222-4333-8444-000000000004', label: 'xfsdata' },
    swap: { uuid: '5a5a5a5a-3333-4444-8555-000000000005', label: 'gptswap' },
    ntfs: { label: 'Win Data' },
    exfat: { serial: 'EF0A1B2C', label: 'EXDATA' },
    ext3: { uuid: '3e3e3e3e-4444-4555-8666-000000000010', label: 'ext3fs' },
  },
  gpt4k: {
    labelId: '4B4B4B4B-5555-4666-8777-000000004096',
    fat: { serial: '4CC4FA16', label: 'ESP4K' },
    ext4: { uuid: '4a4a4a4a-6666-4777-8888-000000000002', label: 'root4k' },
    swap: { uuid: '5c5c5c5c-7777-4888-8999-000000000003', label: 'swap4k' },
    ntfs: { label: 'ntfs4k' },
  },
};

const GUID = {
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  msr: 'E3C9E316-0B5C-4DB8-817D-F92DF00215AE',
  linux: '0FC63DAF-8483-4772-8D69-3D69D8BB2D56',
  swap: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F',
  basic: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
};

function blank(path, mib) {
  rmSync(path, { force: true });
  run('truncate', ['-s', `${mib}M`, path]);
  return path;
}

function ext(path, mib, type, { uuid, label }, extra = []) {
  blank(path, mib);
  run('mke2fs', ['-q', '-F', '-t', type, '-U', uuid, '-L', label, '-E', `hash_seed=${uuid},root_owner=0:0`, ...extra, path], { env });
  return path;
}

function fat(path, mib, { serial, label }, args) {
  rmSync(path, { force: true });
  run('mkfs.fat', ['--invariant', '-C', ...args, '-n', label, '-i', serial, path, String(mib * 1024)], { env });
  return path;
}

function swap(path, mib, { uuid, label }, pageSize = 4096) {
  blank(path, mib);
  run('mkswap', ['-q', '-p', String(pageSize), '-U', uuid, '-L', label, path], { env });
  return path;
}

function ntfs(path, mib, { label }, sectorSize = 512) {
  blank(path, mib);
  run('mkntfs', ['-q', '-F', '-f', '-T', '-s', String(sectorSize), '-L', label, path], { env });
  return path;
}

/** mkfs.xfs (6.1) stamps inodes with the current time: run it under a frozen clock (libfaketime). */
function xfs(path, mib, { uuid, label }) {
  blank(path, mib);
  const at = new Date(TIME * 1000).toISOString().replace('T', ' ').slice(0, 19);
  run('faketime', ['-f', at, 'mkfs.xfs', '-q', '-f', '-m', `uuid=${uuid}`, '-L', label, path], { env });
  return path;
}

/**
 * mkfs.exfat (exfatprogs 1.2) always picks a random volume serial: write the fixed one into the
 * main and backup boot sectors and recompute both boot checksums (exFAT spec §3.4), which Linux
 * verifies at mount.
 */
function exfat(path, mib, { serial, label }) {
  blank(path, mib);
  run('mkfs.exfat', ['-L', label, path], { env });
  const fd = openSync(path, 'r+');
  try {
    const head = Buffer.alloc(512);
    readSync(fd, head, 0, 512, 0);
    const ss = 2 ** head[0x6c];
    for (const region of [0, 12]) {
      const buf = Buffer.alloc(ss * 12);
      readSync(fd, buf, 0, buf.length, region * ss);
      buf.writeUInt32LE(parseInt(serial, 16), 0x64);
      let sum = 0;
      for (let i = 0; i < ss * 11; i++) {
        if (i === 106 || i === 107 || i === 112) continue;
        sum = (((sum & 1) ? 0x80000000 : 0) + (sum >>> 1) + buf[i]) >>> 0;
      }
      for (let i = 0; i < ss; i += 4) buf.writeUInt32LE(sum, ss * 11 + i);
      writeSync(fd, buf, 0, buf.length, region * ss);
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/**
 * Write the table from an sfdisk script, then dd each filesystem image to its partition.
 * 512-byte sectors: sfdisk. 4096-byte sectors: fdisk -b 4096 loading the same script (its "I"
 * command), since sfdisk 2.38 cannot be told the sector size of a regular file.
 * parts: [{ sizeMiB?, type, name?, uuid?, bootable?, image? }].
 */
export function partitionDisk(path, { label, sizeMiB, parts, sectorSize = 512, extra = [] }) {
  rmSync(path, { force: true });
  run('truncate', ['-s', `${sizeMiB}M`, path]);
  const lines = [`label: ${label}`, ...extra, ''];
  for (const p of parts) {
    const f = [];
    if (p.sizeMiB !== undefined) f.push(`size=${p.sizeMiB}MiB`);
    f.push(`type=${p.type}`);
    if (p.uuid) f.push(`uuid=${p.uuid}`);
    if (p.name) f.push(`name="${p.name}"`);
    if (p.bootable) f.push('bootable');
    lines.push(f.join(', '));
  }
  const script = lines.join('\n') + '\n';
  if (sectorSize === 512) {
    run('sfdisk', ['--no-reread', '--no-tell-kernel', path], { input: script });
  } else {
    const file = `${path}.sfdisk`;
    writeFileSync(file, script);
    run('fdisk', ['-b', String(sectorSize), path], { input: `I\n${file}\nw\n` });
    rmSync(file);
  }
  const table = readTable(path, sectorSize);
  parts.forEach((p, i) => {
    if (!p.image) return;
    const tp = table.partitions[i];
    run('dd', [`if=${p.image}`, `of=${path}`, 'bs=1M', `seek=${tp.start * sectorSize}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
  });
  return table;
}

/**
 * The partition table as util-linux reads it, shaped like `sfdisk --json`'s "partitiontable":
 * sfdisk --json for 512-byte sectors; for others, fdisk -b SIZE's "O" (dump) command, parsed.
 */
export function readTable(path, sectorSize = 512) {
  if (sectorSize === 512) return JSON.parse(run('sfdisk', ['--json', path])).partitiontable;
  const file = `${path}.dump-${process.pid}`;
  try {
    run('fdisk', ['-b', String(sectorSize), path], { input: `O\n${file}\nq\n` });
    return parseSfdiskDump(readFileSync(file, 'utf8'));
  } finally {
    rmSync(file, { force: true });
  }
}

/** sfdisk -d text → { label, id, sectorsize, partitions: [{ node, start, size, type, uuid?, name?, bootable? }] }. */
export function parseSfdiskDump(text) {
  const t = { partitions: [] };
  for (const line of text.split('\n')) {
    const h = /^([a-z-]+): (.*)$/.exec(line);
    if (h) {
      if (h[1] === 'label') t.label = h[2];
      else if (h[1] === 'label-id') t.id = h[2];
      else if (h[1] === 'sector-size') t.sectorsize = Number(h[2]);
      else if (h[1] === 'first-lba') t.firstlba = Number(h[2]);
      else if (h[1] === 'last-lba') t.lastlba = Number(h[2]);
      continue;
    }
    const m = /^(\S+) : (.*)$/.exec(line);
    if (!m) continue;
    const p = { node: m[1] };
    for (const f of m[2].match(/[a-z-]+=("[^"]*"|[^,]*)|bootable/g) ?? []) {
      if (f === 'bootable') { p.bootable = true; continue; }
      const [k, ...rest] = f.split('=');
      let v = rest.join('=').trim();
      if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\x([0-9a-f]{2})/g, (_, x) => String.fromCharCode(parseInt(x, 16)));
      p[k] = k === 'start' || k === 'size' ? Number(v) : v;
    }
    if (p.name !== undefined) p.name = Buffer.from(p.name, 'latin1').toString('utf8');
    t.partitions.push(p);
  }
  return t;
}

export default {
  name: 'part-tables',
  inputs: [],
  tools: ['sfdisk', 'fdisk', 'mke2fs', 'mkfs.fat', 'mkswap', 'mkntfs', 'mkfs.xfs', 'faketime', 'mkfs.exfat', 'qemu-img'],
  async build({ out }) {
    const t = (n) => join(out, n);

    // --- MBR with an extended partition -------------------------------------------------
    const M = PART.mbr;
    const mbr = t('part-mbr.raw');
    partitionDisk(mbr, {
      label: 'dos',
      sizeMiB: 200,
      extra: [`label-id: ${M.labelId}`],
      parts: [
        { sizeMiB: 48, type: '83', bootable: true, image: ext(t('m1.img'), 48, 'ext4', M.ext4) },
        { sizeMiB: 32, type: '6', image: fat(t('m2.img'), 32, M.fat16, ['-F', '16']) },
        { type: '5' },
        { sizeMiB: 16, type: '82', image: swap(t('m5.img'), 16, M.swap) },
        { sizeMiB: 40, type: '7', image: ntfs(t('m6.img'), 40, M.ntfs) },
        { sizeMiB: 24, type: '83', image: ext(t('m7.img'), 24, 'ext2', M.ext2) },
        { sizeMiB: 8, type: '83' },
      ],
    });

    // --- GPT -------------------------------------------------------------------------------
    const G = PART.gpt;
    const gpt = t('part-gpt.raw');
    partitionDisk(gpt, {
      label: 'gpt',
      sizeMiB: 640,
      extra: [`label-id: ${G.labelId}`],
      parts: [
        { sizeMiB: 40, type: GUID.esp, name: 'EFI system partition', image: fat(t('g1.img'), 40, G.esp, ['-F', '32', '-s', '1']) },
        { sizeMiB: 16, type: GUID.msr, name: 'Microsoft reserved partition' },
        { sizeMiB: 64, type: GUID.linux, name: 'root fs', image: ext(t('g3.img'), 64, 'ext4', G.ext4, ['-b', '4096']) },
        { sizeMiB: 300, type: GUID.linux, name: 'données', image: xfs(t('g4.img'), 300, G.xfs) },
        { sizeMiB: 32, type: GUID.swap, name: 'swap', image: swap(t('g5.img'), 32, G.swap) },
        { sizeMiB: 40, type: GUID.basic, name: 'Basic data partition', image: ntfs(t('g6.img'), 40, G.ntfs) },
        { sizeMiB: 32, type: GUID.basic, name: 'exFAT data', image: exfat(t('g7.img'), 32, G.exfat) },
        { sizeMiB: 24, type: GUID.linux, name: 'ext3', image: ext(t('g8.img'), 24, 'ext3', G.ext3) },
        { sizeMiB: 4, type: GUID.linux, name: 'deleted' },
        { sizeMiB: 16, type: GUID.linux, name: 'last (no filesystem)' },
      ].map((p, i) => ({ ...p, uuid: `0A0B0C0D-0000-4000-8000-0000000000${String(i + 1).padStart(2, '0')}` })),
    });
    run('sfdisk', ['--no-reread', '--no-tell-kernel', '--delete', gpt, '9']);

    // --- GPT on 4096-byte sectors -------------------------------------------------------------
    const K = PART.gpt4k;
    const gpt4k = t('part-gpt4k.raw');
    partitionDisk(gpt4k, {
      label: 'gpt',
      sectorSize: 4096,
      sizeMiB: 128,
      extra: [`label-id: ${K.labelId}`],
      parts: [
        { sizeMiB: 32, type: GUID.esp, name: 'ESP', image: fat(t('k1.img'), 32, K.fat, ['-F', '16', '-S', '4096', '-s', '1']) },
        { sizeMiB: 40, type: GUID.linux, name: 'root', image: ext(t('k2.img'), 40, 'ext4', K.ext4, ['-b', '4096']) },
        { sizeMiB: 16, type: GUID.swap, name: 'swap', image: swap(t('k3.img'), 16, K.swap) },
        { sizeMiB: 24, type: GUID.basic, name: 'data', image: ntfs(t('k4.img'), 24, K.ntfs, 4096) },
      ].map((p, i) => ({ ...p, uuid: `4D4D4D4D-0000-4000-8000-00000000000${i + 1}` })),
    });

    for (const f of ['m1', 'm2', 'm5', 'm6', 'm7', 'g1', 'g3', 'g4', 'g5', 'g6', 'g7', 'g8', 'k1', 'k2', 'k3', 'k4']) rmSync(t(`${f}.img`));
    for (const n of ['part-mbr', 'part-gpt']) {
      run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', t(`${n}.raw`), t(`${n}.qcow2`)]);
    }
    writeFileSync(t('ids.json'), JSON.stringify(PART, null, 2) + '\n');
  },
};

// libguestfs's phony Windows guest (test-data/phony-guests/make-windows-img.sh; layout in
// ../shared/samples/guestfs-tools/phony-guests/README.md), built without the appliance:
//   2 GiB raw (sparse), MBR with the disk signature bytes "1234" at 0x1b8 (label-id 0x34333231),
//   sda1 = sectors 64…524287 NTFS (empty), sda2 = 524288…(end−64) NTFS holding
//   /Windows/System32/Config/{SOFTWARE,SYSTEM} (minimal-hive + hivexregedit --merge of
//   windows-software.reg / windows-system.reg), /Windows/System32/Drivers/,
//   /Windows/System32/cmd.exe (= binaries/bin-win32.exe), /Program Files/, /autoexec.bat.
// Also windows-badhive.img (64 MiB, one NTFS from sector 2048) with the SOFTWARE hive truncated,
// windows-gpt.img (64 MiB GPT) whose SYSTEM maps C: by "DMIO:ID:" + GPT partition GUID, and
// windows-icon.img: windows-gpt.img plus a \Windows\explorer.exe with bitmap resource 6801 (icon).
// SYSTEM\MountedDevices maps C: to signature "1234" + byte offset 0x10000000 (256 MiB) = sda2.
// Each NTFS is made by mkntfs -T on a partition file and filled through ntfs-3g (FUSE) under a
// frozen clock (faketime); ntfslabel --new-serial gives sda2 the serial of libguestfs's image
// (virt-inspector prints it as the filesystem UUID, 091A29CC586B609C). Deterministic.

import { mkdirSync, copyFileSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib.mjs';
import { makeHive, PHONY } from '../fixtures/reg-make.mjs';
import { fillNtfs } from '../fixtures/phony-guests-ntfs.mjs';
import { makeBmp, makeResourcePe } from '../fixtures/phony-guests-icons.mjs';

/** A 48x102 bitmap (libguestfs keeps the top 55 rows: pamcut -bottom 54). */
export const windowsLogoBmp = () => makeBmp(48, 102, (x, y) => (y < 55 ? [0, 120 + x, 215] : [30, 30, 30]));

const BINARIES = join(PHONY, '..', 'binaries');
const FAKE_TIME = '2010-01-01 00:00:00';
const SECTORS = 2048 * 2048; // 2 GiB in 512-byte sectors
export const WINDOWS_SERIAL = '091A29CC586B609C';
export const WINDOWS_GPT_PARTUUID = '6A4B3C2D-1E0F-4A5B-9C8D-7E6F50413223';

function faketimeEnv() {
  const lib = run('bash', ['-c', 'ls /usr/lib/*/faketime/libfaketime.so.1 | head -1']).trim();
  if (!lib) throw new Error('libfaketime is missing (apt-get install faketime)');
  return { ...process.env, LD_PRELOAD: lib, FAKETIME: FAKE_TIME, TZ: 'UTC' };
}

/** mkntfs -T a partition file of `sectors` and copy `tree` (if any) in through ntfs-3g. */
async function ntfsPartition(img, start, sectors, tree, mnt) {
  run('truncate', ['-s', String(sectors * 512), img]);
  run('mkntfs', ['-q', '-F', '-f', '-T', '-p', String(start), img]);
  if (tree) await fillNtfs(img, tree, mnt, { env: faketimeEnv(), preserveTimestamps: true });
}

export default {
  name: 'phony-windows',
  inputs: ['fixtures/reg-make.mjs', 'fixtures/phony-guests-ntfs.mjs', 'fixtures/phony-guests-icons.mjs'],
  tools: ['mkntfs', 'ntfs-3g', 'ntfslabel', 'sfdisk', 'hivexregedit', 'faketime', 'i686-w64-mingw32-windres', 'i686-w64-mingw32-ld'],
  async build({ out }) {
    const HKLM = 'HKEY_LOCAL_MACHINE';
    const tree = join(out, 'tree');
    const cfg = join(tree, 'Windows', 'System32', 'Config');
    makeHive(out, join(cfg, 'SOFTWARE'), [{ name: 'windows-software.reg', text: readFileSync(join(PHONY, 'windows-software.reg'), 'utf8'), prefix: `${HKLM}\\SOFTWARE` }]);
    makeHive(out, join(cfg, 'SYSTEM'), [{ name: 'windows-system.reg', text: readFileSync(join(PHONY, 'windows-system.reg'), 'utf8'), prefix: `${HKLM}\\SYSTEM` }]);
    mkdirSync(join(tree, 'Windows', 'System32', 'Drivers'), { recursive: true });
    mkdirSync(join(tree, 'Program Files'), { recursive: true });
    copyFileSync(join(BINARIES, 'bin-win32.exe'), join(tree, 'Windows', 'System32', 'cmd.exe'));
    writeFileSync(join(tree, 'autoexec.bat'), '');
    run('find', [tree, '-exec', 'touch', '-h', '-d', `@${Date.parse(`${FAKE_TIME}Z`) / 1000}`, '{}', '+']);

    const parts = [
      { start: 64, end: 524287, file: join(out, 'p1.ntfs') },
      { start: 524288, end: SECTORS - 65, file: join(out, 'p2.ntfs'), tree },
    ];
    for (const [i, p] of parts.entries()) await ntfsPartition(p.file, p.start, p.end - p.start + 1, p.tree, join(out, `mnt${i + 1}`));
    run('ntfslabel', ['-q', `--new-serial=${WINDOWS_SERIAL}`, parts[1].file]);

    const img = join(out, 'windows.img');
    run('truncate', ['-s', String(SECTORS * 512), img]);
    const lines = ['label: dos', 'label-id: 0x34333231', 'unit: sectors',
      ...parts.map((p) => `start=${p.start}, size=${p.end - p.start + 1}, type=7`)];
    run('sfdisk', ['--no-reread', '--no-tell-kernel', img], { input: lines.join('\n') + '\n' });
    for (const p of parts) {
      run('dd', [`if=${p.file}`, `of=${img}`, 'bs=1M', `seek=${p.start * 512}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
      rmSync(p.file);
    }
    // windows-badhive.img: the same tree on one small NTFS, but its SOFTWARE hive cut short
    // (the first 4 KiB base block and 100 bytes of the first hbin): inspection must warn and
    // still report what SYSTEM and the file system give.
    const sw = join(cfg, 'SOFTWARE');
    writeFileSync(sw, readFileSync(sw).subarray(0, 4196));
    const small = join(out, 'p-bad.ntfs');
    await ntfsPartition(small, 2048, 126976, tree, join(out, 'mnt-bad'));
    const bad = join(out, 'windows-badhive.img');
    run('truncate', ['-s', '64M', bad]);
    run('sfdisk', ['--no-reread', '--no-tell-kernel', bad], { input: 'label: dos\nlabel-id: 0x34333231\nunit: sectors\nstart=2048, size=126976, type=7\n' });
    run('dd', [`if=${small}`, `of=${bad}`, 'bs=1M', `seek=${2048 * 512}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
    rmSync(small);
    // windows-gpt.img: GPT, one NTFS (partition GUID WINDOWS_GPT_PARTUUID) with a valid SOFTWARE
    // again and a SYSTEM whose MountedDevices maps C: the GPT way ("DMIO:ID:" + partition GUID).
    makeHive(out, join(cfg, 'SOFTWARE'), [{ name: 'windows-software.reg', text: readFileSync(join(PHONY, 'windows-software.reg'), 'utf8'), prefix: `${HKLM}\\SOFTWARE` }]);
    const g = WINDOWS_GPT_PARTUUID.replace(/-/g, '');
    const le = (h) => h.match(/../g).reverse().join('');
    const guid = le(g.slice(0, 8)) + le(g.slice(8, 12)) + le(g.slice(12, 16)) + g.slice(16);
    const dmio = [...Buffer.from('DMIO:ID:', 'latin1')].map((b) => b.toString(16).padStart(2, '0')).join('') + guid.toLowerCase();
    makeHive(out, join(cfg, 'SYSTEM'), [
      { name: 'windows-system.reg', text: readFileSync(join(PHONY, 'windows-system.reg'), 'utf8'), prefix: `${HKLM}\\SYSTEM` },
      { name: 'gpt-system.reg', text: `[${HKLM}\\SYSTEM\\MountedDevices]\n"\\\\DosDevices\\\\C:"=hex(3):${dmio.match(/../g).join(',')}\n`, prefix: `${HKLM}\\SYSTEM` },
    ]);
    const gp = join(out, 'p-gpt.ntfs');
    await ntfsPartition(gp, 2048, 126976, tree, join(out, 'mnt-gpt'));
    const gimg = join(out, 'windows-gpt.img');
    run('truncate', ['-s', '64M', gimg]);
    run('sfdisk', ['--no-reread', '--no-tell-kernel', gimg], {
      input: `label: gpt\nlabel-id: 01234567-89AB-CDEF-0123-456789ABCDEF\nunit: sectors\nstart=2048, size=126976, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=${WINDOWS_GPT_PARTUUID}\n`,
    });
    run('dd', [`if=${gp}`, `of=${gimg}`, 'bs=1M', `seek=${2048 * 512}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
    rmSync(gp);
    // windows-icon.img: windows-gpt.img plus \Windows\explorer.exe holding bitmap resource 6801,
    // where libguestfs takes a Windows 7 guest's icon from (wrestool | bmptopnm | pamcut | pnmtopng).
    makeResourcePe(join(out, 'pe'), join(tree, 'Windows', 'explorer.exe'), 6801, windowsLogoBmp());
    rmSync(join(out, 'pe'), { recursive: true });
    run('touch', ['-h', '-d', `@${Date.parse(`${FAKE_TIME}Z`) / 1000}`, join(tree, 'Windows', 'explorer.exe'), join(tree, 'Windows')]);
    const ip = join(out, 'p-icon.ntfs');
    await ntfsPartition(ip, 2048, 126976, tree, join(out, 'mnt-icon'));
    const iimg = join(out, 'windows-icon.img');
    run('truncate', ['-s', '64M', iimg]);
    run('sfdisk', ['--no-reread', '--no-tell-kernel', iimg], {
      input: `label: gpt\nlabel-id: 01234567-89AB-CDEF-0123-456789ABCDEF\nunit: sectors\nstart=2048, size=126976, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=${WINDOWS_GPT_PARTUUID}\n`,
    });
    run('dd', [`if=${ip}`, `of=${iimg}`, 'bs=1M', `seek=${2048 * 512}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
    rmSync(ip);
    rmSync(tree, { recursive: true });
  },
};

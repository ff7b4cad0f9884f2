// The benchmark's 27 MB SOFTWARE-like hive inside a Windows-layout guest, for timing
// `virt-win-reg` against `guestkit win-reg -a` end to end (bench/registry-export.mjs): a raw
// disk with one NTFS partition holding \Windows\System32\config\SOFTWARE (reg-bench's hive),
// the other hives of reg-hives' guest, and \Windows\System32\cmd.exe.

import { cpSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePartitionedDisk } from '../lib.mjs';
import { ntfsFromTree } from './reg-windows.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const BINARIES = join(here, '..', '..', '..', 'shared', 'samples', 'guestfs-tools', 'binaries');

export default {
  name: 'reg-bench-windows',
  deps: ['reg-hives', 'reg-bench'],
  inputs: ['recipes/reg-windows.mjs'],
  tools: ['mkntfs', 'ntfs-3g', 'sfdisk'],
  async build({ out, dep }) {
    const c = join(out, 'tree-c');
    cpSync(join(dep('reg-hives'), 'guest', 'Windows'), join(c, 'Windows'), { recursive: true });
    copyFileSync(join(dep('reg-bench'), 'software-bench.hive'), join(c, 'Windows', 'System32', 'config', 'SOFTWARE'));
    mkdirSync(join(c, 'Program Files'), { recursive: true });
    copyFileSync(join(BINARIES, 'bin-win32.exe'), join(c, 'Windows', 'System32', 'cmd.exe'));
    const p = join(out, 'p1.ntfs');
    await ntfsFromTree(p, 96, 'Windows', c, join(out, 'mnt'));
    makePartitionedDisk(join(out, 'windows.img'), { label: 'dos', sizeMiB: 100, extra: 'label-id: 0x34333231', parts: [{ start: 2048, type: '7', bootable: true, image: p }] });
    rmSync(p);
    rmSync(c, { recursive: true });
  },
};

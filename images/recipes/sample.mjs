// The quick-start sample guest: qcow2, GPT, an EFI system partition (FAT32 via mkfs.fat +
// mtools) and an ext4 root made with mke2fs -d from fixtures/sample-tree.mjs.
// Deterministic (fixed UUIDs, GUIDs, hash seed and times): goldens made by libguestfs from
// it are committed (test/goldens/).

import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { run, makePartitionedDisk } from '../lib.mjs';
import { writeSampleRoot, writeSampleEfi, stampExtImage, SAMPLE, SAMPLE_OWNERS } from '../fixtures/sample-tree.mjs';

export default {
  name: 'sample',
  inputs: ['fixtures/sample-tree.mjs'],
  tools: ['qemu-img', 'sfdisk', 'mke2fs', 'debugfs', 'mkfs.fat', 'mcopy'],
  async build({ out }) {
    const root = join(out, 'tree-root');
    const efi = join(out, 'tree-efi');
    writeSampleRoot(root);
    writeSampleEfi(efi);
    const env = { ...process.env, E2FSPROGS_FAKE_TIME: String(SAMPLE.time), SOURCE_DATE_EPOCH: String(SAMPLE.time) };
    const rootImg = join(out, 'root.ext4');
    const efiImg = join(out, 'efi.fat');
    run('mke2fs', ['-q', '-t', 'ext4', '-L', 'root', '-U', SAMPLE.rootUuid,
      '-E', `root_owner=0:0,hash_seed=${SAMPLE.rootHashSeed}`, '-d', root, rootImg, '48M'], { env });
    stampExtImage(rootImg, root, { time: SAMPLE.time, owners: SAMPLE_OWNERS });
    run('mkfs.fat', ['--invariant', '-C', '-F', '32', '-n', 'EFI', '-i', SAMPLE.efiSerial, efiImg, String(34 * 1024)], { env });
    run('mcopy', ['-s', '-m', '-i', efiImg, join(efi, 'EFI'), '::/'], { env });
    const raw = join(out, 'sample.raw');
    makePartitionedDisk(raw, {
      label: 'gpt',
      sizeMiB: 100,
      extra: `label-id: ${SAMPLE.diskGuid}`,
      parts: [
        { sizeMiB: 34, type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', name: 'EFI System', image: efiImg },
        { type: '0FC63DAF-8483-4772-8D69-3D69D8BB2D56', name: 'root', image: rootImg },
      ],
    });
    run('sfdisk', ['--no-reread', '--no-tell-kernel', '--part-uuid', raw, '1', SAMPLE.efiPartUuid]);
    run('sfdisk', ['--no-reread', '--no-tell-kernel', '--part-uuid', raw, '2', SAMPLE.rootPartUuid]);
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, join(out, 'sample.qcow2')]);
    rmSync(rootImg);
    rmSync(efiImg);
  },
};

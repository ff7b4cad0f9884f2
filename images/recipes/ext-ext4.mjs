// ext4 with 4 KiB blocks and mke2fs's default ext4 features (64bit, metadata_csum, flex_bg,
// huge_file, dir_nlink, extra_isize, 256-byte inodes), made with `mke2fs -d` from the full
// Linux fixture tree: the 20,000-entry htree directory (half-MD4, signed) and the 2 GiB
// sparse file included. Uninitialized extents are added with debugfs `fallocate`.
//
// Also exports buildExtImage(), the steps every ext-* recipe shares.

import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { run } from '../lib.mjs';
import { writeLinuxTree, linuxTreeManifest, applyLinuxTreeTimes } from '../fixtures/linux-tree.mjs';

/** mke2fs/e2fsck/debugfs clock: s_mkfs_time, crtime of every inode, lost+found times. */
export const EXT_FAKE_TIME = 1_600_000_000;
/** Every inode's ctime is set to this after mke2fs (the host's ctimes are not reproducible). */
export const EXT_CTIME = 1_650_000_000;

function extEnv() {
  // E2FSCK_TIME: e2fsck's clock (s_lastcheck, s_wtime), which ignores E2FSPROGS_FAKE_TIME.
  return { ...process.env, E2FSPROGS_FAKE_TIME: String(EXT_FAKE_TIME), E2FSCK_TIME: String(EXT_FAKE_TIME), MKE2FS_CONFIG: '/etc/mke2fs.conf' };
}

/** Run e2fsck; exit status 0 or 1 (errors corrected) are success. */
export function e2fsck(args, img) {
  const r = spawnSync('e2fsck', [...args, img], { env: extEnv(), encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`e2fsck ${args.join(' ')} ${img}: exit ${r.status}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Run a debugfs script (-w). Throws when debugfs reports an error on any command. */
export function debugfsScript(img, lines, { write = true } = {}) {
  const r = spawnSync('debugfs', [...(write ? ['-w'] : []), '-f', '-', img], {
    env: extEnv(),
    input: lines.join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const errs = r.stderr.split('\n').filter((l) => l && !l.startsWith('debugfs ') && !/^debugfs:/.test(l));
  if (r.status !== 0 || errs.length) throw new Error(`debugfs on ${img}: ${errs.slice(0, 5).join('; ') || `exit ${r.status}`}`);
  return r.stdout;
}

const q = (path) => `"/${path}"`;

/**
 * The ext recipe steps: write the fixture tree (out/tree) and its manifest
 * (out/manifest.json), mke2fs -d, optional hash algorithm / signedness for directory
 * indexes (then e2fsck -fD builds them), fixed ctimes and nanosecond times, e2fsck -fn.
 *   spec: { image, type, sizeMiB, blockSize, inodeSize, inodes?, features?, extended?, uuid,
 *           hashSeed, label, tree: writeLinuxTree options, hashAlg?, unsignedHash? }
 * Returns { img, tree, manifest }.
 */
export function buildExtImage(out, spec) {
  const tree = join(out, 'tree');
  writeLinuxTree(tree, spec.tree ?? {});
  const manifest = linuxTreeManifest(tree);
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest));
  // The manifest read every directory (and moved its atime): restore the fixed times.
  applyLinuxTreeTimes(tree);

  const img = join(out, spec.image);
  const ext = [`hash_seed=${spec.hashSeed}`, ...(spec.extended ?? [])];
  const args = ['-q', '-F', '-t', spec.type, '-b', String(spec.blockSize), '-I', String(spec.inodeSize)];
  if (spec.inodes) args.push('-N', String(spec.inodes));
  if (spec.features) args.push('-O', spec.features);
  if (spec.clusterSize) args.push('-C', String(spec.clusterSize));
  args.push('-U', spec.uuid, '-L', spec.label, '-E', ext.join(','), '-d', tree, img, `${spec.sizeMiB}M`);
  run('mke2fs', args, { env: extEnv() });

  if (spec.hashAlg) run('tune2fs', ['-E', `hash_alg=${spec.hashAlg}`, img], { env: extEnv() });
  if (spec.unsignedHash) debugfsScript(img, ['ssv flags 2']);
  // mke2fs -d writes linear directories; -D indexes (and compacts) every directory.
  e2fsck(['-fyD'], img);

  // The host's ctimes are the time the tree was written: replace them by a fixed value, and
  // restore the nanoseconds mke2fs -d does not copy (only inodes > 128 bytes keep them).
  const script = spec.pre ? spec.pre(manifest) : [];
  const seen = new Set();
  for (const e of manifest) {
    if (seen.has(e.hostIno)) continue;
    seen.add(e.hostIno);
    const p = e.path === '' ? '/' : q(e.path);
    script.push(`sif ${p} ctime @${EXT_CTIME}`);
    if (spec.inodeSize > 128) {
      if (e.mtime.nsec) script.push(`sif ${p} mtime_extra ${e.mtime.nsec * 4}`);
      if (e.atime.nsec) script.push(`sif ${p} atime_extra ${e.atime.nsec * 4}`);
    }
  }
  debugfsScript(img, script);
  // debugfs edits that leave a count to fix (ea_set charges an EA inode's blocks to its owner).
  if (spec.fsckAfter) e2fsck(['-fy'], img);
  const fsck = spawnSync('e2fsck', ['-fn', img], { env: extEnv(), encoding: 'utf8' });
  if (fsck.status !== 0) throw new Error(`e2fsck -fn ${img} is not clean:\n${fsck.stdout}${fsck.stderr}`);
  return { img, tree, manifest };
}

export default {
  name: 'ext-ext4',
  inputs: ['fixtures/linux-tree.mjs'],
  tools: ['mke2fs', 'e2fsck', 'debugfs', 'tune2fs', 'setfattr', 'setfacl'],
  async build({ out }) {
    buildExtImage(out, {
      image: 'ext4.img',
      type: 'ext4',
      sizeMiB: 96,
      blockSize: 4096,
      inodeSize: 256,
      inodes: 24576,
      uuid: 'e4e4e4e4-0004-4000-8000-000000000001',
      hashSeed: 'e4e4e4e4-0004-4000-8000-0000000000a1',
      label: 'ext4-4k',
      tree: { bigDir: true, sparse: true },
      pre(manifest) {
        // sizes/all-hole.bin (256 KiB, all hole): logical blocks 2..9 become uninitialized
        // extents, which read as zeros; its times are set back to the tree's.
        const e = manifest.find((m) => m.path === 'sizes/all-hole.bin');
        return [
          'fallocate /sizes/all-hole.bin 2 9',
          `sif /sizes/all-hole.bin mtime @${e.mtime.sec}`,
          `sif /sizes/all-hole.bin atime @${e.atime.sec}`,
        ];
      },
    });
  },
};

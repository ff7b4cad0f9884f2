// robust-hostile: names and links no sane tool makes, for the escape tests of copy-out,
// tar-out and mount (test/robustness/escapes.test.ts); complements guest-hostile ('/', '.',
// '..', duplicates, directory hard-link loops, symlink-then-directory).
//   hostile.ext4  (mke2fs -d, then debugfs, then names patched in place: hand-made bytes, as
//                 bad-input tests may use)
//     /names/nul?name       the '?' patched to NUL
//     /names/ctl?[2J?]0;x?  '?' patched to ESC, ESC, BEL (terminal escape sequences)
//     /names/new?line       '?' patched to '\n'
//     /names/LLL...L        a 255-byte name (NAME_MAX)
//     /deep/DDD.../...      18 directories of 240-byte names: a path longer than PATH_MAX
//     /links/passwd         symlink to /etc/passwd;  /links/up → ../../../../../../etc/passwd
//     /links/etc            symlink to /etc (a directory on the host)
//     /h1/file, /h2/same    one inode hard-linked from two directories
//   long.ntfs     (mkntfs + ntfscp) /€€€...€: 255 UTF-16 characters, 765 bytes of UTF-8,
//                 longer than any host file name can be
import { join } from 'node:path';
import { mkdirSync, writeFileSync, readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { run } from '../lib.mjs';
import { setTreeTimes } from '../fixtures/sample-tree.mjs';

export const ROBUST_HOSTILE = {
  time: 1600000000,
  uuid: '7a3c0b5e-0000-4000-8000-00000000e5ca',
  /** Patched names, as the guest holds them. */
  nul: 'nul\0name',
  ctl: 'ctl\x1b[2J\x1b]0;x\x07',
  newline: 'new\nline',
  long: 'L'.repeat(255),
  deepName: 'D'.repeat(240),
  deepLevels: 18,
  ntfsLong: '€'.repeat(255),
};

/** Replace the only occurrence of `from` in the image by `to` (same length). */
function patchUnique(img, from, to) {
  const b = readFileSync(img);
  const f = Buffer.from(from, 'latin1');
  const at = b.indexOf(f);
  if (at < 0 || b.indexOf(f, at + 1) >= 0) throw new Error(`robust-hostile: "${from}" is not in ${img} exactly once`);
  const fd = openSync(img, 'r+');
  try {
    writeSync(fd, Buffer.from(to, 'latin1'), 0, f.length, at);
  } finally {
    closeSync(fd);
  }
}

export default {
  name: 'robust-hostile',
  inputs: ['fixtures/sample-tree.mjs'],
  tools: ['mke2fs', 'debugfs', 'mkntfs', 'ntfscp'],
  async build({ out }) {
    const H = ROBUST_HOSTILE;
    const tree = join(out, 'tree');
    for (const d of ['names', 'links', 'h1', 'h2']) mkdirSync(join(tree, d), { recursive: true });
    // Placeholders, unique in the image, the same length as the hostile names.
    writeFileSync(join(tree, 'names', 'nulQname'), 'nul\n');
    writeFileSync(join(tree, 'names', 'ctlQ[2JQ]0;xQ'), 'ctl\n');
    writeFileSync(join(tree, 'names', 'newQline'), 'newline\n');
    writeFileSync(join(tree, 'names', H.long), 'long\n');
    writeFileSync(join(tree, 'names', 'plain'), 'plain\n');
    writeFileSync(join(tree, 'h1', 'file'), 'linked\n');
    mkdirSync(join(tree, 'deep'));
    writeFileSync(join(out, 'bottom'), 'bottom\n');
    setTreeTimes(tree, H.time);
    const env = { ...process.env, E2FSPROGS_FAKE_TIME: String(H.time) };
    const img = join(out, 'hostile.ext4');
    run('mke2fs', ['-q', '-t', 'ext4', '-O', '^metadata_csum,^dir_index', '-U', H.uuid, '-E', `root_owner=0:0,hash_seed=${H.uuid}`,
      '-L', 'robust-hostile', '-d', tree, img, '8M'], { env });
    const script = [
      'cd /links', 'symlink passwd /etc/passwd', 'symlink up ../../../../../../etc/passwd', 'symlink etc /etc',
      'ln /h1/file /h2/same', 'sif /h1/file links_count 2',
      // The deep chain cannot be made on the host (PATH_MAX): debugfs walks down it.
      'cd /deep', ...Array.from({ length: H.deepLevels }, () => [`mkdir ${H.deepName}`, `cd ${H.deepName}`]).flat(),
      `write ${join(out, 'bottom')} bottom`,
    ];
    run('debugfs', ['-w', '-f', '-', img], { input: script.join('\n') + '\n', env });
    patchUnique(img, 'nulQname', H.nul);
    patchUnique(img, 'ctlQ[2JQ]0;xQ', H.ctl);
    patchUnique(img, 'newQline', H.newline);
    const ls = run('debugfs', ['-R', 'ls -l /names', img]);
    if (!ls.includes('nul')) throw new Error(`robust-hostile: /names is not as planned:\n${ls}`);

    const ntfs = join(out, 'long.ntfs');
    run('truncate', ['-s', '4M', ntfs]);
    run('mkntfs', ['-q', '-F', '-f', '-L', 'long', ntfs]);
    writeFileSync(join(out, 'long.txt'), 'a name longer than NAME_MAX\n');
    run('ntfscp', ['-f', ntfs, join(out, 'long.txt'), H.ntfsLong]);
    run('ntfscp', ['-f', ntfs, join(out, 'long.txt'), 'short.txt']);
  },
};

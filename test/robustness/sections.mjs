#!/usr/bin/env node
// Writes ROBUSTNESS.md's `limits`, `escapes` and `nothing-lost` sections: what each limit is,
// where it is enforced and which test proves it; which escape each test covers; and the
// kill tallies of nothing-lost.test.ts (run it with GUESTKIT_ROBUSTNESS_TALLY=FILE first and
// pass FILE: `node test/robustness/sections.mjs [TALLY.json]`). The `corpora` section is
// bitflip.mjs's.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { writeSectionIn } = await import(pathToFileURL(join(root, 'bench', 'section.mjs')).href);
// The values, read from limits.ts itself (node runs no TypeScript; dist may be older).
const LIMITS = Object.fromEntries([...readFileSync(join(root, 'packages/core/src/limits.ts'), 'utf8')
  .matchAll(/^\s+(\w+): ([\d_ *]+),$/gm)].map(([, k, v]) => [k, v.split('*').reduce((a, b) => a * Number(b.trim().replace(/_/g, '')), 1)]));
const file = join(root, 'ROBUSTNESS.md');

// [limit, where it is enforced, test at the limit and one past]
const LIMIT_ROWS = [
  ['maxAlloc', 'allocFromDisk callers; NTFS xattr/stream reads, qcow2 zstd window, GuestView.readFile', 'test/robustness/limits.test.ts (allocFromDisk at/over; readFile at 21/20 bytes lowered); ntfs-corrupt.test.ts (ADS over the limit); qcow2-compressed.test.ts (zstd window)'],
  ['maxMetadata', 'qcow2 header, L1/refcount/snapshot tables; GPT entry array; LVM metadata area and text; NTFS $MFT run and data streams; XFS AG headers', 'qcow2-bad.test.ts (L1 table over the limit: LIMIT, nothing allocated); lvm.test.ts (raw_locn size = limit + 1)'],
  ['maxBackingDepth', 'qcow2 backing chain (block/qcow2/index.ts)', 'qcow2-chain.test.ts: a chain 16 deep opens and reads like qemu-img, 17 is LIMIT'],
  ['maxLogicalPartitions', 'MBR EBR chain (volume/mbr.ts)', 'mbr.test.ts: a chain longer than the limit stops with LIMIT, not a hang (and a looping chain is LOOP)'],
  ['maxGptEntries', 'GPT header NumberOfPartitionEntries (volume/gpt.ts)', 'gpt.test.ts: a valid header asking for more is LIMIT, nothing allocated'],
  ['maxSymlinks', 'guest path resolution (guest/view.ts; ELOOP as Linux), NTFS reparse-point steps', 'test/robustness/limits.test.ts: robust-limits\'s 40-link chain resolves, the 41-link chain is LOOP'],
  ['maxTreeDepth', 'ext extent tree (min(5, limit)), XFS bmap btree levels, btrfs subvolume paths, NTFS index depth, LVM metadata nesting', 'test/robustness/limits.test.ts: LVM metadata sections nested 32 deep parse, 33 are refused; ext-samples.test.ts (e2fsprogs f_extent_too_deep: depth 7 refused); xfs-bad / btrfs-bad / ntfs-corrupt tests; the bit-flip campaign'],
  ['maxDirEntries', 'readdir of ext, FAT, NTFS, XFS, btrfs and the guest view', 'test/robustness/limits.test.ts: the 300-entry directory reads with the limit lowered to 300 (ext reader and guest view), LIMIT at 299'],
  ['qcow2L2CacheTables', 'qcow2 L2 table cache (block/qcow2/tables.ts)', 'qcow2-read.test.ts: at most this many tables held while reading 768'],
  ['maxSnapshots', 'qcow2 snapshot table (block/qcow2/snapshot.ts)', 'qcow2-bad.test.ts: nb_snapshots 0xffffffff is LIMIT'],
  ['maxWalkDepth', 'guest walks (ls -R, copy-out, tar-out: guest/view.ts walk)', 'test/robustness/limits.test.ts: with the limit lowered to robust-limits\'s deepest level the walk is complete, one lower and exactly the deepest directories are reported as LIMIT and not entered (robust-hostile\'s 18-level chain, past PATH_MAX, is walked by copy-out and tar-out in escapes.test.ts)'],
  ['lvmMaxSegments, lvmMaxAreas, lvmMaxListItems', 'LVM VG metadata (volume/lvm/vg-metadata.ts, metadata-text.ts)', 'test/robustness/limits.test.ts: lowered limits, a VG with exactly that many PVs and LV segments is read, one more is LIMIT; a list of exactly the limit parses, one more is refused'],
  ['lvmMaxLvDepth', 'LVs stacked on LVs: mirror/raid legs, stripes on LVs, pvmove0 (volume/lvm/index.ts; a built LV keeps its height, so the check does not depend on which LV reached a shared one first)', 'test/robustness/limits.test.ts: robust-lvm-stack, three PVs copied by LVM\'s tools while a pvmove ran (r → r_rimage_0 → pvmove0 and m → m_mimage_0 → pvmove0 two deep, lin → pvmove0 one deep): at a limit of 2 every LV reads the bytes checksum-device gave, at 1 the two-deep ones are LIMIT, at 0 all three'],
  ['xfsMaxAgHeaders', 'XFS allocation groups whose AGF/AGI statfs reads (fs/xfs/fs.ts)', 'test/robustness/limits.test.ts: statfs of robust-fs\'s v5 XFS (4 AGs) with the limit lowered to 4 equals the unlimited one, at 3 it is LIMIT'],
  ['maxFstabLine, maxFstabEntries', 'fstab parsing (guest/fstab.ts)', 'test/robustness/limits.test.ts: 10,000 entries kept and the next skipped with a note; a line of exactly the limit parsed, a longer one skipped'],
];

// Limits that stay beside their format (the format's own bounds or a reader-local policy).
const LOCAL = [
  ['ext: EXT4 extent depth 5, symlink 4095 bytes, s_log_block_size ≤ 6', 'format (kernel) bounds, fs/ext/*.ts'],
  ['FAT: 20 LFN slots (255 characters)', 'format bound, fs/fat/dirent.ts'],
  ['NTFS: cluster ≤ 2 MiB, record ≤ 64 KiB, attribute list ≤ 256 KiB, compression unit 4096 clusters', 'format bounds, fs/ntfs/*.ts'],
  ['XFS: warnings kept ≤ 100', 'reader policy, fs/xfs/fs.ts (the AG header cap moved to limits.ts as xfsMaxAgHeaders in session 3)'],
  ['qcow2: cluster_bits ≤ 21, backing name ≤ 1023, data-file name ≤ 1023, snapshot extra ≤ 1024', 'QEMU\'s own bounds, block/qcow2/*.ts'],
  ['LVM: ≤ 16 disk areas, ≤ 4 raw locations', 'format bounds, volume/lvm/label.ts, metadata-area.ts'],
  ['probes: exFAT label entries 10,000, FAT root clusters 100, NTFS probe attributes 256', 'probe-local bounds, probe/*.ts'],
];

function limits() {
  const lines = [
    '## Bounds',
    '',
    'Every size read from disk that decides an allocation, a loop count or a recursion depth is',
    'checked against a named limit in packages/core/src/limits.ts (`LIMITS`), through',
    '`allocFromDisk(size, what, limit)` (CORRUPT for a negative or non-integer size, LIMIT above',
    'the limit, nothing allocated) or an explicit check that throws GuestkitError LIMIT (LOOP for',
    'symlinks, as Linux\'s ELOOP). The parsers read `LIMITS` at each use, so a test can lower a',
    'limit to what its image holds. Session 2 moved the policy limits that lived in the LVM, fstab',
    'and guest-walk modules into limits.ts (maxWalkDepth, lvm*, maxFstab*); session 3 the XFS AG',
    'header cap (xfsMaxAgHeaders).',
    '',
    '| limit | value | where | test (at the limit / one past) |',
    '|---|---|---|---|',
  ];
  for (const [name, where, test] of LIMIT_ROWS) {
    const value = name.split(', ').map((n) => LIMITS[n]?.toLocaleString('en-US') ?? '?').join(', ');
    lines.push(`| ${name} | ${value} | ${where} | ${test} |`);
  }
  lines.push('', 'Bounds that stay beside their format (the format\'s own maxima, or one reader\'s policy):', '');
  for (const [what, where] of LOCAL) lines.push(`- ${what}: ${where}.`);
  lines.push('', 'The bit-flip campaign (section corpora) checks the bounds from the other side: no single',
    'allocation larger than the image, no mutant over its time bound.');
  return lines.join('\n');
}

function escapes() {
  return [
    '## Escapes and traversal',
    '',
    'Images: images/recipes/guest-hostile.mjs (names with \'/\', extra "." and ".." entries,',
    'duplicate names, a directory hard-linked into itself and across directories, the',
    'symlink-then-directory trick towards an absolute and a ../../ host path) and',
    'images/recipes/robust-hostile.mjs (names with NUL, ESC/BEL terminal sequences and a newline,',
    'patched into a real mke2fs image; a 255-byte name; a chain of 18 240-byte directories, a path',
    'past PATH_MAX; symlinks to /etc/passwd, ../../../../../../etc/passwd and /etc; one inode in',
    'two directories; an NTFS name of 255 UTF-16 characters, 765 bytes of UTF-8, past NAME_MAX).',
    '',
    '| tool | what is checked | test |',
    '|---|---|---|',
    '| copy-out | nothing outside LOCALDIR changes (sentinel, a symlink to /etc beside it, /etc/passwd hash and mtime); NUL names refused with a warning naming them; names with control characters and newlines created inside, every message one `guestkit:` line with no raw control character; the PATH_MAX chain and the 765-byte NTFS name reported by path (ENAMETOOLONG), the rest copied; symlinks created as symlinks, never followed, also when a second run meets them; the cross-directory hard link is one inode | test/robustness/escapes.test.ts; test/tools-copy-out.test.ts (guest-hostile: \'/\' names, duplicates, loops, symlink-then-directory, symlinks in the way) |',
    '| tar-out | every member name starts with ./ and has no "." or ".." component; NUL names left out with a warning; control characters kept (GNU tar shows them escaped); the PATH_MAX path archived whole (PAX); the hard link is a link member; symlinks are symlink members | test/robustness/escapes.test.ts; test/tools-tar-out.test.ts (guest-hostile) |',
    '| mount | readdir hands the kernel only usable, unique names (before session 2 a \'/\' or "." name made the kernel fail the whole readdir with EIO, and duplicates were listed twice): left-out names are warned about (stderr in --no-fork mode); `find` over the mount lists only paths below it; readlink gives the guest\'s target unresolved; /etc unchanged | test/robustness/escapes.test.ts (guest-hostile and robust-hostile on /dev/fuse) |',
    '| qcow2 backing files | refused (REFUSED, naming the image): absolute paths outside the permitted trees (/etc/passwd, /etc/shadow, devices), "../x" out of the folder, "sub/../../outside" (.. after a real directory), a symlink or a symlinked directory inside the tree leading out (also with --backing-dir naming that tree), json:, file:, nbd:, nbd+unix:, ssh:, http:, https: strings, a directory, a device node; followed: a regular file inside the tree, "sub/../base" staying inside, --backing-dir trees; loops (also through a symlink) are LOOP | test/robustness/escapes.test.ts; packages/core/test/qcow2-chain.test.ts |',
  ].join('\n');
}

function nothingLost(tally) {
  const lines = [
    '## Nothing lost',
    '',
    'test/robustness/nothing-lost.test.ts kills each tool that writes with SIGKILL at random points',
    '(deterministic seed; delays spread over 1.2 × the tool\'s own uninterrupted run time, measured',
    'first), 8 times per tool per run, and checks after every kill that the inputs are',
    'byte-identical (image, .reg file) and that whatever carries its final name is complete:',
    '',
    '- `win-reg --merge --hive FILE`: FILE is byte-identical to the old hive, or its content (.reg',
    '  export) equals the uninterrupted merge\'s (a merge stamps the current time, so bytes differ);',
    '  the merged hive is written to `.FILE.guestkit-HOST-PID.tmp` beside it (created with O_EXCL and',
    '  O_NOFOLLOW), fsync\'d and renamed.',
    '- `tar-out`: TARFILE is the old file or the complete archive (sha256), written as',
    '  `.TARFILE.guestkit-HOST-PID.tmp` and renamed.',
    '- `copy-out`: every regular file under its final name equals the uninterrupted copy\'s.',
    '  Session 2 changed copy-out to write each file as `.guestkit-HOST-PID-N.tmp` in its directory and',
    '  rename it when complete (it used to write under the final name: a kill left a short file).',
    '  Directories may be partly filled after a kill; nothing in them is half-written.',
    '',
    'Temporary files left by a kill never carry a final name, and the next run of the same output',
    'removes them (session 3; packages/core/src/temp-file.ts): HOST is 8 hex digits hashed from',
    'the host name and PID the writer\'s; before writing TARFILE or FILE (copy-out: before its',
    'first file in each directory) a writer removes the temporary files of that output only (the',
    'exact name pattern) whose HOST is this machine\'s and whose PID no longer exists (kill(PID, 0)',
    'fails with ESRCH), and only regular files of its own user (lstat: never a symlink or a',
    'directory, never followed). A live writer\'s file is kept, also under another user (EPERM);',
    'a PID reused since keeps a leftover rather than risk a loss. Tested for each tool (second',
    'describe of nothing-lost.test.ts): a writer stopped (SIGSTOP) inside its write stays alive,',
    'a second one is stopped inside its write and SIGKILLed, then an uninterrupted run: the',
    'killed writer\'s file is gone, the live writer\'s is byte-identical, the output complete;',
    'the live writer, resumed, finishes and renames; another output\'s temporary file is kept',
    '(tar-out). packages/core/test/temp-file.test.ts: other hosts, other users, symlinks,',
    'directories and near-miss names are left alone.',
  ];
  if (tally) {
    lines.push('', '| tool | runs | killed | finished first | output left as before / none | output complete | temporary files left |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const [tool, t] of Object.entries(tally)) {
      lines.push(`| ${tool} | ${t.kills + t.finishedFirst} | ${t.kills} | ${t.finishedFirst} | ${t.oldKept} | ${t.newComplete} | ${t.tempsLeft} |`);
    }
    lines.push('', '(copy-out: "left as before" counts runs that ended with part of the tree copied; each of its',
      'runs writes into a new directory, so its count is every temporary file a kill left. win-reg and',
      'tar-out write the same output each time: the next run removes what a kill left, so at most the',
      'last run\'s is counted. A tool with no temporary file left had no kill land during its final',
      'write: the merge itself takes most of win-reg\'s time.)');
  }
  return lines.join('\n');
}

const tallyFile = process.argv[2];
const tally = tallyFile && existsSync(tallyFile) ? JSON.parse(readFileSync(tallyFile, 'utf8')) : null;
writeSectionIn(file, 'limits', limits());
writeSectionIn(file, 'escapes', escapes());
writeSectionIn(file, 'nothing-lost', nothingLost(tally));

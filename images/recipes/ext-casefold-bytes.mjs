// Names that are not valid UTF-8 in an ext4 casefolded directory, created by the Linux
// kernel of the libguestfs appliance (libext2fs refuses to link such a name into a
// casefolded directory; the kernel, without the strict-encoding flag, accepts it and then
// treats its bytes as opaque: exact-match lookup, htree hash of the raw name: fs/ext4
// ext4fs_dirhash, fs/libfs.c generic_ci_match / ext4_ci_compare). What the kernel calls
// invalid is its utf8 trie's rule, not strict UTF-8: a stray continuation byte after the first
// byte passes through (utf8byte), so 'CONT-\x80' finds 'cont-\x80'.
//   1. mke2fs -O casefold (utf8-12.1), empty;
//   2. debugfs: an empty casefolded directory /ci (+F);
//   3. one appliance: mount; in /ci 500 plain names (file-1000-with-a-longer-name...:
//      enough for the kernel to index the directory, an htree) and the names of NAMES
//      (Latin-1 text, stray continuation bytes, overlong forms, an encoded surrogate, code
//      points past U+10FFFF, truncated and 5-byte sequences, and, as controls, valid names
//      with non-ASCII letters, a noncharacter, U+10FFFF, a private-use and a Unicode 13
//      character), each file holding its name's octal spelling and a newline; unmount; mount
//      again read-only (a cold dentry cache) and look up every name of LOOKUPS (the names,
//      and their ASCII parts upper- and lower-cased); then list the directory.
// Outputs: casefold-bytes.img; kernel.json, the oracle: { lookups: [[octal name, inode or
// null]], entries: [[inode, hex name]], lsattr } (the names' bytes as octal escapes and hex
// so that no text decoding touches them); fsck.log, what e2fsck -fn says (not an oracle).

import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { run, guestfsEnv } from '../lib.mjs';
import { debugfsScript, EXT_FAKE_TIME } from './ext-ext4.mjs';

const L = (s) => Buffer.from(s, 'latin1');
const B = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

/** Names created in /ci besides the 500 plain ones (Buffers: their exact bytes). */
export const NAMES = [
  L('Caf\xe9.txt'), L('CAF\xe9.TXT'), // Latin-1, differing only in ASCII case
  L('bad-\xff-name'), L('BAD-\xff-NAME'), L('Bad-\xff-Name'),
  B('cont-', [0x80]), B('overlong-', [0xc0, 0xaf]), B('surrogate-', [0xed, 0xa0, 0x80]),
  B('above-max-', [0xf4, 0x90, 0x80, 0x80]), B('truncated-', [0xe2, 0x82]), B('truncated-', [0xe2, 0x82], '-mid'),
  B('five-byte-', [0xf8, 0x88, 0x80, 0x80, 0x80]), B('Mixed-Ä-', [0xff]), B('MIXED-Ä-', [0xff]),
  // Controls: valid UTF-8 (folded by the kernel, unless its tables say otherwise).
  B('Valid-Ä.txt'), B('nonchar-\uFFFE'), B('max-\u{10FFFF}'), B('private-\uE000'), B('unassigned-\u{30000}'),
];

const upper = (b) => Buffer.from([...b].map((c) => (c >= 0x61 && c <= 0x7a ? c - 32 : c)));
const lower = (b) => Buffer.from([...b].map((c) => (c >= 0x41 && c <= 0x5a ? c + 32 : c)));

/** Names looked up in /ci: each name, its ASCII upper- and lower-cased forms, plain names. */
export const LOOKUPS = (() => {
  const seen = new Set();
  const out = [];
  for (const n of [...NAMES.flatMap((n) => [n, upper(n), lower(n)]), B('VALID-ä.TXT'), B('FILE-1234-WITH-A-LONGER-NAME'), B('file-9999-with-a-longer-name')]) {
    const k = n.toString('hex');
    if (!seen.has(k)) {
      seen.add(k);
      out.push(n);
    }
  }
  return out;
})();

const UUID = 'e4e4e4e4-cf00-4000-8000-0000000000d1';

/** Octal escapes for the appliance shell's printf: no quoting layer touches the bytes. */
export const octal = (b) => [...b].map((c) => `\\${c.toString(8).padStart(3, '0')}`).join('');

export default {
  name: 'ext-casefold-bytes',
  inputs: ['recipes/ext-ext4.mjs', 'lib.mjs'],
  tools: ['mke2fs', 'e2fsck', 'debugfs', 'guestfish'],
  async build({ out }) {
    const img = join(out, 'casefold-bytes.img');
    run('mke2fs', [
      '-q', '-F', '-t', 'ext4', '-b', '4096', '-O', 'casefold',
      '-E', 'encoding=utf8,hash_seed=e4e4e4e4-cf00-4000-8000-0000000000d0',
      '-U', UUID, '-L', 'cf-bytes', img, '16M',
    ], { env: { ...process.env, E2FSPROGS_FAKE_TIME: String(EXT_FAKE_TIME) } });
    // The name lists, in the image's root (read by the appliance's shell).
    writeFileSync(join(out, 'names.oct'), NAMES.map(octal).join('\n') + '\n');
    writeFileSync(join(out, 'lookups.oct'), LOOKUPS.map(octal).join('\n') + '\n');
    // /ci: +F on an empty directory (EXT4_CASEFOLD_FL | EXT4_EXTENTS_FL) with debugfs, as in
    // ext-casefold.mjs (the appliance kernel's FS_IOC_SETFLAGS refuses +F: EOPNOTSUPP).
    debugfsScript(img, [
      `write ${join(out, 'names.oct')} names.oct`, `write ${join(out, 'lookups.oct')} lookups.oct`,
      'mkdir /ci', 'set_inode_field /ci flags 0x40080000',
    ]);

    const sh = [
      'set -e', 'mkdir -p /tmp/c',
      // The kernel's name for the disk is not always sda (the appliance's own disk may come first).
      `d=$(blkid -U ${UUID})`, 'mount $d /tmp/c', 'cd /tmp/c/ci',
      // Shell builtins only (a process per name is slow under TCG).
      'i=1000; while [ $i -lt 1500 ]; do echo $i > file-$i-with-a-longer-name; i=$((i+1)); done',
      'while read -r l; do n=$(printf "$l"); printf "%s\\n" "$l" > "./$n"; done < /tmp/c/names.oct',
      'cd /', 'umount /tmp/c', 'mount -o ro $d /tmp/c', 'cd /tmp/c/ci',
      'echo "lsattr $(lsattr -d /tmp/c/ci)"',
      'while read -r l; do n=$(printf "$l"); i=$(stat -c %i -- "./$n" 2>/dev/null || echo none); echo "lookup $l $i"; done < /tmp/c/lookups.oct',
      // GNU ls writes names as raw bytes when not on a terminal (none has a newline).
      'echo entries-begin', 'ls -1ai', 'echo entries-end',
      'cd /', 'umount /tmp/c',
    ].join('; ');
    const q = sh.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    const r = spawnSync('guestfish', [], {
      input: `add-drive ${img} format:raw\nrun\ndebug sh "${q}"\n`,
      env: guestfsEnv(), encoding: 'latin1', maxBuffer: 1 << 26,
    });
    if (r.status !== 0) throw new Error(`guestfish (${img}): ${r.stderr}${r.stdout}`);
    const lines = r.stdout.split('\n');
    const lsattr = lines.find((l) => l.startsWith('lsattr '))?.slice(7) ?? '';
    // The appliance's shell (dash) echoes the octal escapes back as bytes; bash keeps them:
    // match either spelling.
    const answers = new Map();
    for (const l of lines.filter((x) => x.startsWith('lookup '))) {
      const body = l.slice(7);
      const sp = body.lastIndexOf(' ');
      answers.set(body.slice(0, sp), body.slice(sp + 1));
    }
    const lookups = LOOKUPS.map((n) => {
      const a = answers.get(octal(n)) ?? answers.get(n.toString('latin1'));
      if (a === undefined) throw new Error(`no kernel answer for ${octal(n)}:\n${r.stdout}`);
      return [octal(n), a === 'none' ? null : Number(a)];
    });
    const listing = lines.slice(lines.indexOf('entries-begin') + 1, lines.indexOf('entries-end'));
    const entries = listing.map((l) => /^\s*(\d+) (.*)$/.exec(l))
      .filter((m) => m && m[2] !== '.' && m[2] !== '..')
      .map((m) => [Number(m[1]), Buffer.from(m[2], 'latin1').toString('hex')]);
    if (entries.length < 500 || !/F/.test(lsattr.split(' ')[0]) || !/I/.test(lsattr.split(' ')[0])) {
      throw new Error(`the kernel did not make an indexed casefolded /ci (lsattr ${lsattr}, ${entries.length} entries):\n${r.stdout}${r.stderr}`);
    }
    writeFileSync(join(out, 'kernel.json'), JSON.stringify({ lsattr, lookups, entries }, null, 1) + '\n');
    // (debugfs cannot hash the names that are not UTF-8 and reports that for their leaves.)
    const htree = spawnSync('debugfs', ['-R', 'htree /ci', img], { encoding: 'latin1' }).stdout;
    if (!/Root node dump/.test(htree)) throw new Error(`${img}: /ci is not indexed`);
    // What e2fsck 1.47 makes of the kernel's names (informational: not an oracle).
    const fsck = spawnSync('e2fsck', ['-fn', img], { encoding: 'latin1' });
    writeFileSync(join(out, 'fsck.log'), `exit ${fsck.status}\n${fsck.stdout}${fsck.stderr}`);
  },
};

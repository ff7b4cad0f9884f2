// An ext4 with the casefold feature (encoding utf8-12.1) and one casefolded directory, /ci
// (flag +F, set with debugfs: chattr +F needs a mounted filesystem), holding 400 plain names
// (so that e2fsck -D indexes it: an htree keyed by the hashes of the casefolded names) and
// names that exercise the kernel's folding: ß and full case folding, NFC vs NFD, the Kelvin
// sign, the ﬁ ligature, İ (folds to i + U+0307) and dotless ı (does not fold to i), a
// zero-width space (ignorable), a Hangul syllable vs its conjoining jamo, combining marks in
// non-canonical order, and U+A7C0 (assigned in Unicode 14: no folding in utf8-12.1).
// lookups.json (and /lookups.oct in the image): the names test/ext-casefold looks up; the
// kernel's answers are in packages/core/test/ext-casefold.kernel.json.
// (libext2fs cannot link a name that is not valid UTF-8 into a casefolded directory, so
// there is none here.)

import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { run } from '../lib.mjs';
import { debugfsScript, e2fsck, EXT_FAKE_TIME } from './ext-ext4.mjs';

/** Names stored in /ci besides the 400 plain ones. */
export const CASEFOLD_NAMES = [
  'Straße.txt', 'Café', 'ΣΊΣΥΦΟΣ', 'k-kelvin', 'ﬁne-print', 'İstanbul', 'dotless-ı',
  'zero\u200bwidth', '한글', 'dots-a\u0307\u0323', 'new-\uA7C0', 'MiXeD-Case.TXT',
];

/** Names looked up in /ci. */
export const CASEFOLD_LOOKUPS = [
  'STRASSE.TXT', 'strasse.txt', 'Straße.txt', 'Cafe\u0301', 'CAFÉ', 'σίσυφος', 'σίσυφοσ', '\u212A-KELVIN',
  'FINE-PRINT', 'i\u0307stanbul', 'istanbul', 'ISTANBUL', 'DOTLESS-I', 'DOTLESS-ı', 'zerowidth',
  'ZERO\u200bWIDTH', '\u1112\u1161\u11AB\u1100\u1173\u11AF', 'dots-a\u0323\u0307', 'DOTS-A\u0307\u0323',
  'new-\uA7C1', 'new-\uA7C0', 'NEW-\uA7C0', 'mixed-case.txt', 'MIXED-CASE.TXT',
  'FILE-0123-WITH-A-LONGER-NAME', 'file-9999-with-a-longer-name',
];

export default {
  name: 'ext-casefold',
  inputs: ['recipes/ext-ext4.mjs'],
  tools: ['mke2fs', 'e2fsck', 'debugfs'],
  async build({ out }) {
    const tree = join(out, 'tree');
    mkdirSync(tree, { recursive: true });
    const names = [];
    for (let i = 0; i < 400; i++) names.push(`file-${String(i).padStart(4, '0')}-with-a-longer-name`);
    names.push(...CASEFOLD_NAMES);
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const n of names) writeFileSync(join(tree, n), `${n}\n`);
    const img = join(out, 'casefold.img');
    run('mke2fs', [
      '-q', '-F', '-t', 'ext4', '-b', '4096', '-O', 'casefold',
      '-E', 'encoding=utf8,hash_seed=e4e4e4e4-cf00-4000-8000-0000000000c0',
      '-U', 'e4e4e4e4-cf00-4000-8000-0000000000c1', '-L', 'casefold', img, '16M',
    ], { env: { ...process.env, E2FSPROGS_FAKE_TIME: String(EXT_FAKE_TIME) } });
    // +F on an empty directory (EXT4_CASEFOLD_FL | EXT4_EXTENTS_FL), then the names.
    debugfsScript(img, ['mkdir /ci', 'set_inode_field /ci flags 0x40080000']);
    debugfsScript(img, ['cd /ci', ...names.map((n) => `write ${join(tree, n)} ${n}`)]);
    e2fsck(['-fyD'], img);
    e2fsck(['-fn'], img);
    const htree = debugfsScript(img, ['htree /ci'], { write: false });
    if (!/Root node dump/.test(htree)) throw new Error(`${img}: /ci is not indexed`);
    writeFileSync(join(out, 'lookups.json'), JSON.stringify(CASEFOLD_LOOKUPS));
    // The same names, octal-escaped for the shell's printf, in /lookups.oct: what the kernel
    // oracle (packages/core/test/ext-casefold-kernel.mjs) looks up, read from the image itself.
    const octal = (s) => [...Buffer.from(s)].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
    writeFileSync(join(out, 'lookups.oct'), CASEFOLD_LOOKUPS.map(octal).join('\n') + '\n');
    debugfsScript(img, [`write ${join(out, 'lookups.oct')} lookups.oct`]);
    e2fsck(['-fn'], img);
  },
};

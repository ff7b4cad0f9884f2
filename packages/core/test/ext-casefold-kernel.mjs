#!/usr/bin/env node
// Regenerates ext-casefold.kernel.json: every name of images/out/ext-casefold/lookups.json
// looked up (stat) by the Linux kernel of the libguestfs appliance in /ci of a read-only
// mount of casefold.img, recorded as the stored name it found (or null). One appliance
// launch. The names go in through a second disk (octal escapes, one per line) so that no
// quoting layer touches their bytes.
//   node packages/core/test/ext-casefold-kernel.mjs

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const out = join(root, 'images', 'out', 'ext-casefold');
if (spawnSync('node', [join(root, 'images', 'build.mjs'), 'ext-casefold'], { stdio: 'inherit' }).status !== 0) process.exit(1);
const lookups = JSON.parse(readFileSync(join(out, 'lookups.json'), 'utf8'));

const tmp = mkdtempSync(join(tmpdir(), 'gk-casefold-'));
const octal = (s) => [...Buffer.from(s)].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
let text = lookups.map(octal).join('\n') + '\n';
text += '\n'.repeat(4096 - (text.length % 4096));
writeFileSync(join(tmp, 'lookups.img'), text);
const script = [
  `add-drive ${join(out, 'casefold.img')} format:raw readonly:true`,
  `add-drive ${join(tmp, 'lookups.img')} format:raw readonly:true`,
  'run',
  'debug sh "mkdir -p /tmp/c; mount -o ro /dev/sda /tmp/c; while read -r l; do [ -n \\"$l\\" ] || continue; n=$(printf \\"$l\\"); ' +
    'i=$(stat -c %i \\"/tmp/c/ci/$n\\" 2>/dev/null || echo none); echo \\"$l $i\\"; done < /dev/sdb; umount /tmp/c"',
].join('\n') + '\n';
const r = spawnSync('guestfish', [], {
  input: script, encoding: 'utf8',
  env: { ...process.env, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' },
});
rmSync(tmp, { recursive: true, force: true });
if (r.status !== 0) throw new Error(`guestfish: ${r.stderr}`);

// Inode → stored name, from debugfs (independent of guestkit).
const ls = spawnSync('debugfs', ['-R', 'ls -l /ci', join(out, 'casefold.img')], { encoding: 'latin1' }).stdout;
const byIno = new Map();
for (const line of ls.split('\n')) {
  const m = /^\s*(\d+)\s+\d+\s+\(\d+\)\s+\d+\s+\d+\s+\d+\s+\S+\s+\S+\s+(.*)$/.exec(line);
  // debugfs prints bytes >= 0x80 as \xNN.
  if (m) byIno.set(m[1], Buffer.from(m[2].replace(/\\x([0-9a-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'));
}
const answers = new Map(r.stdout.trim().split('\n').map((l) => l.split(' ')));
const result = {};
for (const name of lookups) {
  const ino = answers.get(octal(name));
  if (ino === undefined) throw new Error(`no answer for ${JSON.stringify(name)}`);
  result[name] = ino === 'none' ? null : byIno.get(ino) ?? `inode ${ino}`;
}
writeFileSync(join(here, 'ext-casefold.kernel.json'), JSON.stringify(result, null, 1) + '\n');
console.log(result);

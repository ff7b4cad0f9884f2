#!/usr/bin/env node
// Regenerates ext-casefold.kernel.json: every name of images/out/ext-casefold/lookups.json
// looked up (stat) by the Linux kernel of the libguestfs appliance in /ci of a read-only
// mount of casefold.img, recorded as the stored name it found (or null). One appliance
// launch (the disk is found by its label: the kernel does not always call it sda). The
// names are read from /lookups.oct in the image (octal escapes for printf, one per line) so
// that no quoting layer touches their bytes.
//   node packages/core/test/ext-casefold-kernel.mjs

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const out = join(root, 'images', 'out', 'ext-casefold');
if (spawnSync('node', [join(root, 'images', 'build.mjs'), 'ext-casefold'], { stdio: 'inherit' }).status !== 0) process.exit(1);
const lookups = JSON.parse(readFileSync(join(out, 'lookups.json'), 'utf8'));

const octal = (s) => [...Buffer.from(s)].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
const script = [
  `add-drive ${join(out, 'casefold.img')} format:raw readonly:true`,
  'run',
  'debug sh "mkdir -p /tmp/c; mount -o ro $(blkid -L casefold) /tmp/c; while read -r l; do [ -n \\"$l\\" ] || continue; n=$(printf \\"$l\\"); ' +
    'i=$(stat -c %i \\"/tmp/c/ci/$n\\" 2>/dev/null || echo none); echo \\"$l $i\\"; done < /tmp/c/lookups.oct; umount /tmp/c"',
].join('\n') + '\n';
// KERNEL_OUTPUT=FILE: the appliance's output saved from an earlier run (no launch).
const r = process.env.KERNEL_OUTPUT
  ? { status: 0, stdout: readFileSync(process.env.KERNEL_OUTPUT, 'utf8'), stderr: '' }
  : spawnSync('guestfish', [], {
    input: script, encoding: 'utf8',
    env: { ...process.env, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' },
  });
if (r.status !== 0) throw new Error(`guestfish: ${r.stderr}`);

// Inode → stored name, from debugfs (independent of guestkit).
const ls = spawnSync('debugfs', ['-R', 'ls -l /ci', join(out, 'casefold.img')], { encoding: 'latin1' }).stdout;
const byIno = new Map();
for (const line of ls.split('\n')) {
  const m = /^\s*(\d+)\s+\d+\s+\(\d+\)\s+\d+\s+\d+\s+\d+\s+\S+\s+\S+\s+(.*)$/.exec(line);
  // debugfs prints bytes >= 0x80 as \xNN.
  if (m) byIno.set(m[1], Buffer.from(m[2].replace(/\\x([0-9a-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'));
}
// "NAME INODE" lines; the appliance's echo (dash) has already turned the octal escapes back
// into the name's bytes, and other shells may not: both spellings are accepted.
const answers = new Map(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.lastIndexOf(' ')), l.slice(l.lastIndexOf(' ') + 1)]));
const result = {};
for (const name of lookups) {
  const ino = answers.get(octal(name)) ?? answers.get(name);
  if (ino === undefined) throw new Error(`no answer for ${JSON.stringify(name)}:\n${r.stdout}\n${r.stderr}`);
  result[name] = ino === 'none' ? null : byIno.get(ino) ?? `inode ${ino}`;
}
writeFileSync(join(here, 'ext-casefold.kernel.json'), JSON.stringify(result, null, 1) + '\n');
console.log(result);

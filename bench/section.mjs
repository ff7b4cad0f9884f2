// Replace one marked section of BENCHMARKS.md (or ROBUSTNESS.md): <!-- section:NAME --> ... <!-- /section:NAME -->.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Replace section NAME of BENCHMARKS.md. */
export function writeSection(name, markdown) {
  writeSectionIn(join(root, 'BENCHMARKS.md'), name, markdown);
}

/** Replace section NAME of another marked file of the repository (e.g. ROBUSTNESS.md). */
export function writeSectionIn(file, name, markdown) {
  let s = readFileSync(file, 'utf8');
  const open = `<!-- section:${name} -->`;
  const close = `<!-- /section:${name} -->`;
  const body = `${open}\n${markdown.trim()}\n${close}`;
  const a = s.indexOf(open);
  const b = s.indexOf(close);
  if (a >= 0 && b > a) s = s.slice(0, a) + body + s.slice(b + close.length);
  else s = `${s.trimEnd()}\n\n${body}\n`;
  writeFileSync(`${file}.tmp`, s);
  renameSync(`${file}.tmp`, file);
}

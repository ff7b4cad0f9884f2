// Replace one marked section of BENCHMARKS.md: <!-- section:NAME --> ... <!-- /section:NAME -->.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'BENCHMARKS.md');

export function writeSection(name, markdown) {
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

// Windows registry: regf hives (base block, hive bins, nk/vk/sk/lf/lh/li/ri/db cells) and
// .reg text (the input of `win-reg --merge`).

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Hive, HiveWriter, decodeRegFile, parseRegText, type RegKey } from '@guestkit/registry';
import { guarded } from '../lib/walk.js';

const ROOT = process.env.GUESTKIT_FUZZ_ROOT ?? resolve(__dirname, '..', '..');
/** The hive .reg inputs are merged into: a small SOFTWARE hive from images/, else libguestfs's minimal hive. */
let baseHive: Uint8Array | null | undefined;
function base(): Uint8Array | null {
  if (baseHive === undefined) {
    const p = [join(ROOT, 'images', 'out', 'reg-hives', 'software.hive'), resolve(ROOT, '..', 'shared', 'samples', 'libguestfs', 'minimal-hive')].find(existsSync);
    baseHive = p ? new Uint8Array(readFileSync(p)) : null;
  }
  return baseHive;
}
/** Operations applied per input. */
const MAX_OPS = 200;

const MAX_KEYS = 3000;

/**
 * Open a hive and walk it as `win-reg --export` does: every key's name, class, security,
 * values (name, type, data). Odd-length inputs are opened in hivex's "unsafe" mode.
 */
export function fuzzRegf(data: Uint8Array, maxKeys = MAX_KEYS): void {
  const hive = guarded(() => Hive.open(data, { name: 'fuzz hive', unsafe: data.length % 2 === 1 }));
  if (!hive) return;
  const root = guarded(() => hive.root());
  if (!root) return;
  const queue: RegKey[] = [root];
  let keys = 0;
  while (queue.length && keys < maxKeys) {
    const k = queue.shift()!;
    keys++;
    guarded(() => k.name);
    guarded(() => k.className());
    guarded(() => k.security());
    guarded(() => k.path());
    for (const v of guarded(() => k.values()) ?? []) {
      guarded(() => [v.name, v.type, v.typeName, v.size]);
      guarded(() => v.data());
    }
    for (const s of guarded(() => k.subkeys()) ?? []) queue.push(s);
  }
  guarded(() => hive.get('\\Software\\Microsoft'));
}

/**
 * `win-reg --merge` in memory: decode (UTF-16LE/BE BOM or UTF-8) and parse a .reg file, apply
 * its operations to a hive (HiveWriter), commit, and walk the written hive.
 */
export function fuzzRegImport(data: Uint8Array): void {
  const text = guarded(() => decodeRegFile(data));
  if (text === undefined) return;
  const ops = guarded(() => parseRegText(text, { file: 'fuzz.reg' }));
  const hiveBytes = base();
  if (!ops || !hiveBytes) return;
  const w = guarded(() => new HiveWriter(Hive.open(hiveBytes, { name: 'base hive' })));
  if (!w) return;
  for (const op of ops.slice(0, MAX_OPS)) guarded(() => w.applyRegOp(op, op.path.replace(/^HKEY_LOCAL_MACHINE\\SOFTWARE/i, '')));
  const out = guarded(() => w.commit());
  if (out) fuzzRegf(out, 300);
}

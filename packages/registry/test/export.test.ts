// .reg export and single-value output on hives made by hivexregedit --merge from our fixtures
// (images/recipes/reg-hives.mjs, reg-wide.mjs), held byte for byte against hivexregedit
// --export and hivexget (what virt-win-reg runs), and value data against the fixtures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  openHiveFile,
  exportReg,
  formatValueAlone,
  lookupForExport,
  lookupForValue,
  lookupValue,
  parseRegText,
  REGEDIT_HEADER,
  type ExportOptions,
  type Hive,
  type RegKey,
} from '@guestkit/registry';
import { ensureImage } from '../../../test/helpers/images';
import { hivexExport, hivexget } from './helpers';

let dir: string;
beforeAll(() => {
  dir = ensureImage('reg-hives');
});
const quiet = { warn: () => {} };
const open = (f: string): Hive => openHiveFile(join(dir, f), quiet);

/** Our export of `path` with hivexregedit's header, as `hivexregedit --export` prints it. */
async function ours(h: Hive, path: string, opts: ExportOptions = {}): Promise<Buffer> {
  const key = lookupForExport(h, path);
  if (!key) throw new Error(`${path}: not found`);
  const chunks: Uint8Array[] = [Buffer.from(REGEDIT_HEADER)];
  await exportReg(key, (c) => void chunks.push(c), opts);
  return Buffer.concat(chunks);
}

function allKeys(k: RegKey): RegKey[] {
  const out: RegKey[] = [];
  const stack = [k];
  while (stack.length > 0) {
    const x = stack.pop()!;
    out.push(x);
    stack.push(...x.subkeys());
  }
  return out;
}

describe('fixtures.hive (every value type, Unicode names, deep, big values)', () => {
  test('root export equals hivexregedit, plain and with --unsafe-printable-strings', async () => {
    const h = open('fixtures.hive');
    const file = join(dir, 'fixtures.hive');
    expect((await ours(h, '\\')).equals(await hivexExport(file, '\\'))).toBe(true);
    expect((await ours(h, '\\', { unsafePrintableStrings: true })).equals(await hivexExport(file, '\\', ['--unsafe-printable-strings']))).toBe(true);
  });

  test('each top-level key, with a prefix, and looked up in another case', async () => {
    const h = open('fixtures.hive');
    const file = join(dir, 'fixtures.hive');
    for (const k of h.root().subkeys()) {
      const p = `\\${k.name}`;
      expect((await ours(h, p)).equals(await hivexExport(file, p))).toBe(true);
      expect((await ours(h, p.toLowerCase(), { prefix: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\' })).equals(await hivexExport(file, p.toLowerCase(), ['--prefix', 'HKEY_LOCAL_MACHINE\\SOFTWARE\\']))).toBe(true);
    }
  });

  test('--max-depth as hivexregedit counts it', async () => {
    const h = open('fixtures.hive');
    const file = join(dir, 'fixtures.hive');
    for (const d of [0, 1, 3]) {
      expect((await ours(h, '\\Deep', { maxDepth: d })).equals(await hivexExport(file, '\\Deep', ['--max-depth', String(d)]))).toBe(true);
    }
  });

  test('a key 200 levels deep', async () => {
    const h = open('fixtures.hive');
    const path = '\\Deep' + Array.from({ length: 200 }, (_, i) => `\\L${i + 1}`).join('');
    const k = h.get(path)!;
    expect(k.path()).toBe(path);
    expect([...k.value('level')!.data()]).toEqual([200, 0, 0, 0]);
    const mid = path.split('\\').slice(0, 120).join('\\');
    expect((await ours(h, mid)).equals(await hivexExport(join(dir, 'fixtures.hive'), mid))).toBe(true);
  });

  test('every value alone, as hivexget prints it', async () => {
    const h = open('fixtures.hive');
    const file = join(dir, 'fixtures.hive');
    for (const keyPath of ['\\Types', '\\Big']) {
      const key = lookupForValue(h, keyPath);
      for (const v of key.values()) {
        const name = v.name === '' ? '@' : v.name;
        const ref = await hivexget(file, keyPath, name);
        if (ref.status !== 0) {
          // hivexsh refuses strings that are not valid UTF-16 (a lone surrogate, an odd length it cannot convert).
          expect(['sz-lone-surrogate']).toContain(v.name);
          continue;
        }
        expect(Buffer.from(formatValueAlone(lookupValue(key, name)!)).equals(ref.stdout), `${keyPath} ${name}`).toBe(true);
      }
    }
  });

  test('value data equals the fixture it was merged from', async () => {
    const h = open('fixtures.hive');
    const ops = parseRegText(readFileSync(join(dir, 'reg', 'big.reg'), 'utf8'));
    const big = ops.find((o) => o.op === 'mergeKey' && o.path === '\\Big');
    if (!big || big.op !== 'mergeKey') throw new Error('no \\Big in big.reg');
    for (const v of big.set) {
      const got = h.get('\\Big')!.value(v.name)!;
      expect(got.type).toBe(v.type);
      expect(Buffer.from(got.data()).equals(Buffer.from(v.data))).toBe(true);
    }
    expect(h.get('\\ManyValues')!.valueCount).toBe(300);
  });

  test('Unicode and Latin-1 names; lookup is case-insensitive as Windows (not only ASCII)', async () => {
    const h = open('fixtures.hive');
    const u = h.get('\\Unicode')!;
    expect(u.subkeys().map((k) => k.name)).toContain('🌎🌏🌍');
    expect(h.get('\\unicode\\CAFÉ')!.name).toBe('café');
    expect(h.get('\\UNICODE\\ελληνικά')!.name).toBe('Ελληνικά');
    expect(h.get('\\Types')!.value('ünïcödé')!.name).toBe('Ünïcödé');
    expect(h.get('\\Types')!.value('')!.name).toBe('');
  });
});

describe('libguestfs phony Windows hives (windows-software.reg, windows-system.reg)', () => {
  for (const [file, prefix] of [
    ['software.hive', 'HKEY_LOCAL_MACHINE\\SOFTWARE'],
    ['system.hive', 'HKEY_LOCAL_MACHINE\\SYSTEM'],
  ]) {
    test(`${file}: every key exports as hivexregedit --export --prefix`, async () => {
      const h = open(file);
      const f = join(dir, file);
      for (const k of allKeys(h.root())) {
        const p = k.path();
        expect((await ours(h, p, { prefix })).equals(await hivexExport(f, p, ['--prefix', prefix])), p).toBe(true);
      }
    });
  }

  test('the merged .reg text comes back out (merge and export are inverse on this data)', async () => {
    const h = open('software.hive');
    const text = (await ours(h, '\\Microsoft\\Windows NT\\CurrentVersion', { prefix: 'HKEY_LOCAL_MACHINE\\SOFTWARE', unsafePrintableStrings: true })).toString('utf8');
    expect(text).toContain('[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion]\n');
    expect(text).toContain('"ProductName"=str(1):"Microsoft Windows 7 Phony Edition"\n');
  });
});

describe('reg-wide: one key with 10,000 subkeys (hivex, ~420 MB of mostly free cells)', () => {
  test('opens, lists and exports as hivexregedit', async () => {
    const d = ensureImage('reg-wide');
    const file = join(d, 'wide.hive');
    const h = openHiveFile(file, quiet);
    const w = h.get('\\Wide')!;
    expect(w.subkeyCount).toBe(10000);
    const names = w.subkeys().map((k) => k.name);
    expect(names[0]).toBe('k00000');
    expect(names[9999]).toBe('k09999');
    expect([...h.get('\\WIDE\\K04242')!.value('i')!.data()]).toEqual([0x92, 0x10, 0, 0]);
    expect((await ours(h, '\\Wide')).equals(await hivexExport(file, '\\Wide'))).toBe(true);
  }, 180_000);
});

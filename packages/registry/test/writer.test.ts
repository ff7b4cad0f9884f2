// The writer, held against hivex: the same .reg merged by our writer and by hivexregedit gives
// hives that hivexregedit --export and reglookup read back identically; a merge changes exactly
// what it says; new lists are sorted lh/lf leaves (under an ri when large), big values become db
// records in regf 1.5, and nothing is written when something fails.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  Hive,
  HiveWriter,
  openHiveFile,
  parseRegText,
  readHiveFile,
  replaceFileAtomic,
  collectSubkeys,
  filetimeFromMs,
  type RegImportOp,
} from '@guestkit/registry';
import { ensureImage } from '../../../test/helpers/images';
import { MINIMAL_HIVE, hivexExport, hivexMerge, reglookup, regipy, tempDir } from './helpers';

let dir: string;
beforeAll(() => {
  dir = ensureImage('reg-hives');
});
const quiet = { warn: () => {} };
const NOW = filetimeFromMs(Date.UTC(2024, 0, 2, 3, 4, 5));
let n = 0;
const tmpFile = (name: string) => join(tempDir(), `${n++}-${name}`);

/** Merge .reg texts into a copy of `base` with our writer; returns the new hive's path. */
function ourMerge(base: string, regs: string[], prefix?: string): string {
  const h = openHiveFile(base, quiet);
  const w = new HiveWriter(h, { now: NOW });
  for (const text of regs) {
    for (const op of parseRegText(text)) w.applyRegOp(op, stripPrefix(op, prefix));
  }
  const out = tmpFile('ours.hive');
  writeFileSync(out, w.commit());
  return out;
}

function stripPrefix(op: RegImportOp, prefix?: string): string {
  if (prefix && op.path.toLowerCase().startsWith(prefix.toLowerCase())) return op.path.slice(prefix.length);
  return op.path;
}

function hivexMergeCopy(base: string, regs: string[], prefix?: string): string {
  const out = tmpFile('hivex.hive');
  copyFileSync(base, out);
  for (const text of regs) {
    const reg = tmpFile('change.reg');
    writeFileSync(reg, text);
    hivexMerge(out, reg, prefix);
  }
  return out;
}

const reg = (name: string) => readFileSync(join(dir, 'reg', name), 'utf8');

describe('our merge = hivexregedit --merge, as read back by hivex and reglookup', () => {
  test('every fixture (types, Unicode, deep chain, big values) into minimal-hive (regf 1.5)', async () => {
    const ours = ourMerge(MINIMAL_HIVE(), ['types.reg', 'unicode.reg', 'deep.reg', 'big.reg'].map(reg));
    const theirs = join(dir, 'fixtures.hive');
    expect((await hivexExport(ours, '\\')).equals(await hivexExport(theirs, '\\'))).toBe(true);
    expect(await reglookup(ours)).toEqual(await reglookup(theirs));
    // Our reader agrees with itself and the hive is clean and consistent.
    const h = openHiveFile(ours, quiet);
    expect(h.dirty).toBe(false);
    expect(h.base.checksumValid).toBe(true);
    expect(h.base.minorVersion).toBe(5);
    expect(h.cells.signature(h.get('\\Unicode')!.nk.subkeysListOffset)).toBe('lh');
    // hivex stores big values in one cell; we write big data records as Windows does, and both read back the same.
    expect(h.cells.signature(h.get('\\Big')!.value('large')!.vk.dataOffset)).toBe('db');
    expect(openHiveFile(theirs, quiet).cells.signature(openHiveFile(theirs, quiet).get('\\Big')!.value('large')!.vk.dataOffset)).not.toBe('db');
  });

  test("libguestfs's phony SOFTWARE and SYSTEM .reg files with --prefix", async () => {
    const P = (s: string) => readFileSync(join(MINIMAL_HIVE(), '..', s), 'utf8');
    for (const [file, hive, prefix] of [
      ['windows-software.reg', 'software.hive', 'HKEY_LOCAL_MACHINE\\SOFTWARE'],
      ['windows-system.reg', 'system.hive', 'HKEY_LOCAL_MACHINE\\SYSTEM'],
    ]) {
      const ours = ourMerge(MINIMAL_HIVE(), [P(file)], prefix);
      expect((await hivexExport(ours, '\\')).equals(await hivexExport(join(dir, hive), '\\'))).toBe(true);
      expect(await reglookup(ours)).toEqual(await reglookup(join(dir, hive)));
    }
  });
});

describe('a merge shows exactly the change', () => {
  const change = [
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\test1]',
    '"DisplayVersion"="9.9.9"', // replaced
    '"URLInfoAbout"=-', // deleted
    '"NewDword"=dword:0000abcd', // added
    '"NewQword"=hex(b):01,00,00,00,00,00,00,00',
    '"NewMulti"=hex(7):61,00,00,00,00,00',
    '',
    '[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\test2]',
    '',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\test5]',
    '@="default of a new key"',
    '"Big"=hex:' + Array.from({ length: 20000 }, (_, i) => (i & 0xff).toString(16).padStart(2, '0')).join(','),
    '',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\test4]',
    '@=-',
    '"Comments"=-',
    '',
  ].join('\n');
  const prefix = 'HKEY_LOCAL_MACHINE\\SOFTWARE';

  test('hivex reads our result exactly as it reads its own result of the same merge', async () => {
    const base = join(dir, 'software.hive');
    const before = (await hivexExport(base, '\\')).toString('latin1');
    const ours = ourMerge(base, [change], prefix);
    const theirs = hivexMergeCopy(base, [change], prefix);
    const after = (await hivexExport(ours, '\\')).toString('latin1');
    expect(after).toBe((await hivexExport(theirs, '\\')).toString('latin1'));
    expect(await reglookup(ours)).toEqual(await reglookup(theirs));
    // The difference, line by line: what was removed and what was added.
    const b = new Set(before.split('\n'));
    const a = new Set(after.split('\n'));
    expect([...b].filter((l) => !a.has(l)).sort()).toEqual(
      [
        '"DisplayVersion"=hex(1):31,00,2e,00,32,00,2e,00,33,00,00,00',
        '"URLInfoAbout"=hex(1):68,00,74,00,74,00,70,00,3a,00,2f,00,2f,00,6c,00,69,00,62,00,67,00,75,00,65,00,73,00,74,00,66,00,73,00,2e,00,6f,00,72,00,67,00,2f,00,00,00',
        '[\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\test2]',
        '"Comments"=hex(1):' + [...Buffer.from('WOW6432node is where 32 bit emulated apps are installed on 64 bit Windows\0', 'utf16le')].map((x) => x.toString(16).padStart(2, '0')).join(','),
        '"DisplayName"=hex(1):' + [...Buffer.from('Test2 is not real software\0', 'utf16le')].map((x) => x.toString(16).padStart(2, '0')).join(','),
        '"DisplayVersion"=hex(1):31,00,2e,00,32,00,2e,00,34,00,00,00',
        '"Comments"=hex(1):' + [...Buffer.from('Longer description about phony test2 software\0', 'utf16le')].map((x) => x.toString(16).padStart(2, '0')).join(','),
      ].sort(),
    );
    const added = [...a].filter((l) => !b.has(l));
    expect(added.filter((l) => !l.startsWith('"Big"'))).toEqual([
      '"DisplayVersion"=hex(1):39,00,2e,00,39,00,2e,00,39,00,00,00',
      '"NewDword"=dword:0000abcd',
      '"NewMulti"=hex(7):61,00,00,00,00,00',
      '"NewQword"=hex(b):01,00,00,00,00,00,00,00',
      '[\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\test5]',
      '@=hex(1):' + [...Buffer.from('default of a new key\0', 'utf16le')].map((x) => x.toString(16).padStart(2, '0')).join(','),
    ]);
    // Changed keys carry the writer's timestamp; untouched keys keep theirs.
    const h = openHiveFile(ours, quiet);
    expect(h.get('\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\test1')!.lastWritten).toBe(NOW);
    expect(h.get('\\Microsoft\\Windows\\CurrentVersion\\Uninstall')!.lastWritten).toBe(NOW); // a subkey came and went
    expect(h.get('\\Microsoft\\Windows NT')!.lastWritten).toBe(openHiveFile(base, quiet).get('\\Microsoft\\Windows NT')!.lastWritten);
    expect(h.base.primarySequence).toBe(openHiveFile(base, quiet).base.primarySequence + 1);
  });
});

describe('regf 1.5: lh leaves under an index root, big data records', () => {
  test('10,000 subkeys and values over 16 KiB merged into a real SYSTEM hive', async () => {
    const { wideReg } = await import('../../../images/fixtures/reg-wide.mjs');
    const base = regipy('SYSTEM');
    const ours = ourMerge(base, [wideReg(10000), reg('big.reg')]);
    const h = openHiveFile(ours, quiet);
    expect(h.base.minorVersion).toBe(5);
    const wide = h.get('\\Wide')!;
    expect(h.cells.signature(wide.nk.subkeysListOffset)).toBe('ri');
    const lists = collectSubkeys(h.cells, wide.nk.subkeysListOffset, 'test');
    expect(lists.lists.length).toBe(1 + Math.ceil(10000 / 506));
    expect(lists.lists.slice(1).every((l) => h.cells.signature(l) === 'lh')).toBe(true);
    const big = h.get('\\Big')!;
    const large = big.value('large')!;
    expect(h.cells.signature(large.vk.dataOffset)).toBe('db');
    expect(h.cells.signature(big.value('just-below')!.vk.dataOffset)).not.toBe('db');
    expect(h.cells.signature(big.value('just-above')!.vk.dataOffset)).toBe('db');
    // hivex (which reads db records and index roots) sees the same keys and values as in the hives it made itself.
    expect((await hivexExport(ours, '\\Big')).equals(await hivexExport(join(dir, 'fixtures.hive'), '\\Big'))).toBe(true);
    expect((await hivexExport(ours, '\\ManyValues')).equals(await hivexExport(join(dir, 'fixtures.hive'), '\\ManyValues'))).toBe(true);
    expect((await hivexExport(ours, '\\Wide')).equals(await hivexExport(join(ensureImage('reg-wide'), 'wide.hive'), '\\Wide'))).toBe(true);
    // reglookup reads the big data records too.
    const rl = (await reglookup(ours)).filter((l) => l.startsWith('/Big/'));
    const rlRef = (await reglookup(join(dir, 'fixtures.hive'))).filter((l) => l.startsWith('/Big/'));
    expect(rl).toEqual(rlRef);
    // The rest of SYSTEM is untouched.
    expect((await hivexExport(ours, '\\Select')).equals(await hivexExport(base, '\\Select'))).toBe(true);
  }, 180_000);

  test('deleting a key frees its subtree; security records keep their reference counts', async () => {
    const base = join(dir, 'fixtures.hive');
    const del = '[-\\Unicode]\n\n[-\\Deep\\L1\\L2]\n\n[-\\DoesNotExist]\n';
    const ours = ourMerge(base, [del]);
    const theirs = hivexMergeCopy(base, [del]);
    expect((await hivexExport(ours, '\\')).equals(await hivexExport(theirs, '\\'))).toBe(true);
    const before = openHiveFile(base, quiet);
    const after = openHiveFile(ours, quiet);
    const sk = (h: Hive) => h.root().security()!.referenceCount;
    const count = (k: ReturnType<Hive['root']>): number => 1 + k.subkeys().reduce((a, c) => a + count(c), 0);
    const gone = count(before.get('\\Unicode')!) + count(before.get('\\Deep\\L1\\L2')!);
    expect(gone).toBe(1 + 15 + 199);
    expect(sk(after)).toBe(sk(before) - gone); // every one of them shared the root's descriptor
  });
});

describe('what the writer refuses', () => {
  const w = () => new HiveWriter(openHiveFile(join(dir, 'software.hive'), quiet), { now: NOW });
  const op = (text: string) => parseRegText(text)[0];
  test('a key whose parent does not exist (as Regedit.pm)', async () => {
    expect(() => w().applyRegOp(op('[\\No\\Such\\Parent]\n'), '\\No\\Such\\Parent')).toThrow(/cannot create this key since its parent \\No\\Such\\ does not exist/);
  });
  test('deleting the root key', async () => {
    expect(() => w().applyRegOp(op('[-\\]\n'), '\\')).toThrow(/root key of a hive cannot be deleted/);
  });
  test('names over the Windows limits', async () => {
    const x = w();
    expect(() => x.createKey(x.root, 'k'.repeat(256))).toThrow(/longer than 255/);
    expect(() => x.setValue(x.root, 'v'.repeat(16384), 1, new Uint8Array(2))).toThrow(/longer than 16383/);
  });
  test('a damaged hive is never written', async () => {
    const h = openHiveFile(regipy('corrupted_system_hive'), { unsafe: true, warn: () => {} });
    expect(() => new HiveWriter(h)).toThrow(/damaged .*refusing to write/);
  });
  test('the input buffer is not modified', async () => {
    const bytes = readHiveFile(join(dir, 'software.hive'));
    const copy = Buffer.from(bytes);
    const x = new HiveWriter(Hive.open(bytes, { name: 'software.hive' }), { now: NOW });
    x.createKey(x.root, 'New');
    x.commit();
    expect(Buffer.from(bytes).equals(copy)).toBe(true);
  });
  test('replaceFileAtomic leaves the original when the rename cannot happen', async () => {
    const target = join(tempDir(), 'a-directory');
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, 'keep'), 'x');
    expect(() => replaceFileAtomic(target, new Uint8Array(10))).toThrow();
    expect(readdirSync(target)).toEqual(['keep']);
    expect(readdirSync(tempDir()).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('.reg text as our merge reads it', () => {
  test('string values are encoded from the decoded text (Regedit.pm double-encodes UTF-8)', async () => {
    const [op] = parseRegText('[\\K]\n"x"="été 🌍"\n');
    if (op.op !== 'mergeKey') throw new Error('mergeKey expected');
    expect(Buffer.from(op.set[0].data).toString('utf16le')).toBe('été 🌍\0');
    const [latin] = parseRegText('[\\K]\n"x"="été"\n', { encoding: 'latin1' });
    expect(latin.op === 'mergeKey' && [...latin.set[0].data]).toEqual([0xe9, 0x74, 0xe9, 0]);
  });
  test('UTF-16LE files with a BOM, CRLF line ends, comments and continuation lines', async () => {
    const { decodeRegFile } = await import('@guestkit/registry');
    const text = 'Windows Registry Editor Version 5.00\r\n\r\n; comment\r\n[\\K]\r\n"b"=hex:01,02,\\\r\n  03\r\n\r\n';
    const ops = parseRegText(decodeRegFile(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])));
    expect(ops).toHaveLength(1);
    expect(ops[0].op === 'mergeKey' && [...ops[0].set[0].data]).toEqual([1, 2, 3]);
  });
  test('parse errors name the file and line', async () => {
    expect(() => parseRegText('[\\K]\n"a"=dword:123\n', { file: 'x.reg' })).toThrow(/x\.reg: line 2: parse error near "\\"a\\"=dword:123"/);
    expect(() => parseRegText('garbage\n', { file: 'x.reg' })).toThrow(/x\.reg: line 1: unexpected text/);
    expect(() => parseRegText('[\\K]\n"a"="unterminated\n', { file: 'x.reg' })).toThrow(/line 2: parse error/);
    expect(() => parseRegText('[\\K]\n', { encoding: 'klingon' })).toThrow(/unknown encoding 'klingon'/);
  });
});

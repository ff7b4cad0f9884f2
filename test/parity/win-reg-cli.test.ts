// guestkit win-reg on the command line: --hive FILE (our addition) against hivexregedit and
// hivexget on the same files, --merge into a hive file against hivexregedit --merge, the
// extensions on a guest (CurrentControlSet, BCD) against hivexregedit on the hive files they
// map to, --json, exit codes (0, 1 for errors, 2 for usage) and one-line errors.

import { describe, it, expect, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUESTKIT, ensureImage, sample } from '../helpers/images.js';

let hives: string;
let tmp: string;
beforeAll(() => {
  hives = ensureImage('reg-hives');
  tmp = mkdtempSync(join(tmpdir(), 'guestkit-win-reg-'));
});

/** Run a command without blocking the worker (vitest's RPC times out on long synchronous runs). */
function exec(cmd: string, args: string[], input?: string): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => err.push(d));
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    p.stdin.on('error', () => {}); // the command may exit without reading its input
    if (input === undefined) p.stdin.end();
    else p.stdin.end(input);
  });
}
const gk = (args: string[], input?: string) => exec(process.execPath, [GUESTKIT, 'win-reg', ...args], input);
async function ok(cmd: string, args: string[]): Promise<Buffer> {
  const r = await exec(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}
const hivex = (args: string[]) => ok('hivexregedit', args);
const HEADER = 'Windows Registry Editor Version 5.00\n\n';

function oneLineError(r: { status: number | null; stderr: string }, status: number, re: RegExp) {
  expect(r.status).toBe(status);
  expect(r.stderr).toMatch(/^guestkit: [^\n]+\n$/);
  expect(r.stderr).toMatch(re);
}

describe('--hive FILE: export as hivexregedit --export, values as hivexget', () => {
  it('a key with the header line; --prefix; --unsafe-printable-strings; --max-depth', async () => {
    const f = join(hives, 'fixtures.hive');
    for (const [args, key] of [
      [[], '\\'],
      [['--prefix', 'HKEY_LOCAL_MACHINE\\SOFTWARE'], '\\Types'],
      [['--unsafe-printable-strings'], 'unicode'],
      [['--max-depth', '2'], '\\'],
    ] as [string[], string][]) {
      const r = await gk(['--hive', f, ...args, key]);
      expect(r.status).toBe(0);
      expect(r.stdout.equals(await hivex(['--export', ...args, f, key])), `${args.join(' ')} ${key}`).toBe(true);
    }
  }, 180_000);

  it('values alone, byte for byte as hivexget', async () => {
    const f = join(hives, 'fixtures.hive');
    for (const v of ['sz', 'expand', 'dword', 'dword-be', 'qword', 'multi', 'binary', 'link', '@', 'name with "quotes" and \\backslash', '名前']) {
      const r = await gk(['--hive', f, '\\Types', v]);
      expect(r.status, v).toBe(0);
      expect(r.stdout.equals(await ok('hivexget', [f, '\\Types', v])), v).toBe(true);
    }
  }, 180_000);

  it('--json: keys and values decoded by type', async () => {
    const r = await gk(['--hive', join(hives, 'fixtures.hive'), '--json', '--prefix', 'HKLM\\X', '\\Types']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout.toString());
    expect(j.keys).toHaveLength(1);
    expect(j.keys[0].path).toBe('HKLM\\X\\Types');
    const byName = Object.fromEntries(j.keys[0].values.map((v: { name: string }) => [v.name, v]));
    expect(byName['sz'].data).toBe('Hello, world');
    expect(byName['multi'].data).toEqual(['one', 'two', 'three']);
    expect(byName['dword-max'].data).toBe(0xffffffff);
    expect(byName['dword-be'].data).toBe(0x12345678);
    expect(byName['qword-neg'].data).toBe('18446744073709551615');
    expect(byName['binary'].hex).toBe('00010203feff');
    expect(byName['unknown-type']).toMatchObject({ type: 0x10000005, typeName: '0x10000005', data: null });
    const one = JSON.parse((await gk(['--hive', join(hives, 'fixtures.hive'), '--json', '\\Types', 'sz-unicode'])).stdout.toString());
    expect(one).toMatchObject({ name: 'sz-unicode', typeName: 'REG_SZ', data: 'Grüße, 世界 🌍' });
  });

  it('a dirty hive is recovered from its logs, with a warning; --ignore-logs reads it as it is', async () => {
    const d = mkdtempSync(join(tmp, 'dirty-'));
    for (const f of ['SYSTEM_B', 'SYSTEM_B.LOG1', 'SYSTEM_B.LOG2']) writeFileSync(join(d, f), await ok('xz', ['-dc', sample(`regipy/${f}.xz`)]));
    const replayed = await gk(['--hive', join(d, 'SYSTEM_B'), '--json', '--max-depth', '1', '\\']);
    expect(replayed.status).toBe(0);
    expect(replayed.stderr).toMatch(/^guestkit: warning: .*SYSTEM_B: hive was dirty; replayed 24 log entries \(315 dirty pages\) from .*SYSTEM_B\.LOG1, .*SYSTEM_B\.LOG2\n$/);
    const asIs = await gk(['--hive', join(d, 'SYSTEM_B'), '--ignore-logs', '--max-depth', '1', '\\']);
    expect(asIs.stderr).toMatch(/hive is dirty \(sequence numbers 1622 and 1621 differ\); recent changes may be missing/);
    expect(asIs.stdout.equals(await hivex(['--export', '--max-depth', '1', join(d, 'SYSTEM_B'), '\\']))).toBe(true);
  });
});

describe('--merge --hive FILE', () => {
  const change = [
    'Windows Registry Editor Version 5.00',
    '',
    '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run]',
    '"Test"="c:\\\\test.bat"',
    '"Number"=dword:00000007',
    '',
    '[-HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432node]',
    '',
  ].join('\n');

  it('merges as hivexregedit --merge does (files and standard input), writing a new file then renaming it', async () => {
    const ours = join(tmp, 'merge-ours.hive');
    const theirs = join(tmp, 'merge-theirs.hive');
    copyFileSync(join(hives, 'software.hive'), ours);
    copyFileSync(join(hives, 'software.hive'), theirs);
    const reg = join(tmp, 'change.reg');
    writeFileSync(reg, change);
    const r = await gk(['--merge', '--hive', ours, '--prefix', 'HKEY_LOCAL_MACHINE\\SOFTWARE', reg]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.length).toBe(0);
    await ok('hivexregedit', ['--merge', '--prefix', 'HKEY_LOCAL_MACHINE\\SOFTWARE', theirs, reg]);
    expect((await hivex(['--export', ours, '\\'])).equals(await hivex(['--export', theirs, '\\']))).toBe(true);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Standard input, --json summary.
    const s = await gk(['--merge', '--hive', ours, '--json'], '[\\FromStdin]\n@="x"\n');
    expect(s.status, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout.toString())).toMatchObject({ hive: ours, keysAdded: 1, valuesSet: 1 });
  });

  it('a failed merge leaves the hive byte for byte as it was', async () => {
    const f = join(tmp, 'merge-fail.hive');
    copyFileSync(join(hives, 'software.hive'), f);
    const before = readFileSync(f);
    const bad = join(tmp, 'bad.reg');
    writeFileSync(bad, '[\\Microsoft]\n"ok"=dword:00000001\n\n[\\Microsoft]\n"broken"=dword:1\n');
    oneLineError(await gk(['--merge', '--hive', f, bad]), 1, /bad\.reg: line 5: parse error near "\\"broken\\"=dword:1"/);
    writeFileSync(bad, '[\\No\\Parent]\n\n');
    oneLineError(await gk(['--merge', '--hive', f, bad]), 1, /\\No\\Parent: cannot create this key since its parent \\No\\ does not exist/);
    oneLineError(await gk(['--merge', '--hive', f, join(tmp, 'missing.reg')]), 1, /missing\.reg: No such file or directory/);
    oneLineError(await gk(['--merge', '--hive', f, '--encoding', 'klingon', bad]), 2, /unknown encoding 'klingon'/);
    expect(readFileSync(f).equals(before)).toBe(true);
    expect(readdirSync(tmp).filter((x) => x.endsWith('.tmp'))).toEqual([]);
  }, 180_000);

  it('--encoding for string values', async () => {
    const f = join(tmp, 'enc.hive');
    copyFileSync(join(hives, 'software.hive'), f);
    const reg = join(tmp, 'enc.reg');
    writeFileSync(reg, '[\\Enc]\n"a"="été"\n\n');
    expect((await gk(['--merge', '--hive', f, '--encoding', 'latin1', reg])).status).toBe(0);
    expect((await gk(['--hive', f, '\\Enc'])).stdout.toString()).toBe(`${HEADER}[\\Enc]\n"a"=hex(1):e9,74,e9,00\n\n`);
  });
});

describe('on a guest (-a): extensions and errors', () => {
  const img = () => ensureImage('reg-windows', 'windows.img');
  const noHeader = (b: Buffer) => b.subarray(HEADER.length);

  it('HKLM\\SYSTEM\\CurrentControlSet follows Select\\Current, shown as CurrentControlSet', async () => {
    const r = await gk(['-a', img(), 'HKLM\\SYSTEM\\CurrentControlSet\\Services']);
    expect(r.status, r.stderr).toBe(0);
    const sys = join(hives, 'guest', 'Windows', 'System32', 'config', 'SYSTEM');
    const ref = noHeader(await hivex(['--export', '--prefix', 'HKEY_LOCAL_MACHINE\\SYSTEM', sys, '\\ControlSet002\\Services']));
    expect(r.stdout.toString()).toBe(ref.toString().replace(/\\ControlSet002\\/g, '\\CurrentControlSet\\'));
  });

  it('HKLM\\BCD from the system partition', async () => {
    const r = await gk(['-a', img(), 'HKLM\\BCD']);
    expect(r.status, r.stderr).toBe(0);
    const ref = noHeader(await hivex(['--export', '--prefix', 'HKEY_LOCAL_MACHINE\\BCD00000000', join(hives, 'guest', 'Boot', 'BCD'), '\\']));
    expect(r.stdout.equals(ref)).toBe(true);
  });

  it('--json on a guest', async () => {
    const j = JSON.parse((await gk(['-a', img(), '--json', 'HKLM\\SYSTEM\\Select'])).stdout.toString());
    expect(j.keys[0].path).toBe('HKEY_LOCAL_MACHINE\\SYSTEM\\Select');
    expect(j.keys[0].values.find((v: { name: string }) => v.name === 'Current').data).toBe(2);
  });

  it('usage and unsupported operations', async () => {
    oneLineError(await gk([]), 2, /no libvirt domain \(-d\), disk image \(-a\) or hive file \(--hive\) given/);
    oneLineError(await gk(['-a', img()]), 2, /expecting 1 or 2 more parameters/);
    oneLineError(await gk(['-a', img(), 'a', 'b', 'c']), 2, /expecting 1 or 2 more parameters/);
    oneLineError(await gk(['-a', img(), '--hive', join(hives, 'software.hive'), 'x']), 2, /--hive cannot be used with -a or -d/);
    oneLineError(await gk(['--merge', '-a', img(), 'x.reg']), 1, /--merge into a guest needs the libguestfs write path/);
    oneLineError(await gk(['-a', join(hives, 'software.hive'), 'HKLM\\SOFTWARE']), 1, /./);
    oneLineError(await gk(['-a', img(), 'HKU\\nobody']), 1, /nobody: cannot find user directory/);
    oneLineError(await gk(['-a', img(), 'HKLM\\SYSTEM\\Select', 'NoSuchValue']), 1, /HKEY_LOCAL_MACHINE\\SYSTEM\\Select: no value named "NoSuchValue"/);
    oneLineError(await gk(['--hive', join(hives, 'software.hive'), '\\No\\Such']), 1, /\\No\\Such: path not found in this hive/);
    oneLineError(await gk(['--hive', join(tmp, 'nope.hive'), '\\']), 1, /nope\.hive: No such file or directory/);
    oneLineError(await gk(['--hive', sample('guestfs-tools/phony-guests/windows-system.reg'), '\\']), 1, /not a Windows registry hive/);
  }, 180_000);
});

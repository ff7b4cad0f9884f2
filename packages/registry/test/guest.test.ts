// The in-guest hive mapping (virt-win-reg's map_path_to_hive plus CurrentControlSet and BCD),
// on a directory laid out as a Windows guest whose hives were made by hivexregedit
// (images/recipes/reg-hives.mjs, guest/), and on regipy's real dirty SYSTEM hive with its logs.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { isGuestkitError } from '@guestkit/core';
import { GuestRegistry, exportReg, shownPath, lookupForExport, decodeString, decodeDword } from '@guestkit/registry';
import { ensureImage } from '../../../test/helpers/images';
import { directoryGuest, hivexExport, hivexget, regipy, tempDir } from './helpers';

let guestDir: string;
let reg: GuestRegistry;
beforeAll(() => {
  guestDir = join(ensureImage('reg-hives'), 'guest');
  reg = new GuestRegistry(directoryGuest(guestDir), { warn: () => {} });
});

const marker = (path: string) => {
  const loc = reg.locate(path);
  const k = reg.hive(loc.file).get(loc.path)!;
  return decodeString(k.subkey('Marker')!.value('hive')!.data());
};

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isGuestkitError(e) ? `${e.code}: ${e.message}` : `not a GuestkitError: ${String(e)}`;
  }
  return 'no error';
}

describe('HKLM hives', () => {
  test('SOFTWARE, SYSTEM, SAM, SECURITY under %SystemRoot%\\system32\\config, matched case-insensitively', async () => {
    expect(reg.locate('HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion')).toEqual({
      shortName: 'software',
      file: '/Windows/system32/config/software',
      path: '\\Microsoft\\Windows NT\\CurrentVersion',
      prefix: 'HKEY_LOCAL_MACHINE\\SOFTWARE',
    });
    expect(reg.locate('\\hkey_local_machine\\software')).toMatchObject({ path: '\\', prefix: 'HKEY_LOCAL_MACHINE\\SOFTWARE' });
    expect(marker('HKLM\\SAM')).toBe('SAM');
    expect(marker('HKLM\\SECURITY')).toBe('SECURITY');
    const loc = reg.locate('HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion');
    expect(decodeString(reg.hive(loc.file).get(loc.path)!.value('ProductName')!.data())).toBe('Microsoft Windows 7 Phony Edition');
  });

  test('CurrentControlSet follows SYSTEM\\Select "Current" (2 here), and is shown as asked', async () => {
    const loc = reg.locate('HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters');
    expect(loc.path).toBe('\\ControlSet002\\Services\\Tcpip\\Parameters');
    const k = reg.hive(loc.file).get(loc.path)!;
    expect(decodeString(k.value('Hostname')!.data())).toBe('current.invalid');
    expect(shownPath(loc, k.path())).toBe('\\CurrentControlSet\\Services\\Tcpip\\Parameters');
    expect(reg.locate('HKLM\\SYSTEM\\ControlSet001').path).toBe('\\ControlSet001');
    expect(reg.locate('HKLM\\SYSTEM\\currentcontrolset').path).toBe('\\ControlSet002');
  });

  test('BCD: \\Boot\\BCD (BIOS layout) or \\EFI\\Microsoft\\Boot\\BCD (EFI system partition)', async () => {
    expect(reg.locate('HKLM\\BCD00000000')).toMatchObject({ file: '/Boot/BCD', path: '\\', prefix: 'HKEY_LOCAL_MACHINE\\BCD00000000' });
    expect(marker('HKLM\\BCD')).toBe('BCD');
    const efi = new GuestRegistry(directoryGuest(guestDir, '/Windows', ['/EFI/Microsoft/Boot/BCD', '/Boot/BCD']));
    expect(efi.locate('HKLM\\BCD').file).toBe('/Boot/BCD');
    const none = new GuestRegistry(directoryGuest(guestDir, '/Windows', ['/EFI/Microsoft/Boot/BCD']));
    expect(code(() => none.locate('HKLM\\BCD'))).toMatch(/^NOT_FOUND: HKLM\\BCD: no BCD store in the guest \(looked for \/EFI\/Microsoft\/Boot\/BCD\)/);
  });
});

describe('HKU hives', () => {
  test('.DEFAULT (with the prefix virt-win-reg prints for it)', async () => {
    expect(reg.locate('HKU\\.DEFAULT')).toMatchObject({ file: '/Windows/system32/config/default', prefix: 'HKEY_LOCAL_MACHINE\\.DEFAULT' });
    expect(marker('HKEY_USERS\\.DEFAULT')).toBe('DEFAULT');
  });
  test('a SID through the SOFTWARE hive ProfileList', async () => {
    expect(reg.locate('HKU\\S-1-5-21-1111-2222-3333-1001\\Marker')).toMatchObject({ file: '/Users/alice/ntuser.dat', path: '\\Marker', prefix: 'HKEY_USERS\\S-1-5-21-1111-2222-3333-1001' });
    expect(marker('HKU\\S-1-5-21-1111-2222-3333-1001')).toBe('alice');
  });
  test('LocalSystem is S-1-5-18, whose profile path uses %systemroot%', async () => {
    expect(reg.locate('HKU\\LocalSystem')).toMatchObject({ file: '/Windows\\system32\\config\\systemprofile/ntuser.dat'.replace(/\\/g, '/'), prefix: 'HKEY_USERS\\S-1-5-18' });
    expect(marker('HKU\\LocalSystem')).toBe('systemprofile');
  });
  test('a user name: \\Users\\NAME or \\Documents and Settings\\NAME', async () => {
    expect(reg.locate('HKU\\alice').file).toBe('/Users/alice/ntuser.dat');
    expect(reg.locate('HKU\\bob').file).toBe('/Documents and Settings/bob/ntuser.dat');
    expect(marker('HKU\\BOB')).toBe('bob');
  });
  test('what cannot be mapped', async () => {
    expect(code(() => reg.locate('HKU\\nobody'))).toBe('NOT_FOUND: nobody: cannot find user directory');
    expect(code(() => reg.locate('HKU\\S-1-5-99'))).toMatch(/^NOT_FOUND: HKU\\S-1-5-99: no profile for S-1-5-99 in HKLM\\SOFTWARE\\Microsoft/);
    expect(code(() => reg.locate('HKEY_CURRENT_USER\\Software'))).toBe('USAGE: HKEY_CURRENT_USER\\Software: not a supported Windows Registry path');
    expect(code(() => reg.locate('HKLM\\HARDWARE'))).toBe('USAGE: HKLM\\HARDWARE: not a supported Windows Registry path');
  });
});

describe('exports through the mapping, as virt-win-reg prints them', () => {
  test('reg_export with the hive prefix: hivexregedit --export --prefix without its header', async () => {
    const loc = reg.locate('HKLM\\SOFTWARE\\Microsoft');
    const chunks: Uint8Array[] = [];
    await exportReg(lookupForExport(reg.hive(loc.file), loc.path)!, (c) => void chunks.push(c), { prefix: loc.prefix });
    const ref = await hivexExport(join(guestDir, 'Windows/System32/config/SOFTWARE'), '\\Microsoft', ['--prefix', 'HKEY_LOCAL_MACHINE\\SOFTWARE']);
    expect(Buffer.concat(chunks).equals(ref.subarray('Windows Registry Editor Version 5.00\n\n'.length))).toBe(true);
  });
});

describe('a dirty hive in the guest: its .LOG1/.LOG2 are replayed', () => {
  test("regipy's SYSTEM_B as HKLM\\SYSTEM; CurrentControlSet from its own Select key", async () => {
    const g = join(tempDir(), 'dirty-guest');
    const cfg = join(g, 'WINDOWS', 'system32', 'CONFIG');
    mkdirSync(cfg, { recursive: true });
    copyFileSync(regipy('SYSTEM_B'), join(cfg, 'SYSTEM'));
    copyFileSync(regipy('SYSTEM_B.LOG1'), join(cfg, 'SYSTEM.LOG1'));
    copyFileSync(regipy('SYSTEM_B.LOG2'), join(cfg, 'SYSTEM.LOG2'));
    const r = new GuestRegistry(directoryGuest(g, '/Windows'), { warn: () => {} });
    const loc = r.locate('HKLM\\SYSTEM\\CurrentControlSet\\Services');
    const h = r.hive(loc.file);
    expect(h.replay).toMatchObject({ dirtyPages: 315 });
    const current = decodeDword(h.get('\\Select')!.value('Current')!.data(), 4)!;
    // hivexget reads the (unreplayed) file; Select is the same there.
    expect((await hivexget(join(cfg, 'SYSTEM'), '\\Select', 'Current')).stdout.toString().trim()).toBe(String(current));
    expect(loc.path).toBe(`\\ControlSet${String(current).padStart(3, '0')}\\Services`);
    expect(h.get(loc.path)!.subkeyCount).toBeGreaterThan(100);
  });
});

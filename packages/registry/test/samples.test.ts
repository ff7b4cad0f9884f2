// Real Windows hives nobody here wrote (regipy's test data, ../shared/samples/regipy, MIT):
// key and value counts and type histograms as the samples README lists them, byte-identical
// .reg exports against hivexregedit, transaction-log replay of the dirty ones (dirty-page
// counts as listed), and the corrupted SYSTEM hive read partially with warnings.
import { describe, expect, test } from 'vitest';
import { openHiveFile, exportReg, filetimeToIso, REGEDIT_HEADER, typeName, type Hive, type RegKey } from '@guestkit/registry';
import { isGuestkitError } from '@guestkit/core';
import { hivexExport, regipy } from './helpers';

function census(h: Hive) {
  let keys = 0;
  let values = 0;
  const types: Record<string, number> = {};
  const stack: RegKey[] = [h.root()];
  while (stack.length > 0) {
    const k = stack.pop()!;
    keys++;
    for (const v of k.values()) {
      values++;
      types[v.typeName] = (types[v.typeName] ?? 0) + 1;
    }
    stack.push(...k.subkeys());
  }
  return { keys, values, types };
}

async function exportAll(h: Hive): Promise<Buffer> {
  const chunks: Uint8Array[] = [Buffer.from(REGEDIT_HEADER)];
  await exportReg(h.root(), (c) => void chunks.push(c));
  return Buffer.concat(chunks);
}

const quiet = { warn: () => {} };

describe('regipy NTUSER.DAT (regf 1.3, lf lists)', () => {
  const h = () => openHiveFile(regipy('NTUSER.DAT'), quiet);
  test('1,812 keys and 4,094 values with the listed type histogram', () => {
    expect(census(h())).toEqual({
      keys: 1812,
      values: 4094,
      types: { REG_BINARY: 531, REG_DWORD: 1336, REG_EXPAND_SZ: 93, REG_MULTI_SZ: 303, REG_NONE: 141, REG_QWORD: 54, REG_SZ: 1636 },
    });
  });
  test('root key name, 11 subkeys; first Run value is "Sidebar", REG_EXPAND_SZ', () => {
    const hive = h();
    expect(hive.root().name).toBe('CMI-CreateHive{6A1C4018-979D-4291-A7DC-7AED1C75B67C}');
    expect(hive.root().subkeyCount).toBe(11);
    const run = hive.get('\\Software\\Microsoft\\Windows\\CurrentVersion\\Run')!;
    expect(run.values()[0].name).toBe('Sidebar');
    expect(run.values()[0].typeName).toBe('REG_EXPAND_SZ');
    expect(hive.get('software\\MICROSOFT\\windows\\currentversion\\run')!.offset).toBe(run.offset);
    // Last written time as regipy's tests give it (reglookup prints 2012-04-03 21:19:54).
    expect(run.lastWritten).toBe(129779615948377168n);
    expect(filetimeToIso(run.lastWritten)).toBe('2012-04-03T21:19:54.837Z');
    expect(hive.dirty).toBe(false);
  });
});

describe('regipy SYSTEM: class names', () => {
  test('the Lsa JD, Skew1, GBG and Data keys keep the boot key in their class names', () => {
    const h = openHiveFile(regipy('SYSTEM'), quiet);
    for (const k of ['JD', 'Skew1', 'GBG', 'Data']) {
      const key = h.get(`\\ControlSet001\\Control\\Lsa\\${k}`)!;
      expect(key.nk.classNameLength).toBe(16);
      expect(key.className()).toMatch(/^[0-9a-f]{8}$/);
    }
    expect(h.get('\\ControlSet001')!.className()).toBeNull();
  });
});

describe('regipy amcache.hve', () => {
  test('2,105 keys and 17,539 values with the listed type histogram', () => {
    expect(census(openHiveFile(regipy('amcache.hve'), quiet))).toEqual({
      keys: 2105,
      values: 17539,
      types: { REG_BINARY: 56, REG_DWORD: 1656, REG_MULTI_SZ: 140, REG_QWORD: 1254, REG_SZ: 14433 },
    });
  });
});

describe('exports equal hivexregedit --export byte for byte', () => {
  // SYSTEM (11 MB, index roots and big data records) is the slowest of these: about 3 s each side.
  for (const name of ['NTUSER.DAT', 'SAM', 'SECURITY', 'BCD', 'amcache.hve', 'SYSTEM']) {
    test(name, async () => {
      const file = regipy(name);
      const ours = await exportAll(openHiveFile(file, { ...quiet, replay: false }));
      expect(ours.equals(await hivexExport(file, '\\'))).toBe(true);
    }, 300_000);
  }
});

describe('dirty hives: transaction log replay', () => {
  test('SYSTEM_B with .LOG1 and .LOG2: 315 dirty pages', () => {
    regipy('SYSTEM_B.LOG1');
    regipy('SYSTEM_B.LOG2');
    const h = openHiveFile(regipy('SYSTEM_B'), quiet);
    expect(h.dirty).toBe(true);
    expect(h.fileBase.primarySequence).not.toBe(h.fileBase.secondarySequence);
    expect(h.replay).toMatchObject({ format: 'new', dirtyPages: 315, entries: 24 });
    expect(h.replay!.logs.map((l) => l.replace(/.*\//, ''))).toEqual(['SYSTEM_B.LOG1', 'SYSTEM_B.LOG2']);
    expect(h.base.primarySequence).toBe(h.base.secondarySequence);
    expect(h.base.checksumValid).toBe(true);
    // The replayed hive is consistent throughout.
    const c = census(h);
    expect(c.keys).toBeGreaterThan(census(openHiveFile(regipy('SYSTEM_B'), { ...quiet, replay: false })).keys);
  });

  test('UsrClass.dat with .LOG1 and .LOG2: 158 dirty pages', () => {
    regipy('UsrClass.dat.LOG1');
    regipy('UsrClass.dat.LOG2');
    const h = openHiveFile(regipy('UsrClass.dat'), quiet);
    expect(h.replay).toMatchObject({ format: 'new', dirtyPages: 158 });
    census(h);
  });

  test('transactions_NTUSER.DAT: log1 recovers 132 pages; log2 only holds older entries', () => {
    regipy('transactions_ntuser.dat.log1');
    regipy('transactions_ntuser.dat.log2');
    const h = openHiveFile(regipy('transactions_NTUSER.DAT'), quiet);
    expect(h.replay).toMatchObject({ format: 'new', dirtyPages: 132, entries: 23 });
    expect(h.replay!.logs.map((l) => l.replace(/.*\//, ''))).toEqual(['transactions_ntuser.dat.log1']);
    census(h);
  });

  test('a key named with characters beyond the BMP (as stored, before replay)', () => {
    const h = openHiveFile(regipy('transactions_NTUSER.DAT'), { ...quiet, replay: false });
    const names = h.get('\\Control Panel\\International')!.subkeys().map((k) => k.name);
    expect(names).toEqual(['Geo', 'User Profile', 'User Profile System Backup', '🌎🌏🌍']);
    expect(h.get('\\Control Panel\\International\\🌎🌏🌍')).not.toBeNull();
  });

  test('a dirty hive without its logs opens with a warning', () => {
    const warnings: string[] = [];
    const h = openHiveFile(regipy('SECURITY'), { warn: (m) => warnings.push(m) });
    expect(h.dirty).toBe(true);
    expect(warnings.join('\n')).toMatch(/hive is dirty \(sequence numbers 107 and 106 differ\) and no transaction log could be applied/);
  });
});

describe('corrupted_system_hive: partial reading, as regipy does', () => {
  // Decision: the hive opens in unsafe mode (the mode virt-win-reg uses hivex in) with a warning for
  // each damaged region; whatever points into one fails clearly when read. A strict open refuses it.
  test('strict open fails with one clear CORRUPT error', () => {
    let err: unknown;
    try {
      openHiveFile(regipy('corrupted_system_hive'), quiet);
    } catch (e) {
      err = e;
    }
    expect(isGuestkitError(err) && err.code).toBe('CORRUPT');
    expect((err as Error).message).toMatch(/hbin at file offset 0x1a000: no "hbin" signature/);
  });

  test('unsafe open: warnings, and the keys outside the damage read as regipy reads them', async () => {
    const warnings: string[] = [];
    const h = openHiveFile(regipy('corrupted_system_hive'), { unsafe: true, warn: (m) => warnings.push(m) });
    expect(warnings.length).toBeGreaterThan(10);
    expect(warnings[0]).toMatch(/skipped 12288 bytes \(keys and values stored there are lost\)/);
    const services = h.get('\\ControlSet001\\Services')!;
    const first = h.keyAt(services.subkeyOffsets()[0], services);
    expect(first.name).toBe('Abiosdsk');
    expect(first.values().map((v) => [v.name, v.typeName])).toEqual([
      ['ErrorControl', 'REG_DWORD'],
      ['Group', 'REG_SZ'],
      ['Start', 'REG_DWORD'],
      ['Tag', 'REG_DWORD'],
      ['Type', 'REG_DWORD'],
    ]);
    // A strict export stops at the first damaged reference, naming it.
    await expect(exportReg(h.root(), () => {})).rejects.toThrow(/subkey 15 \(0x25078\) points into the middle of a cell or into a damaged bin/);
    // An unsafe export skips what cannot be read, with a warning for each.
    const skipped: string[] = [];
    let bytes = 0;
    await exportReg(h.root(), (c) => void (bytes += c.length), { unsafe: true, warn: (m) => skipped.push(m) });
    expect(skipped.length).toBeGreaterThan(0);
    expect(bytes).toBeGreaterThan(500_000);
  });

  test('typeName covers the listed types and shows others in hex', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(typeName)).toEqual([
      'REG_NONE',
      'REG_SZ',
      'REG_EXPAND_SZ',
      'REG_BINARY',
      'REG_DWORD',
      'REG_DWORD_BIG_ENDIAN',
      'REG_LINK',
      'REG_MULTI_SZ',
      'REG_RESOURCE_LIST',
      'REG_FULL_RESOURCE_DESCRIPTOR',
      'REG_RESOURCE_REQUIREMENTS_LIST',
      'REG_QWORD',
    ]);
    expect(typeName(0x10000005)).toBe('0x10000005');
  });
});

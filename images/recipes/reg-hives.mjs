// Registry hives made by hivex (`hivexregedit --merge`, Debian's libwin-hivex-perl) from the
// .reg fixtures in fixtures/reg-fixtures.mjs, each merged into a fresh copy of libguestfs's
// minimal-hive (../shared/samples/guestfs-tools/phony-guests/minimal-hive):
//   fixtures.hive    every value type, escapes, Unicode names, a 200-key-deep chain, values
//                    around and over 16 KiB, a key with 300 values
//   software.hive    libguestfs's phony Windows SOFTWARE hive (windows-software.reg)
//   system.hive      libguestfs's phony Windows SYSTEM hive (windows-system.reg)
//   guest/           a Windows directory layout for the HKLM/HKU mapping tests: SOFTWARE (phony +
//                    ProfileList), SYSTEM (phony + ControlSet002, Select\Current = 2), SAM, SECURITY,
//                    DEFAULT, systemprofile and user NTUSER.DAT files, and a BIOS-layout \Boot\BCD
//   reg/             the .reg files that were merged
// hivex does not timestamp new keys, so the hives are the same on every build.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeHive, PHONY } from '../fixtures/reg-make.mjs';
import { typesReg, unicodeReg, deepReg, bigReg, GUEST } from '../fixtures/reg-fixtures.mjs';

export default {
  name: 'reg-hives',
  inputs: ['fixtures/reg-fixtures.mjs', 'fixtures/reg-make.mjs'],
  tools: ['hivexregedit'],
  async build({ out }) {
    makeHive(out, join(out, 'fixtures.hive'), [
      { name: 'types.reg', text: typesReg() },
      { name: 'unicode.reg', text: unicodeReg() },
      { name: 'deep.reg', text: deepReg(200) },
      { name: 'big.reg', text: bigReg() },
    ]);
    const software = readFileSync(join(PHONY, 'windows-software.reg'), 'utf8');
    const system = readFileSync(join(PHONY, 'windows-system.reg'), 'utf8');
    const HKLM = 'HKEY_LOCAL_MACHINE';
    makeHive(out, join(out, 'software.hive'), [{ name: 'windows-software.reg', text: software, prefix: `${HKLM}\\SOFTWARE` }]);
    makeHive(out, join(out, 'system.hive'), [{ name: 'windows-system.reg', text: system, prefix: `${HKLM}\\SYSTEM` }]);
    const g = join(out, 'guest');
    const cfg = join(g, 'Windows', 'System32', 'config');
    makeHive(out, join(cfg, 'SOFTWARE'), [
      { name: 'windows-software.reg', text: software, prefix: `${HKLM}\\SOFTWARE` },
      { name: 'guest-software.reg', text: GUEST.software(), prefix: `${HKLM}\\SOFTWARE` },
    ]);
    makeHive(out, join(cfg, 'SYSTEM'), [
      { name: 'windows-system.reg', text: system, prefix: `${HKLM}\\SYSTEM` },
      { name: 'guest-system.reg', text: GUEST.systemExtra(), prefix: `${HKLM}\\SYSTEM` },
    ]);
    for (const [file, what] of [
      [join(cfg, 'SAM'), 'SAM'],
      [join(cfg, 'SECURITY'), 'SECURITY'],
      [join(cfg, 'DEFAULT'), 'DEFAULT'],
      [join(cfg, 'systemprofile', 'NTUSER.DAT'), 'systemprofile'],
      [join(g, 'Users', 'alice', 'NTUSER.DAT'), 'alice'],
      [join(g, 'Documents and Settings', 'bob', 'NTUSER.DAT'), 'bob'],
      [join(g, 'Boot', 'BCD'), 'BCD'],
    ]) {
      makeHive(out, file, [{ name: `marker-${what}.reg`, text: GUEST.marker('', what) }]);
    }
  },
};

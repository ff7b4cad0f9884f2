// A hive with one key of 10,000 subkeys (\Wide\k00000..k09999, a DWORD in each), merged by
// `hivexregedit --merge` into libguestfs's minimal-hive. hivex re-allocates the parent's
// subkey list on every insertion and never reuses free cells, so the file is about 420 MB of
// mostly free cells: a real-tool stress case for the cell scanner as well as a 10,000-entry lh.
// Takes about 30 s; kept apart from reg-hives so that it is rebuilt only when it changes.

import { join } from 'node:path';
import { makeHive } from '../fixtures/reg-make.mjs';
import { wideReg } from '../fixtures/reg-wide.mjs';

export default {
  name: 'reg-wide',
  inputs: ['fixtures/reg-wide.mjs', 'fixtures/reg-make.mjs'],
  tools: ['hivexregedit'],
  async build({ out }) {
    makeHive(out, join(out, 'wide.hive'), [{ name: 'wide.reg', text: wideReg(10000) }]);
  },
};

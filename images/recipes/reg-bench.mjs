// A SOFTWARE-like hive of over 20 MB for the registry export benchmark (bench/registry-export.mjs):
// COM classes, file extensions, installed programs and vendor trees (fixtures/reg-bench.mjs),
// merged by `hivexregedit --merge` into a copy of libguestfs's minimal-hive.

import { appendFileSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib.mjs';
import { makeHive } from '../fixtures/reg-make.mjs';
import { benchReg } from '../fixtures/reg-bench.mjs';

export const BENCH_SCALE = 0.75;

export default {
  name: 'reg-bench',
  inputs: ['fixtures/reg-bench.mjs', 'fixtures/reg-fixtures.mjs', 'fixtures/reg-make.mjs'],
  tools: ['hivexregedit'],
  async build({ out }) {
    const hive = join(out, 'software-bench.hive');
    makeHive(out, hive, []);
    const reg = join(out, 'bench.reg');
    writeFileSync(reg, '');
    benchReg((chunk) => appendFileSync(reg, chunk), BENCH_SCALE);
    run('hivexregedit', ['--merge', hive, reg]);
    rmSync(reg);
    const size = statSync(hive).size;
    if (size < 20 * 1024 * 1024) throw new Error(`software-bench.hive is ${size} bytes, under the 20 MB the benchmark asks for`);
  },
};

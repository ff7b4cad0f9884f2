#!/usr/bin/env node
// Builds jazzer.js's native addon (jazzerjs.node) on this machine.
//
// Why: @jazzer.js/fuzzer 4.x ships only a Linux prebuild linked against glibc 2.38 (Debian 12
// has 2.36: "GLIBC_2.38 not found"), and no C++ sources. 2.1.0 ships its C++ sources, but its
// install script fetches a prebuild from GitHub and, failing that, compiler-rt from GitHub;
// neither is reachable here (pnpm never runs that script: package.json pnpm.neverBuiltDependencies).
// So we compile 2.1.0's sources with g++ against Debian's libFuzzer
// (libclang-rt-14-dev: libclang_rt.fuzzer_no_main-x86_64.a), plus two small stand-ins in this
// folder for what jazzer's libFuzzer fork adds (fuzzer/FuzzerDefs.h, shim.cpp).
//
//   node fuzz/native/build-addon.mjs          build if missing; prints the addon's path
//   node fuzz/native/build-addon.mjs --force  rebuild

import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'package.json'));

export function addonPaths() {
  const core = require.resolve('@jazzer.js/core/package.json');
  const fuzzerDir = dirname(createRequire(core).resolve('@jazzer.js/fuzzer/package.json'));
  const naa = dirname(createRequire(join(fuzzerDir, 'package.json')).resolve('node-addon-api/package.json'));
  return { fuzzerDir, naa, out: join(fuzzerDir, 'build', 'Release', 'jazzerjs.node') };
}

export function libFuzzerArchive() {
  const base = '/usr/lib/llvm-14/lib/clang';
  if (!existsSync(base)) return null;
  for (const v of readdirSync(base)) {
    const a = join(base, v, 'lib', 'linux', 'libclang_rt.fuzzer_no_main-x86_64.a');
    if (existsSync(a)) return a;
  }
  return null;
}

/** Build the addon unless it exists; returns its path. Throws with the reason when it cannot. */
export function buildAddon({ force = false, quiet = false } = {}) {
  const { fuzzerDir, naa, out } = addonPaths();
  if (existsSync(out) && !force) return out;
  const archive = libFuzzerArchive();
  if (!archive) throw new Error('libFuzzer not found: apt-get install libclang-rt-14-dev (scripts/system-deps)');
  const nodeInc = ['/usr/include/node', join(dirname(process.execPath), '..', 'include', 'node')].find((d) => existsSync(join(d, 'node_api.h')));
  if (!nodeInc) throw new Error('node_api.h not found (Node headers)');
  const sources = [
    ...readdirSync(fuzzerDir).filter((f) => f.endsWith('.cpp')).map((f) => join(fuzzerDir, f)),
    ...readdirSync(join(fuzzerDir, 'shared')).filter((f) => f.endsWith('.cpp')).map((f) => join(fuzzerDir, 'shared', f)),
    join(here, 'shim.cpp'),
  ];
  mkdirSync(dirname(out), { recursive: true });
  if (!quiet) process.stderr.write(`fuzz: building jazzer.js addon (g++, ~1 min) -> ${out}\n`);
  execFileSync('g++', [
    '-std=c++17', '-O2', '-fPIC', '-shared', '-w',
    '-DNAPI_VERSION=4', '-DNAPI_CPP_EXCEPTIONS',
    `-I${here}`, `-I${nodeInc}`, `-I${naa}`, `-I${fuzzerDir}`,
    ...sources,
    '-Wl,--whole-archive', archive, '-Wl,--no-whole-archive', '-lpthread',
    '-o', `${out}.tmp`,
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  renameSync(`${out}.tmp`, out);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(buildAddon({ force: process.argv.includes('--force') }));
}

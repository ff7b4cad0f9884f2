#!/usr/bin/env node
// Bundles the built CLI (dist/main.js and every tool it loads) into one CommonJS file,
// dist/guestkit.cjs, and makes a V8 code cache for it; bin/guestkit loads both.
//
// Start-up is most of a one-shot command's time (measured with bench/startup.mjs), so:
// - One file instead of ~200 ES modules (halved start-up CPU).
// - CommonJS, so that bin/guestkit can compile it with vm.Script and V8 code cache data
//   (Node 20 has no code cache for ES modules): no parse or compile of the functions a
//   command runs. The cache is made here by running the bundle on a few commands (--help,
//   filesystems on a small disk made with sfdisk) and is named after a hash of the bundle,
//   so a stale cache is never used; V8 itself rejects a cache from another node version, and
//   bin/guestkit then compiles without one.
// - Node built-in modules that only some commands use (crypto, zlib, child_process, streams,
//   worker_threads...) are required on first use instead of at load time.
// - yargs renders a subcommand's whole help text before running it, only to show it if the
//   handler fails; our .fail() handler never shows it, so that call is dropped.
// Native and wasm packages stay external and load with require() from this package's
// dependencies.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync, closeSync, openSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const out = join(dist, 'guestkit.cjs');
const root = join(here, '..', '..');

/**
 * Built-ins worth deferring: not loaded by node's own start-up, and used by few commands.
 * Only `var import_x = require("x")` (named imports) is deferred: __toESM(require(...))
 * (default and namespace imports) and CommonJS re-exports stay as they are.
 */
const LAZY_BUILTINS = [
  'assert', 'child_process', 'crypto', 'dgram', 'net', 'readline', 'stream', 'stream/promises',
  'worker_threads', 'zlib', 'fs/promises', 'http', 'https', 'tls', 'dns', 'v8', 'perf_hooks', 'os', 'module',
];

const banner = [
  // import.meta in the ES module sources, for CommonJS output.
  "var __gkImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
  "var __gkImportMetaResolve = (s) => require('node:url').pathToFileURL(require.resolve(s)).href;",
  // A built-in module loaded when one of its properties is first used. esbuild's CommonJS
  // output reads named imports as properties at each use (import_x.name), so this is exact.
  'function __gkLazy(id) {',
  '  let m;',
  '  const load = () => (m ??= require(id));',
  '  return new Proxy({}, {',
  '    get: (_, k) => load()[k],',
  '    has: (_, k) => k in load(),',
  '    ownKeys: () => Reflect.ownKeys(load()),',
  '    getOwnPropertyDescriptor: (_, k) => { const d = Object.getOwnPropertyDescriptor(load(), k); if (d) d.configurable = true; return d; },',
  '  });',
  '}',
].join('\n');

const result = await build({
  entryPoints: [join(dist, 'main.js')],
  write: false,
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  charset: 'ascii',
  external: ['fuse-native', 'fast-xml-parser'],
  define: { 'import.meta.url': '__gkImportMetaUrl', 'import.meta.resolve': '__gkImportMetaResolve' },
  banner: { js: banner },
  logLevel: 'warning',
  legalComments: 'none',
  plugins: [
    {
      // yargs checks its invariants with assert at every start, and loading node's assert
      // (with its colour and stream set-up) costs more than the rest of the parse: the same
      // checks, with assert loaded only to throw its error when one fails.
      name: 'lazy-assert-for-yargs',
      setup(b) {
        b.onResolve({ filter: /^assert$/ }, (a) => (a.importer.includes('yargs') ? { path: 'assert', namespace: 'gk-lazy-assert' } : undefined));
        b.onLoad({ filter: /.*/, namespace: 'gk-lazy-assert' }, () => ({
          loader: 'js',
          contents: [
            "export const notStrictEqual = (a, b, m) => { if (Object.is(a, b)) require('node:assert').notStrictEqual(a, b, m); };",
            "export const strictEqual = (a, b, m) => { if (!Object.is(a, b)) require('node:assert').strictEqual(a, b, m); };",
          ].join('\n'),
        }));
      },
    },
  ],
});
let code = result.outputFiles[0].text;

const lazyRe = new RegExp(`= require\\("((?:node:)?(?:${LAZY_BUILTINS.map((b) => b.replace('/', '\\/')).join('|')}))"\\);`, 'g');
code = code.replace(lazyRe, '= __gkLazy("$1");');
const helpCache = 'yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();';
if (code.includes(helpCache)) code = code.replace(helpCache, '/* guestkit: help text not pre-rendered (bundle.mjs) */');

// The build id names the code cache; bin/guestkit reads it from the first line.
const id = createHash('sha256').update(code).digest('hex').slice(0, 16);
code = `/* guestkit build ${id} */\n${code}`;
writeFileSync(`${out}.tmp`, code);
renameSync(`${out}.tmp`, out);
for (const f of readdirSync(dist)) {
  if ((/^guestkit-[0-9a-f]{16}\.v8cache$/.test(f) && f !== `guestkit-${id}.v8cache`) || f === 'guestkit.mjs') rmSync(join(dist, f), { force: true });
}

// The code cache: run the bundle through bin/guestkit, which writes the cache at exit when
// GUESTKIT_WRITE_CODE_CACHE is set (each run starts from the previous run's cache and adds
// the functions it compiled). Best effort: without a cache the CLI still runs, more slowly.
const bin = join(root, 'bin', 'guestkit');
const tmp = mkdtempSync(join(tmpdir(), 'guestkit-bundle-'));
try {
  const disk = join(tmp, 'disk.img');
  const fd = openSync(disk, 'w');
  ftruncateSync(fd, 8 * 1024 * 1024);
  closeSync(fd);
  spawnSync('sfdisk', ['-q', '--no-reread', '--no-tell-kernel', disk], { input: 'label: gpt\n,2MiB,L\n,,L\n', stdio: ['pipe', 'ignore', 'ignore'] });
  const sample = join(root, 'images', 'out', 'sample', 'sample.qcow2');
  const runs = [['--help'], ['filesystems', '--long', '--all', '-a', existsSync(sample) ? sample : disk], ['filesystems', '--csv', '-a', disk]];
  const env = { ...process.env, GUESTKIT_WRITE_CODE_CACHE: '1' };
  for (const args of runs) spawnSync(process.execPath, [bin, ...args], { env, stdio: 'ignore' });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (!existsSync(join(dist, `guestkit-${id}.v8cache`))) process.stderr.write('bundle: warning: no V8 code cache was made (bin/guestkit will compile at each start)\n');

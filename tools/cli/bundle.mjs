#!/usr/bin/env node
// Bundles the built CLI into CommonJS files and makes a V8 code cache for each; bin/guestkit
// loads a bundle and its cache:
// - dist/guestkit.cjs: every command (dist/main.js), for --help, a mistyped command...
// - dist/cmd/<command>.cjs: one per command (`guestkit cat ...` loads dist/cmd/cat.cjs): only
//   that command's code, and a code cache made by running that command, so a one-shot command
//   deserializes and compiles only what it runs.
//
// Start-up is most of a one-shot command's time (measured with bench/startup.mjs), so:
// - One file instead of ~200 ES modules (halved start-up CPU).
// - CommonJS, so that bin/guestkit can compile it with vm.Script and V8 code cache data
//   (Node 20 has no code cache for ES modules): no parse or compile of the functions a
//   command runs. The cache is made here by running each bundle on its command (on a small
//   GPT disk with an ext4 root made here with sfdisk and mke2fs -d) and is named after a hash of the bundle,
//   so a stale cache is never used; V8 itself rejects a cache from another node version, and
//   bin/guestkit then compiles without one.
// - Node built-in modules that only some commands use (crypto, zlib, child_process, streams,
//   worker_threads...) are required on first use instead of at load time.
// - yargs renders a subcommand's whole help text before running it, only to show it if the
//   handler fails; our .fail() handler never shows it, so that call is dropped. Its platform
//   shim reads process.stdout.columns at load, creating the stream (node's stream machinery)
//   even for commands that never use it: read when help is printed instead.
// Native and wasm packages stay external and load with require() from this package's
// dependencies.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync, closeSync, openSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const cmdDir = join(dist, 'cmd');
const root = join(here, '..', '..');

/**
 * Built-ins worth deferring: not loaded by node's own start-up, and used by few commands.
 * Only `var import_x = require("x")` (named imports) is deferred: __toESM(require(...))
 * (default and namespace imports) and CommonJS re-exports stay as they are.
 */
const LAZY_BUILTINS = [
  'assert', 'child_process', 'crypto', 'dgram', 'net', 'readline', 'stream', 'stream/promises',
  'worker_threads', 'zlib', 'fs/promises', 'http', 'https', 'tls', 'dns', 'v8', 'perf_hooks', 'os', 'module',
  'tty', // requires net and the stream machinery: ~6 ms (the CLI asks it for the width of --help only)
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


/** One bundle: the entry's code and what it imports, with the start-up patches below. */
async function bundle(entry) {
  const result = await build({
    ...entry,
    write: false,
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
  code = code.replace(lazyRe, '= __gkLazy("$1");');
  code = patch(code, 'yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();', '/* guestkit: help text not pre-rendered (bundle.mjs) */');
  code = patch(
    code,
    'stdColumns: typeof process.stdout.columns !== "undefined" ? process.stdout.columns : null',
    'get stdColumns() { return typeof process.stdout.columns !== "undefined" ? process.stdout.columns : null; }',
  );
  // yargs adds a --version option to every instance, guessing the version from the nearest
  // package.json (a directory walk, a read and a parse: ~4 ms of every start); runCli removes
  // the option again with .version(false).
  code = patch(code, '    yargs.help();\n    yargs.version();\n    return yargs;', '    yargs.help();\n    /* guestkit: no --version option (runCli: .version(false)); bundle.mjs */\n    return yargs;');
  // The build id names the code cache; bin/guestkit reads it from the first line.
  const id = createHash('sha256').update(code).digest('hex').slice(0, 16);
  return { id, code: `/* guestkit build ${id} */\n${code}` };
}

/** A start-up patch of a dependency's code; a dependency update that moves the text only costs time. */
function patch(code, from, to) {
  if (code.includes(from)) return code.replace(from, to);
  process.stderr.write(`bundle: warning: start-up patch not applied (text not found): ${from.slice(0, 60)}...\n`);
  return code;
}

const lazyRe = new RegExp(`= require\\("((?:node:)?(?:${LAZY_BUILTINS.map((b) => b.replace('/', '\\/')).join('|')}))"\\);`, 'g');

/** Write `name`.cjs into `dir`, removing the caches of its earlier builds; returns the cache path. */
function writeBundle(dir, name, { id, code }) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.cjs`);
  writeFileSync(`${file}.tmp`, code);
  renameSync(`${file}.tmp`, file);
  const cacheName = `${name}-${id}.v8cache`;
  const stale = new RegExp(`^${name}-[0-9a-f]{16}\\.v8cache$`);
  for (const f of readdirSync(dir)) if (stale.test(f) && f !== cacheName) rmSync(join(dir, f), { force: true });
  return join(dir, cacheName);
}

// The commands, from dist/commands.js's imports (`import { command as cat } from '...'`):
// each bundle's entry imports one command module, so that only its code is bundled.
const commandsJs = readFileSync(join(dist, 'commands.js'), 'utf8');
const perCommand = [];
for (const m of commandsJs.matchAll(/^import \{([^}]*)\} from '([^']+)';$/gm)) {
  const spec = m[2];
  const mod = await import(spec);
  for (const part of m[1].split(',')) {
    const exported = part.trim().split(/\s+as\s+/)[0];
    if (!exported || exported.startsWith('type ')) continue;
    const c = mod[exported];
    const name = String(Array.isArray(c?.command) ? c.command[0] : c?.command ?? '').split(' ')[0];
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`bundle: ${spec} ${exported}: no command name`);
    perCommand.push({ name, spec, exported });
  }
}
if (perCommand.length === 0) throw new Error('bundle: no commands found in dist/commands.js');

const builds = [{ name: 'guestkit', dir: dist, cache: writeBundle(dist, 'guestkit', await bundle({ entryPoints: [join(dist, 'main.js')] })) }];
for (const f of readdirSync(dist)) if (f === 'guestkit.mjs') rmSync(join(dist, f), { force: true });
// Bundles and caches of commands that no longer exist.
const wanted = new Set(perCommand.map((c) => c.name));
if (existsSync(cmdDir)) {
  for (const f of readdirSync(cmdDir)) {
    const m = /^(.+?)(?:\.cjs|-[0-9a-f]{16}\.v8cache)$/.exec(f);
    if (m && !wanted.has(m[1])) rmSync(join(cmdDir, f), { force: true });
  }
}
for (const c of perCommand) {
  const contents = `import { runCli } from './cli.js';\nimport { ${c.exported} as command } from '${c.spec}';\nrunCli([command]);\n`;
  const b = await bundle({ stdin: { contents, resolveDir: dist, sourcefile: `cmd-${c.name}.js`, loader: 'js' } });
  builds.push({ name: c.name, dir: cmdDir, cache: writeBundle(cmdDir, c.name, b) });
}

// The code caches: run each bundle through bin/guestkit, which writes the cache at exit when
// GUESTKIT_WRITE_CODE_CACHE is set (each run starts from the previous run's cache and adds
// the functions it compiled). GUESTKIT_BUNDLE=full makes bin/guestkit load dist/guestkit.cjs.
// Best effort: without a cache the CLI still runs, more slowly.
const bin = join(root, 'bin', 'guestkit');
const tmp = mkdtempSync(join(tmpdir(), 'guestkit-bundle-'));
try {
  const disk = trainingDisk(tmp);
  // The same disk as qcow2 (most images are), for the qcow2 reader's code; the raw disk
  // without qemu-img.
  const qcow2 = join(tmp, 'disk.qcow2');
  const q = spawnSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', disk, qcow2], { stdio: 'ignore' }).status === 0 ? qcow2 : disk;
  const runs = {
    guestkit: [['--help'], ['filesystems', '--long', '--all', '-a', disk], ['cat', '--help']],
    cat: [['-a', q, '/etc/os-release'], ['-a', disk, '/etc/fstab', '/usr/share/doc/readme', '/usr/lib/link-3']],
    ls: [['-a', disk, '/'], ['-R', '-a', q, '/'], ['-lR', '-a', disk, '/']],
    df: [['-a', q], ['-h', '-a', disk]],
    filesystems: [['--long', '--all', '-a', q], ['--csv', '-a', disk]],
    dump: [['-a', disk, '/dev/sda1']],
    'tar-out': [['-a', disk, '/etc', '-']],
    inspector: [['-a', q]],
  };
  for (const b of builds) {
    const env = { ...process.env, GUESTKIT_WRITE_CODE_CACHE: '1', ...(b.name === 'guestkit' ? { GUESTKIT_BUNDLE: 'full' } : {}) };
    const args = b.name === 'guestkit' ? runs.guestkit : [['--help'], ...(runs[b.name] ?? [])].map((a) => [b.name, ...a]);
    for (const a of args) spawnSync(process.execPath, [bin, ...a], { env, stdio: 'ignore', timeout: 60_000 });
    if (!existsSync(b.cache)) process.stderr.write(`bundle: warning: no V8 code cache was made for ${b.name} (bin/guestkit will compile at each start)\n`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/**
 * A small GPT disk laid out like the guests the commands read: a FAT EFI system partition
 * (mkfs.fat) and an ext4 root (mke2fs -d from a small Linux-like tree) whose /etc/fstab mounts
 * both by UUID. Without those tools, an empty partitioned disk.
 */
function trainingDisk(dir) {
  const disk = join(dir, 'disk.img');
  const MiB = 1024 * 1024;
  const fd = openSync(disk, 'w');
  ftruncateSync(fd, 24 * MiB);
  closeSync(fd);
  spawnSync('sfdisk', ['-q', '--no-reread', '--no-tell-kernel', disk], {
    input: 'label: gpt\nstart=2048,size=12288,type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nstart=14336,size=32768,type=L\n',
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const esp = join(dir, 'esp.img');
  if (spawnSync('mkfs.fat', ['-C', '-i', '1234ABCD', '-n', 'EFI', esp, String(6 * 1024)], { stdio: 'ignore' }).status === 0) {
    const d = openSync(disk, 'r+');
    writeSync(d, readFileSync(esp), 0, undefined, 2048 * 512);
    closeSync(d);
  }
  const tree = join(dir, 'root');
  const files = {
    'etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
    'etc/fstab': 'UUID=0f2d5f2a-4a7e-4f4b-9d59-3f1f4c6bb001 / ext4 errors=remount-ro 0 1\nUUID=1234-ABCD /boot/efi vfat umask=0077 0 1\n',
    'etc/hostname': 'training\n',
    'usr/share/doc/readme': 'guestkit code cache training disk\n'.repeat(200),
    'usr/bin/.keep': '',
    'boot/efi/.keep': '',
    'var/lib/dpkg/status': '',
  };
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(tree, f)), { recursive: true });
    writeFileSync(join(tree, f), text);
  }
  // Directories of a few entries, one big enough for an htree index, symlinks: the shapes a
  // recursive listing meets in a real root.
  for (let k = 0; k < 40; k++) mkdirSync(join(tree, 'usr', 'lib', `d${k}`, 'sub'), { recursive: true });
  mkdirSync(join(tree, 'usr', 'share', 'locale'), { recursive: true });
  for (let k = 0; k < 400; k++) writeFileSync(join(tree, 'usr', 'share', 'locale', `language-${k}.mo`), `${k}\n`);
  for (let k = 0; k < 20; k++) symlinkSync(`../share/locale/language-${k}.mo`, join(tree, 'usr', 'lib', `link-${k}`));
  symlinkSync('usr/bin', join(tree, 'bin')); // merged /usr, as Debian 12
  spawnSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-U', '0f2d5f2a-4a7e-4f4b-9d59-3f1f4c6bb001', '-d', tree, '-E', `offset=${14336 * 512}`, disk, '16M'], { stdio: 'ignore' });
  return disk;
}

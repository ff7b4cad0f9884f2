// bin/guestkit's start-up path (tools/cli/bundle.mjs, bin/guestkit): a command runs from its
// own CommonJS bundle (dist/cmd/<command>.cjs) with the V8 code cache made at build time, and
// every fallback gives the same output: the bundle of every command, no cache, a cache V8
// rejects, a cache of another build, no bundle at all (the unbundled dist/main.js), through a
// symlink from another folder. Needs `pnpm build`.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUESTKIT, ROOT, ensureImage } from './helpers/images.js';

const DIST = join(ROOT, 'tools', 'cli', 'dist');

function run(bin: string, args: string[], env: Record<string, string> = {}, cwd = ROOT) {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000, cwd, env: { ...process.env, GUESTKIT_CODE_CACHE_REPORT: '1', ...env } });
  if (r.error) throw r.error;
  return { rc: r.status, out: r.stdout, err: r.stderr };
}

let image = '';
let want = '';
let tmp = '';

/** A copy of bin/ and of the CLI's dist/ in a temporary tree, to break one file at a time. */
function copyTree(name: string): { bin: string; dist: string } {
  const top = join(tmp, name);
  mkdirSync(join(top, 'bin'), { recursive: true });
  mkdirSync(join(top, 'tools', 'cli', 'dist'), { recursive: true });
  for (const f of ['guestkit', 'package.json']) copyFileSync(join(ROOT, 'bin', f), join(top, 'bin', f));
  for (const f of readdirSync(DIST).filter((n) => /^guestkit/.test(n))) copyFileSync(join(DIST, f), join(top, 'tools', 'cli', 'dist', f));
  // Only the bundle of every command: these tests break it (the per-command ones have their own).
  return { bin: join(top, 'bin', 'guestkit'), dist: join(top, 'tools', 'cli', 'dist') };
}

beforeAll(() => {
  image = join(ensureImage('sample'), 'sample.qcow2');
  tmp = mkdtempSync(join(tmpdir(), 'guestkit-startup-'));
  const r = run(GUESTKIT, ['filesystems', '--long', '-a', image], { GUESTKIT_CODE_CACHE_REPORT: '' });
  expect(r.rc).toBe(0);
  expect(r.out).toMatch(/^\/dev\/sda2 +filesystem +ext4 +root /m);
  want = r.out;
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('bin/guestkit start-up', () => {
  it('runs the bundle with the code cache the build made (V8 accepts it)', () => {
    const r = run(GUESTKIT, ['filesystems', '--long', '-a', image]);
    expect(r.err).toBe('guestkit: code cache accepted (cmd/filesystems.cjs)\n');
    expect(r.out).toBe(want);
  });

  it('through a symlink, from another folder', () => {
    const link = join(tmp, 'gk-link');
    symlinkSync(GUESTKIT, link);
    const r = run(link, ['filesystems', '--long', '-a', image], {}, tmpdir());
    expect(r.rc).toBe(0);
    expect(r.out).toBe(want);
  });

  it('without a cache, with a corrupt one, with one from another build: the same output', () => {
    const t = copyTree('caches');
    const cache = readdirSync(t.dist).find((n) => n.endsWith('.v8cache'))!;
    expect(cache).toBeDefined();
    expect(run(t.bin, ['filesystems', '--long', '-a', image]).err).toBe('guestkit: code cache accepted (guestkit.cjs)\n');
    const good = readFileSync(join(t.dist, cache));
    writeFileSync(join(t.dist, cache), Buffer.alloc(4096, 0x5a));
    let r = run(t.bin, ['filesystems', '--long', '-a', image]);
    expect([r.rc, r.err, r.out]).toEqual([0, 'guestkit: code cache rejected (guestkit.cjs)\n', want]);
    rmSync(join(t.dist, cache));
    r = run(t.bin, ['filesystems', '--long', '-a', image]);
    expect([r.rc, r.err, r.out]).toEqual([0, 'guestkit: code cache none (guestkit.cjs)\n', want]);
    // Another build: the bundle names another cache, this one is not used.
    writeFileSync(join(t.dist, cache), good);
    const src = readFileSync(join(t.dist, 'guestkit.cjs'), 'latin1');
    writeFileSync(join(t.dist, 'guestkit.cjs'), src.replace(/^\/\* guestkit build [0-9a-f]{16} \*\//, '/* guestkit build 0123456789abcdef */'), 'latin1');
    r = run(t.bin, ['filesystems', '--long', '-a', image]);
    expect([r.rc, r.err, r.out]).toEqual([0, 'guestkit: code cache none (guestkit.cjs)\n', want]);
  });

  it('without a bundle: the unbundled build; without any build: one line, exit 1', () => {
    const t = copyTree('nobundle');
    rmSync(join(t.dist, 'guestkit.cjs'));
    // The unbundled entry resolves its packages from the real tools/cli: point at it.
    symlinkSync(join(DIST, 'main.js'), join(t.dist, 'main.js'));
    let r = run(t.bin, ['filesystems', '--long', '-a', image]);
    expect([r.rc, r.out]).toEqual([0, want]);
    rmSync(join(t.dist, 'main.js'));
    r = run(t.bin, ['--help']);
    expect([r.rc, r.out, r.err]).toEqual([1, '', 'guestkit: not built yet: run scripts/setup (or npx pnpm@9.15.9 build) first\n']);
  });

  it('each command has its own bundle and cache; its help and errors equal the bundle of every command\'s', () => {
    const commands = readdirSync(join(DIST, 'cmd')).filter((n) => n.endsWith('.cjs')).map((n) => n.slice(0, -4)).sort();
    expect(commands).toEqual(['cat', 'copy-out', 'df', 'dump', 'filesystems', 'inspector', 'ls', 'mount', 'tar-out', 'unmount', 'win-reg']);
    for (const c of commands) {
      const own = run(GUESTKIT, [c, '--help']);
      const full = run(GUESTKIT, [c, '--help'], { GUESTKIT_BUNDLE: 'full' });
      expect(own.err).toBe(`guestkit: code cache accepted (cmd/${c}.cjs)\n`);
      expect(full.err).toBe('guestkit: code cache accepted (guestkit.cjs)\n');
      expect([own.rc, own.out]).toEqual([0, full.out]);
      expect(own.out).toMatch(new RegExp(`^guestkit ${c}\\b`));
    }
    for (const args of [['cat'], ['ls', '--bogus', '-a', image, '/'], ['cat', '-a', image, '/etc/nothere'], ['filesystems']]) {
      const own = run(GUESTKIT, args, { GUESTKIT_CODE_CACHE_REPORT: '' });
      const full = run(GUESTKIT, args, { GUESTKIT_CODE_CACHE_REPORT: '', GUESTKIT_BUNDLE: 'full' });
      expect(own.rc).not.toBe(0);
      expect([own.rc, own.out, own.err]).toEqual([full.rc, full.out, full.err]);
    }
  });

  it('without its own bundle a command runs from the bundle of every command', () => {
    const t = copyTree('nocmd');
    const r = run(t.bin, ['filesystems', '--long', '-a', image]);
    expect([r.rc, r.err, r.out]).toEqual([0, 'guestkit: code cache accepted (guestkit.cjs)\n', want]);
  });

  it('node does not load NODE_EXTRA_CA_CERTS for guestkit (no TLS here; parsing it costs ~70 ms per start)', () => {
    // node warns on stderr when it cannot load the file, before any JavaScript runs.
    const env = { GUESTKIT_CODE_CACHE_REPORT: '', NODE_EXTRA_CA_CERTS: join(tmp, 'no-such-bundle.pem') };
    const plain = spawnSync(process.execPath, ['-e', '0'], { encoding: 'utf8', env: { ...process.env, ...env } });
    expect(plain.stderr).toMatch(/no-such-bundle\.pem/);
    const r = run(GUESTKIT, ['filesystems', '--long', '-a', image], env);
    expect([r.rc, r.err, r.out]).toEqual([0, '', want]);
  });

  it('stdout: a reader that goes away ends quietly; a write error is one line, exit 1', () => {
    const debian = ensureImage('sample');
    const head = spawnSync('sh', ['-c', `'${GUESTKIT}' ls -R -a '${join(debian, 'sample.qcow2')}' / | head -1; echo "rc=$?"`], { encoding: 'utf8' });
    expect(head.stderr).toBe('');
    expect(head.stdout).toMatch(/^\S+\nrc=0\n$/);
    const full = spawnSync('sh', ['-c', `'${GUESTKIT}' ls -R -a '${join(debian, 'sample.qcow2')}' / > /dev/full`], { encoding: 'utf8' });
    expect([full.status, full.stderr]).toEqual([1, 'guestkit: standard output: ENOSPC: no space left on device, write\n']);
  });

  it('stdout: a slow reader of a non-blocking pipe gets every byte before guestkit exits', async () => {
    // guestkit exits as soon as its command is done and nothing is pending (cli.ts
    // exitWhenIdle); output that met EAGAIN went on through process.stdout (clikit writeOut)
    // and must all arrive all the same. perl sets O_NONBLOCK on the pipe (node's spawn would
    // reset it) and execs guestkit.
    // ext-ext4: a directory of 20,000 entries, so more output than a pipe holds.
    const args = ['ls', '-R', '-a', ensureImage('ext-ext4', 'ext4.img'), '-m', '/dev/sda', '/'];
    const whole = run(GUESTKIT, args, { GUESTKIT_CODE_CACHE_REPORT: '' });
    expect(whole.rc).toBe(0);
    const { spawn } = await import('node:child_process');
    const p = spawn('perl', ['-MFcntl', '-e', 'fcntl(STDOUT, F_SETFL, fcntl(STDOUT, F_GETFL, 0) | O_NONBLOCK) or die; exec @ARGV or die', GUESTKIT, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.stdout.on('data', (d: Buffer) => {
      chunks.push(d);
      p.stdout.pause();
      setTimeout(() => p.stdout.resume(), 2);
    });
    const rc = await new Promise((resolve) => p.on('close', resolve));
    expect([rc, err]).toEqual([0, '']);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(whole.out);
    expect(whole.out.length).toBeGreaterThan(100_000); // more than a pipe holds: writes met EAGAIN
  });

  it('usage errors keep their exit status 2', () => {
    const r = run(GUESTKIT, ['frobnicate'], { GUESTKIT_CODE_CACHE_REPORT: '' });
    expect(r.rc).toBe(2);
    expect(r.err).toMatch(/^guestkit: /);
  });
});

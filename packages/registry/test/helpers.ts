// Test helpers: regipy's xz-compressed hives decompressed into a per-process temp dir, hivex
// command-line tools as oracles, and a directory standing in for a Windows guest.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sample } from '../../../test/helpers/images';
import type { WindowsGuestFiles } from '@guestkit/registry';

let tmp: string | null = null;
export function tempDir(): string {
  if (!tmp) {
    tmp = mkdtempSync(join(tmpdir(), 'guestkit-registry-'));
    process.on('exit', () => rmSync(tmp!, { recursive: true, force: true }));
  }
  return tmp;
}

/** ../shared/samples/regipy/NAME.xz decompressed (once per process); returns its path. */
export function regipy(name: string): string {
  const out = join(tempDir(), name);
  if (!existsSync(out)) writeFileSync(out, execFileSync('xz', ['-dc', sample(`regipy/${name}.xz`)], { maxBuffer: 1 << 30 }));
  return out;
}

export const MINIMAL_HIVE = () => sample('guestfs-tools/phony-guests/minimal-hive');

/** Run a command without blocking the test worker (vitest's RPC times out on long synchronous runs). */
function exec(cmd: string, args: string[]): Promise<{ status: number; stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    p.stdout.on('data', (d) => out.push(d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ status: code ?? -1, stdout: Buffer.concat(out) }));
  });
}

/** `hivexregedit --export [args] FILE KEY` output (bytes). */
export async function hivexExport(file: string, key: string, args: string[] = []): Promise<Buffer> {
  const r = await exec('hivexregedit', ['--export', ...args, file, key]);
  if (r.status !== 0) throw new Error(`hivexregedit --export ${args.join(' ')} ${file} ${key}: exit ${r.status}`);
  return r.stdout;
}

/** `hivexget FILE KEY VALUE` as virt-win-reg runs it: { status, stdout }. */
export function hivexget(file: string, key: string, value: string): Promise<{ status: number; stdout: Buffer }> {
  return exec('hivexget', [file, key, value]);
}

/** `hivexregedit --merge [--prefix P] FILE REG` */
export function hivexMerge(file: string, reg: string, prefix?: string): void {
  execFileSync('hivexregedit', ['--merge', ...(prefix ? ['--prefix', prefix] : []), file, reg], { stdio: 'ignore' });
}

/** `reglookup -H FILE` rows without the modification time column, sorted. */
export async function reglookup(file: string): Promise<string[]> {
  const out = (await exec('reglookup', ['-H', file])).stdout.toString('latin1');
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(',').slice(0, 3).join(','))
    .sort();
}

/** A host directory seen as a Windows guest: paths resolved case-insensitively, never leaving `root`. */
export function directoryGuest(root: string, systemRoot = '/Windows', bcdPaths?: string[]): WindowsGuestFiles {
  const resolve = (p: string): string | null => {
    let cur = root;
    for (const part of p.split('/').filter((x) => x !== '' && x !== '.')) {
      if (part === '..') return null;
      if (!statSync(cur).isDirectory()) return null;
      const hit = readdirSync(cur).find((n) => n.toLowerCase() === part.toLowerCase());
      if (!hit) return null;
      cur = join(cur, hit);
    }
    return cur;
  };
  return {
    systemRoot,
    bcdPaths,
    readFile: (p) => {
      const f = resolve(p);
      return f && statSync(f).isFile() ? readFileSync(f) : null;
    },
    isDir: (p) => {
      const f = resolve(p);
      return !!f && statSync(f).isDirectory();
    },
  };
}

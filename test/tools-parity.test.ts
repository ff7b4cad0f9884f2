// Parity of guestkit cat, ls and df with virt-cat, virt-ls and virt-df: every case of
// test/parity/{cat,ls,df}.cases.json is run through bin/guestkit with the same arguments,
// and its stdout must equal the golden libguestfs made (test/parity/make-goldens-read-tools.sh)
// byte for byte, with the same exit status (usage errors: 2 for guestkit, 1 for virt-*).
// Needs `pnpm build` (runs bin/guestkit). TZ=UTC in both (virt-ls -lR prints local times).

import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ensureImage, ROOT, GUESTKIT } from './helpers/images';

interface Case {
  name: string;
  args: string[];
  /** A usage error: guestkit exits 2 where virt-* exits 1. */
  usage?: boolean;
  /** [regex, replacement] applied to both outputs before comparing; `why` says why. */
  mask?: [string, string][];
  why?: string;
  /**
   * A documented difference from libguestfs (`why` says why): guestkit prints the golden's
   * stdout followed by stdoutSuffix, and exits with rc.
   */
  differs?: { stdoutSuffix: string; rc: number };
  /**
   * The wall clock both virt-* (when the golden was made) and guestkit run under, frozen by
   * libfaketime ("YYYY-MM-DD hh:mm:ss" in UTC): for --time-relative and --time-days.
   */
  faketime?: string;
}

/** libfaketime (Debian package faketime, in scripts/system-deps). */
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1', '/usr/lib64/faketime/libfaketime.so.1']
  .find((f) => existsSync(f));

/** Environment of a guestkit run: TZ=UTC, and the frozen clock of a `faketime` case. */
function caseEnv(c: Case): NodeJS.ProcessEnv {
  const env = { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' };
  delete env.GUESTKIT_NOW;
  if (!c.faketime) return env;
  if (!LIBFAKETIME) throw new Error(`${c.name}: libfaketime not found (apt-get install faketime)`);
  return { ...env, LD_PRELOAD: LIBFAKETIME, FAKETIME: c.faketime, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}

const IMAGE_LIST = JSON.parse(readFileSync(join(ROOT, 'test/parity/images.json'), 'utf8')) as { images: Record<string, string>; recipes: string[] };
const IMAGES = IMAGE_LIST.images;

let uri = '';
let tmp = '';

beforeAll(() => {
  for (const r of IMAGE_LIST.recipes) ensureImage(r);
  tmp = mkdtempSync(join(tmpdir(), 'gk-parity-'));
  const xml = join(tmp, 'custom.xml');
  writeFileSync(xml, readFileSync(join(ROOT, 'test/parity/df-libvirt.xml.in'), 'utf8').replaceAll('@ROOT@', ROOT));
  uri = `test://${xml}`;
  return () => rmSync(tmp, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const imageSha = new Map<string, string>();

function imagesMatchGoldens(tool: string): string | null {
  const f = join(ROOT, 'test/goldens', tool, 'IMAGES.sha256');
  if (!existsSync(f)) return 'no IMAGES.sha256';
  for (const line of readFileSync(f, 'utf8').trim().split('\n')) {
    const [want, path] = line.split(/\s+/);
    if (!imageSha.has(path)) imageSha.set(path, sha(readFileSync(join(ROOT, path))));
    const got = imageSha.get(path);
    if (got !== want) return `${path} is not the image the goldens were made from (rebuild it, or regenerate the goldens)`;
  }
  return null;
}

for (const tool of ['cat', 'ls', 'df']) {
  const cases = JSON.parse(readFileSync(join(ROOT, 'test/parity', `${tool}.cases.json`), 'utf8')) as Case[];
  describe(`guestkit ${tool} matches virt-${tool}`, () => {
    it('runs on the images the goldens were made from (deterministic builds)', () => {
      expect(imagesMatchGoldens(tool)).toBeNull();
    });
    for (const c of cases) {
      const base = join(ROOT, 'test/goldens', tool, c.name);
      it(`${c.name}: ${c.args.join(' ')}`, () => {
        expect(existsSync(`${base}.rc`), `no golden for ${tool}/${c.name}: run test/parity/make-goldens-read-tools.sh`).toBe(true);
        const args = c.args.map((a) => (a === '@uri' ? uri : IMAGES[a] ?? a));
        const r = spawnSync(process.execPath, [GUESTKIT, tool, ...args], {
          cwd: ROOT, env: caseEnv(c), maxBuffer: 1 << 30,
        });
        const goldenRc = Number(readFileSync(`${base}.rc`, 'utf8').trim());
        const out = r.stdout as Buffer;
        if (existsSync(`${base}.out.sha256`)) {
          const [want, size] = readFileSync(`${base}.out.sha256`, 'utf8').trim().split(' ');
          expect({ sha: sha(out), size: out.length }).toEqual({ sha: want, size: Number(size) });
        } else {
          const masked = (t: string) => (c.mask ?? []).reduce((acc, [re, to]) => acc.replace(new RegExp(re, 'g'), to), t);
          const golden = readFileSync(`${base}.out`, 'utf8') + (c.differs?.stdoutSuffix ?? '');
          expect(masked(out.toString('utf8'))).toBe(masked(golden));
        }
        const err = (r.stderr as Buffer).toString();
        if (c.differs) expect(r.status, err).toBe(c.differs.rc);
        else if (c.usage) expect({ rc: r.status, golden: goldenRc }).toEqual({ rc: 2, golden: 1 });
        else expect(r.status, err).toBe(goldenRc);
        // Errors are one line each, "guestkit: ...", never a stack trace.
        for (const line of err.split('\n').filter(Boolean)) expect(line).toMatch(/^guestkit: /);
      });
    }
  });
}

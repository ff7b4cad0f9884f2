// Parity with virt-win-reg: `guestkit win-reg -a windows.img ARGS` prints byte for byte what
// virt-win-reg printed on the same image (goldens in test/goldens/win-reg, made by
// test/parity/win-reg-goldens.sh from test/parity/win-reg.cases.json on the reg-windows
// image: hives made by hivexregedit on two NTFS partitions). Errors: both fail, and ours is one
// line "guestkit: ..." (virt-win-reg's are Perl die messages, kept in NAME.err for reference).

import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { GUESTKIT, ROOT, ensureImage } from '../helpers/images.js';

interface Case {
  name: string;
  args: string[];
}

const GOLDENS = join(ROOT, 'test', 'goldens', 'win-reg');
const cases: Case[] = JSON.parse(readFileSync(join(ROOT, 'test', 'parity', 'win-reg.cases.json'), 'utf8'));

function staleImage(img: string): boolean {
  const file = join(GOLDENS, 'IMAGES.sha256');
  if (!existsSync(file)) return false;
  const [hash] = readFileSync(file, 'utf8').trim().split(/\s+/);
  return createHash('sha256').update(readFileSync(img)).digest('hex') !== hash;
}

/** Run guestkit without blocking the test worker (vitest's RPC times out on long synchronous runs). */
function guestkit(args: string[]): Promise<{ status: number | null; stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [GUESTKIT, 'win-reg', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => err.push(d));
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  });
}

describe('guestkit win-reg -a prints what virt-win-reg prints', () => {
  for (const c of cases) {
    it(`${c.name}: virt-win-reg windows.img ${c.args.join(' ')}`, async () => {
      const img = ensureImage('reg-windows', 'windows.img');
      const r = await guestkit(['-a', img, ...c.args]);
      const want = readFileSync(join(GOLDENS, `${c.name}.out`));
      const rc = Number(readFileSync(join(GOLDENS, `${c.name}.rc`), 'utf8').trim());
      const same = r.stdout.equals(want);
      // Hashing the 512 MiB image is slow: only when the output differs, as a hint.
      const hint = !same && staleImage(img) ? ' (the image differs from the one the goldens were made from: regenerate them)' : '';
      expect(r.stdout.toString('latin1'), `stdout${hint}`).toBe(want.toString('latin1'));
      expect(r.status === 0, `exit status ${r.status} vs virt-win-reg's ${rc}; stderr: ${r.stderr}`).toBe(rc === 0);
      if (rc !== 0) {
        expect(r.status).toBe(c.name === 'error-unsupported-path' ? 2 : 1);
        expect(r.stderr.toString()).toMatch(/^guestkit: [^\n]+\n$/);
      } else expect(r.stderr.toString()).toBe('');
    }, 120_000);
  }
});

// Parity with virt-filesystems: `guestkit filesystems` with each case's arguments prints byte
// for byte what virt-filesystems printed on the same image (goldens in test/goldens/filesystems,
// made by test/parity/make-filesystems-goldens.sh from test/parity/filesystems.cases.json).

import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { GUESTKIT, ROOT, IMAGES_OUT, ensureImage } from '../helpers/images.js';

interface Case {
  name: string;
  /** One image under images/out, or several (-a each, in order). */
  image?: string;
  images?: string[];
  args: string[];
}

const GOLDENS = join(ROOT, 'test', 'goldens', 'filesystems');
const cases: Case[] = JSON.parse(readFileSync(join(ROOT, 'test', 'parity', 'filesystems.cases.json'), 'utf8'));

function imagesOf(c: Case): string[] {
  return c.images ?? [c.image!];
}

function guestkit(args: string[]) {
  const r = spawnSync(process.execPath, [GUESTKIT, 'filesystems', ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return r;
}

/** Images whose bytes differ from those the goldens were made from (a hint when a case fails). */
function staleImages(): string[] {
  const file = join(GOLDENS, 'IMAGES.sha256');
  if (!existsSync(file)) return [];
  const stale: string[] = [];
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const [hash, rel] = line.split(/\s+/);
    const h = createHash('sha256').update(readFileSync(join(ROOT, rel))).digest('hex');
    if (h !== hash) stale.push(rel);
  }
  return stale;
}

describe('guestkit filesystems prints what virt-filesystems prints', () => {
  for (const c of cases) {
    it(`${c.name}: virt-filesystems ${c.args.join(' ')} -a ${imagesOf(c).join(' -a ')}`, () => {
      for (const img of imagesOf(c)) ensureImage(img.split('/')[0]);
      const out = join(GOLDENS, `${c.name}.out`);
      expect(existsSync(out), `golden ${c.name}.out is missing: run test/parity/make-filesystems-goldens.sh ${c.name}`).toBe(true);
      const want = readFileSync(out, 'utf8');
      const wantRc = Number(readFileSync(join(GOLDENS, `${c.name}.rc`), 'utf8'));
      const adds = imagesOf(c).flatMap((i) => ['-a', join(IMAGES_OUT, i)]);
      const r = guestkit([...c.args, ...adds]);
      if (r.stdout !== want || r.status !== wantRc) {
        const stale = staleImages();
        const hint = stale.length ? ` (these images differ from the goldens' IMAGES.sha256: ${stale.join(', ')})` : '';
        expect({ stdout: r.stdout, rc: r.status, stderr: r.stderr }, `case ${c.name}${hint}`).toEqual({ stdout: want, rc: wantRc, stderr: '' });
      }
      expect(r.stderr).toBe('');
      // 4 KiB-sector disks: virt-filesystems needs --blocksize=4096; guestkit finds the GPT without it.
      if (c.args.includes('--blocksize=4096')) {
        const auto = guestkit([...c.args.filter((a) => a !== '--blocksize=4096'), ...adds]);
        expect(auto.stdout).toBe(want);
      }
    });
  }

  it('the qcow2 copies list the same as the raw disks', () => {
    for (const c of cases.filter((x) => x.image?.startsWith('part-tables/') && !x.args.includes('--blocksize=4096'))) {
      const qcow2 = c.image!.replace(/\.raw$/, '.qcow2');
      if (!existsSync(join(IMAGES_OUT, qcow2))) continue;
      const out = join(GOLDENS, `${c.name}.out`);
      if (!existsSync(out)) continue;
      expect(guestkit([...c.args, '-a', join(IMAGES_OUT, qcow2)]).stdout, c.name).toBe(readFileSync(out, 'utf8'));
    }
  });
});

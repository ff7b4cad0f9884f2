// `guestkit dump`: the bytes of a disk or of one device, checked by SHA-256 against the raw
// image, against `qemu-img convert -O raw` of the qcow2 copy, and against dd of the partition.
// Errors: one line, exit 1 (2 for usage); a closed pipe ends it quietly.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { GUESTKIT, ensureImage } from './helpers/images.js';

function gk(args: string[], opts: { shell?: string } = {}) {
  const r = opts.shell
    ? spawnSync('bash', ['-o', 'pipefail', '-c', opts.shell], { encoding: 'buffer', timeout: 60_000, maxBuffer: 1 << 30 })
    : spawnSync(process.execPath, [GUESTKIT, ...args], { encoding: 'buffer', timeout: 60_000, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  return { rc: r.status, out: r.stdout, err: r.stderr.toString('utf8') };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
function shaFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 4 << 20 }).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}

let tables: string;
let scratch: string;
beforeAll(() => {
  tables = ensureImage('part-tables');
  scratch = mkdtempSync(join(tmpdir(), 'guestkit-dump-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('guestkit dump', () => {
  it('the whole raw disk: the image bytes', async () => {
    const img = join(tables, 'part-mbr.raw');
    const r = gk(['dump', '-a', img]);
    expect([r.rc, r.err]).toEqual([0, '']);
    expect(r.out.length).toBe(200 * 1024 * 1024);
    expect(sha(r.out)).toBe(await shaFile(img));
  });

  it('the whole qcow2 disk: what qemu-img convert -O raw gives', async () => {
    const qcow2 = join(tables, 'part-mbr.qcow2');
    const raw = join(scratch, 'mbr.raw');
    execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', qcow2, raw]);
    const out = join(scratch, 'mbr.dump');
    const r = gk([], { shell: `'${process.execPath}' '${GUESTKIT}' dump -a '${qcow2}' > '${out}'` });
    expect([r.rc, r.err]).toEqual([0, '']);
    expect(await shaFile(out)).toBe(await shaFile(raw));
    rmSync(raw);
    rmSync(out);
  });

  it('one partition (/dev/vda6 = /dev/sda6): dd of its range; the extended partition is its 1 KiB stub', () => {
    const img = join(tables, 'part-mbr.raw');
    const want = execFileSync('dd', [`if=${img}`, 'bs=512', 'skip=202752', 'count=81920', 'status=none'], { maxBuffer: 1 << 30 });
    const r = gk(['dump', '-a', img, '/dev/vda6']);
    expect(r.rc).toBe(0);
    expect(sha(r.out)).toBe(sha(want));
    const ext = gk(['dump', '-a', img, '/dev/sda3']);
    expect(ext.out.length).toBe(1024);
    expect([ext.out[510], ext.out[511]]).toEqual([0x55, 0xaa]);
  });

  it('a partition of the second disk, through a pipe', () => {
    const img4k = join(tables, 'part-gpt4k.raw');
    const want = execFileSync('dd', [`if=${img4k}`, 'bs=4096', 'skip=8448', 'count=10240', 'status=none'], { maxBuffer: 1 << 30 });
    const r = gk([], { shell: `'${process.execPath}' '${GUESTKIT}' dump -a '${join(tables, 'part-mbr.raw')}' -a '${img4k}' /dev/sdb2 | sha256sum` });
    expect(r.rc).toBe(0);
    expect(r.out.toString().split(' ')[0]).toBe(sha(want));
  });

  it('a reader that goes away (| head -c): ends quietly', () => {
    const r = gk([], { shell: `'${process.execPath}' '${GUESTKIT}' dump -a '${join(tables, 'part-mbr.raw')}' | head -c 1000 | wc -c` });
    expect(r.rc).toBe(0);
    expect(r.out.toString().trim()).toBe('1000');
    expect(r.err).toBe('');
  });

  it('errors: unknown device (exit 1), two disks without a device (exit 2), a corrupt table for a partition (exit 1)', () => {
    const img = join(tables, 'part-mbr.raw');
    let r = gk(['dump', '-a', img, '/dev/sda4']);
    expect([r.rc, r.out.length]).toEqual([1, 0]);
    expect(r.err).toMatch(/^guestkit: \/dev\/sda4: no such device \(devices here: .*\)\n$/);
    r = gk(['dump', '-a', img, '-a', img]);
    expect(r.rc).toBe(2);
    expect(r.err).toMatch(/^guestkit: 2 disks given: name the DEVICE to dump/);
    const loop = join(ensureImage('part-bad'), 'mbr-ebr-loop.raw');
    r = gk(['dump', '-a', loop, '/dev/sda5']);
    expect(r.rc).toBe(1);
    expect(r.err).toMatch(/^guestkit: MBR extended partition at sector 6144: the EBR chain loops .*\n$/);
    // ... while the whole disk still dumps.
    r = gk(['dump', '-a', loop]);
    expect([r.rc, r.out.length]).toEqual([0, 16 * 1024 * 1024]);
  });

  it('LVs (/dev/VG/LV and /dev/mapper/VG-LV): the sha256 the appliance computed (lvm-images lvm.json)', () => {
    const dir = ensureImage('lvm-images');
    const sums: Record<string, string> = JSON.parse(readFileSync(join(dir, 'lvm.json'), 'utf8')).checksums;
    const adds = ['lvm-a.raw', 'lvm-b.raw', 'lvm-c.raw'].map((f) => `-a '${join(dir, f)}'`).join(' ');
    for (const [lv, sum] of Object.entries(sums)) {
      const name = lv === '/dev/vg0/linear' ? '/dev/mapper/vg0-linear' : lv;
      const r = gk([], { shell: `'${process.execPath}' '${GUESTKIT}' dump ${adds} ${name} | sha256sum` });
      expect([lv, r.rc, r.out.toString().split(' ')[0]]).toEqual([lv, 0, sum]);
    }
  });
});

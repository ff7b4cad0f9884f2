// qcow2 internal snapshots: listed as qemu-img lists them, and read (by name or ID) as
// `qemu-img convert -l snapshot.name=NAME` reads them.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { GuestkitError, formatSnapshotList, listSnapshots, openImage, qemuSizeToStr } from '@guestkit/core';
import { ensureImage } from '../../../test/helpers/images';
import { be32, be64, copyImage, hashDevice, hashFile, patch, qemuImg, randomReads, rawHeader, readAt, tmpDir, removeTmpDirs } from './qcow2-helpers';

afterAll(removeTmpDirs);

interface QemuSnapshot {
  id: string;
  name: string;
  'vm-state-size': number;
  'date-sec': number;
  'date-nsec': number;
  'vm-clock-sec': number;
  'vm-clock-nsec': number;
  icount?: number;
}

for (const name of ['snap-v3', 'snap-v2']) {
  describe(`qcow2 internal snapshots (${name}: ${name === 'snap-v2' ? 'compat=0.10' : 'compat=1.1'})`, () => {
    let dir = '';
    let image = '';
    beforeAll(() => {
      dir = ensureImage('qcow2-snapshots');
      image = join(dir, `${name}.qcow2`);
    });

    it('lists both snapshots with the fields qemu-img info reports', () => {
      const ours = listSnapshots(image);
      const info = JSON.parse(qemuImg(['info', '--output=json', image])) as { snapshots: QemuSnapshot[] };
      expect(ours.map((s) => s.name)).toEqual(['first', 'second snapshot']);
      expect(
        ours.map((s) => ({
          id: s.id,
          name: s.name,
          'vm-state-size': s.vm_state_size,
          'date-sec': s.date_sec,
          'date-nsec': s.date_nsec,
          'vm-clock-sec': Math.floor(s.vm_clock_nsec / 1e9),
          'vm-clock-nsec': s.vm_clock_nsec % 1e9,
          ...(s.icount !== undefined ? { icount: s.icount } : {}),
        })),
      ).toEqual(info.snapshots);
    });

    it('records the disk size of each snapshot', () => {
      for (const s of listSnapshots(image)) expect(s.disk_size).toBe(16 * 1024 * 1024);
    });

    for (const [key, raw] of [
      ['first', 'first'],
      ['second snapshot', 'second'],
      ['1', 'first'],
      ['2', 'second'],
    ] as const) {
      it(`snapshot "${key}" reads like qemu-img convert -l snapshot.name=${raw === 'first' ? 'first' : "'second snapshot'"}`, async () => {
        const dev = openImage(image, { snapshot: key });
        try {
          const rawPath = join(dir, `${name}.${raw}.raw`);
          expect(await hashDevice(dev)).toBe(hashFile(rawPath));
          const r = await randomReads(dev, rawPath, { clusterSize: 65536, l2Span: 8192 * 65536, count: 100, seed: 5 });
          expect(r.first).toBeUndefined();
          expect(dev.description).toContain(`(snapshot ${raw === 'first' ? 'first' : 'second snapshot'})`);
        } finally {
          dev.close();
        }
      });
    }

    it('the snapshots and the active state all differ', async () => {
      const hashes = [hashFile(join(dir, `${name}.raw`)), hashFile(join(dir, `${name}.first.raw`)), hashFile(join(dir, `${name}.second.raw`))];
      expect(new Set(hashes).size).toBe(3);
    });

    it('an unknown snapshot is NOT_FOUND, naming the ones there are', () => {
      try {
        openImage(image, { snapshot: 'nope' }).close();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(GuestkitError);
        expect((e as GuestkitError).code).toBe('NOT_FOUND');
        expect((e as GuestkitError).message).toBe(
          `${image}: no snapshot with ID or name "nope" (snapshots: 1 (first), 2 (second snapshot))`,
        );
      }
    });
  });
}

describe('qcow2 snapshots: images without any', () => {
  it('lists none for a qcow2 without snapshots and for a raw image', () => {
    expect(listSnapshots(ensureImage('qcow2-basic', 'v3-64k.qcow2'))).toEqual([]);
    expect(listSnapshots(ensureImage('qcow2-basic', 'plain.img'))).toEqual([]);
  });

  it('--snapshot on a raw image is a usage error', () => {
    expect(() => openImage(ensureImage('qcow2-basic', 'plain.img'), { snapshot: '1' })).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
  });
});

describe('qcow2 snapshot list text, as qemu-img snapshot -l prints it', () => {
  it('matches qemu-img snapshot -l on both images', () => {
    for (const name of ['snap-v3', 'snap-v2']) {
      const image = join(ensureImage('qcow2-snapshots'), `${name}.qcow2`);
      expect(formatSnapshotList(listSnapshots(image))).toBe(qemuImg(['snapshot', '-l', image]));
    }
  });

  it('matches qemu-img with a VM state, a VM clock past an hour and an icount (patched table)', () => {
    const t = tmpDir('snaplist');
    const p = copyImage(join(ensureImage('qcow2-snapshots'), 'snap-v3.qcow2'), t, 'x.qcow2');
    const h = rawHeader(p);
    const e0 = h.snapshots_offset;
    // Entry 0: vm_clock_nsec = 1 h 2 min 3.456 s; VM state 1536 bytes (32-bit field and extra data).
    patch(p, e0 + 24, be64(3723456789012n));
    patch(p, e0 + 32, be32(1536));
    patch(p, e0 + 40, be64(1536n));
    patch(p, e0 + 56, be64(987654321n));
    // The second entry starts after the first's variable part.
    const fixed = readAt(p, e0, 40);
    const e1 = e0 + Math.ceil((40 + fixed.readUInt32BE(36) + fixed.readUInt16BE(12) + fixed.readUInt16BE(14)) / 8) * 8;
    patch(p, e1 + 40, be64(5n * 1024n * 1024n * 1024n + 123456789n));
    patch(p, e1 + 56, be64(0xffffffffffffffffn)); // icount not recorded
    const ours = formatSnapshotList(listSnapshots(p));
    expect(ours).toBe(qemuImg(['snapshot', '-l', p]));
    expect(ours).toContain('01:02:03.456');
    expect(ours).toContain('1.5 KiB');
  });

  it('VM state sizes print as qemu-img prints them (patched table, qemu-img as the oracle)', () => {
    const t = tmpDir('snapsizes');
    const p = copyImage(join(ensureImage('qcow2-snapshots'), 'snap-v3.qcow2'), t, 'x.qcow2');
    const e0 = rawHeader(p).snapshots_offset;
    const fixed = readAt(p, e0, 40);
    const e1 = e0 + Math.ceil((40 + fixed.readUInt32BE(36) + fixed.readUInt16BE(12) + fixed.readUInt16BE(14)) / 8) * 8;
    const sizes = [512, 1000, 1023, 1024, 999_999, 1_048_552, 10_000_000, 2 ** 40 + 7, 3 * 2 ** 50, 123];
    for (let i = 0; i + 1 < sizes.length; i += 2) {
      patch(p, e0 + 40, be64(BigInt(sizes[i])));
      patch(p, e1 + 40, be64(BigInt(sizes[i + 1])));
      expect(formatSnapshotList(listSnapshots(p))).toBe(qemuImg(['snapshot', '-l', p]));
    }
    expect(qemuSizeToStr(1536)).toBe('1.5 KiB');
  });
});

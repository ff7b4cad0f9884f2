// Hostile and damaged hives: hand-patched copies of hives made by hivex (and by our writer for
// the big-data cases). Each must give one clear GuestkitError naming what is wrong, never a hang,
// a RangeError or a huge allocation.
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { isGuestkitError } from '@guestkit/core';
import { BASE_BLOCK_SIZE, Hive, HiveWriter, exportReg, readHiveFile, writeChecksum } from '@guestkit/registry';
import { ensureImage } from '../../../test/helpers/images';

let dir: string;
beforeAll(() => {
  dir = ensureImage('reg-hives');
});
const load = (f: string) => Buffer.from(readHiveFile(join(dir, f)));
const open = (b: Uint8Array, unsafe = false) => Hive.open(b, { name: 'patched.hive', unsafe, warn: () => {} });

/** The error thrown by fn (sync or async), checked to be a GuestkitError with `code` and `message`. */
async function failsWith(fn: () => unknown, code: string, message: RegExp): Promise<void> {
  let err: unknown = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an error').not.toBeNull();
  expect(isGuestkitError(err) ? err.code : `not a GuestkitError: ${String(err)}`).toBe(code);
  expect((err as Error).message).toMatch(message);
}

const cellFile = (rel: number) => BASE_BLOCK_SIZE + rel;

describe('the base block', () => {
  test('too short, not a hive, a transaction log, an unsupported version, a bad checksum', async () => {
    const good = load('software.hive');
    await failsWith(() => open(good.subarray(0, 100)), 'CORRUPT', /too short to be a registry hive \(100 bytes\)/);
    const notRegf = Buffer.from(good);
    notRegf.write('xxxx', 0, 'latin1');
    await failsWith(() => open(notRegf), 'UNKNOWN_FORMAT', /not a Windows registry hive \(no "regf" signature\)/);
    const log = Buffer.from(good);
    log.writeUInt32LE(6, 28);
    writeChecksum(log);
    await failsWith(() => open(log), 'UNKNOWN_FORMAT', /transaction log \(file type 6\), not a hive/);
    const v11 = Buffer.from(good);
    v11.writeUInt32LE(1, 24);
    writeChecksum(v11);
    await failsWith(() => open(v11), 'UNSUPPORTED', /regf version 1\.1 \(Windows NT 3\.1\/3\.5\) is not supported/);
    const sum = Buffer.from(good);
    sum.writeUInt32LE((sum.readUInt32LE(508) ^ 1) >>> 0, 508);
    await failsWith(() => open(sum), 'CORRUPT', /base block checksum is wrong \(stored 0x[0-9a-f]+, computed 0x[0-9a-f]+\)/);
  });

  test('a truncated file and a root offset that is not a key node', async () => {
    const good = load('software.hive');
    await failsWith(() => open(good.subarray(0, 6000)), 'CORRUPT', /file is truncated: hive bins data should end at 0x3000, the file is 6000 bytes/);
    const root = Buffer.from(good);
    root.writeUInt32LE(0x100000, 36);
    writeChecksum(root);
    await failsWith(() => open(root), 'CORRUPT', /root cell offset 0x100000 does not point to an allocated key node/);
  });
});

describe('hive bins and cells', () => {
  test('a cell whose size runs outside its hbin: error, or skipped with a warning in unsafe mode', async () => {
    const b = load('software.hive');
    const first = cellFile(0x20);
    b.writeInt32LE(-0x2000, first); // the root nk claims 8 KiB inside a 4 KiB bin
    await failsWith(() => open(b), 'CORRUPT', /cell at 0x20 \(size 8192\) runs past the end of its hbin at 0x0 \(which ends at 0x1000\)/);
    const warnings: string[] = [];
    const b2 = load('fixtures.hive');
    const lastBin = open(b2).cells.bins.at(-1)!;
    b2.writeInt32LE(-0x100000, lastBin.fileOffset + 32);
    const h = Hive.open(b2, { name: 'patched.hive', unsafe: true, warn: (m) => warnings.push(m) });
    expect(warnings[0]).toMatch(/runs past the end of its hbin.*; the rest of the hbin is skipped/);
    expect(h.cells.damaged).toBe(true);
  });

  test('a destroyed hbin header', async () => {
    const b = load('fixtures.hive');
    const bin = open(b).cells.bins[2];
    b.write('XXXX', bin.fileOffset, 'latin1');
    await failsWith(() => open(b), 'CORRUPT', new RegExp(`hbin at file offset 0x${bin.fileOffset.toString(16)}: no "hbin" signature`));
    expect(() => open(b, true)).not.toThrow();
  });

  test('offsets into free cells, the middle of cells, or outside the hive', async () => {
    const b = load('software.hive');
    const h = open(b);
    const k = h.get('\\Microsoft')!;
    const at = cellFile(k.offset) + 4 + 28; // nk subkeys list offset
    for (const [v, msg] of [
      [0x7fff0000, /subkey list \(0x7fff0000\) points outside the hive bins data/],
      [k.offset + 8, /points into the middle of a cell/],
      [k.offset + 2, /is not aligned to a cell/],
    ] as const) {
      b.writeUInt32LE(v, at);
      await failsWith(() => open(b).get('\\Microsoft')!.subkeys(), 'CORRUPT', msg);
    }
  });
});

describe('records', () => {
  test('a subkey list that loops, and a key that is its own ancestor', async () => {
    const b = load('fixtures.hive');
    const h = open(b);
    const u = h.get('\\Unicode')!;
    const list = u.nk.subkeysListOffset;
    // Turn the lh into an index root that points back to itself.
    b.write('ri', cellFile(list) + 4, 'latin1');
    b.writeUInt16LE(1, cellFile(list) + 6);
    b.writeUInt32LE(list, cellFile(list) + 8);
    await failsWith(() => open(b).get('\\Unicode')!.subkeys(), 'LOOP', /subkey list at 0x[0-9a-f]+ is reached twice \(the lists loop\)/);

    const b2 = load('fixtures.hive');
    const h2 = open(b2);
    const l1 = h2.get('\\Deep\\L1')!;
    const deep = h2.get('\\Deep')!;
    // \Deep\L1's only subkey (L2) now points back to \Deep.
    b2.writeUInt32LE(deep.offset, cellFile(l1.nk.subkeysListOffset) + 8);
    await failsWith(() => exportReg(open(b2).get('\\Deep')!, () => {}), 'LOOP', /subkey "Deep" is one of its own ancestors \(the key tree loops\)/);
  });

  test('counts that disagree with the lists, and names that run past their cells', async () => {
    const b = load('software.hive');
    const h = open(b);
    const k = h.get('\\Microsoft')!;
    const nk = cellFile(k.offset) + 4;
    b.writeUInt32LE(k.subkeyCount + 1, nk + 20);
    await failsWith(() => open(b).get('\\Microsoft')!.subkeys(), 'CORRUPT', /subkey count is 3 but its subkey lists hold 2/);
    b.writeUInt32LE(k.subkeyCount, nk + 20);
    b.writeUInt32LE(0x0fffffff, nk + 20);
    await failsWith(() => open(b).get('\\Microsoft')!.subkeys(), 'LIMIT', /268435455 subkeys exceeds the limit of 1000000/);
    b.writeUInt32LE(k.subkeyCount, nk + 20);
    b.writeUInt16LE(5000, nk + 72);
    await failsWith(() => open(b).get('\\Microsoft'), 'CORRUPT', /key name length 5000 runs past the end of the cell/);
  });

  test('value records: too many values for the list, inline data over 4 bytes, data larger than its cell', async () => {
    const b = load('software.hive');
    const k = open(b).get('\\Microsoft\\Windows NT\\CurrentVersion')!;
    const nk = cellFile(k.offset) + 4;
    b.writeUInt32LE(500, nk + 36);
    await failsWith(() => open(b).get('\\Microsoft\\Windows NT\\CurrentVersion')!.values(), 'CORRUPT', /500 values run past the end of the cell/);
    b.writeUInt32LE(k.valueCount, nk + 36);
    const v = k.values()[0];
    const vk = cellFile(v.offset) + 4;
    b.writeUInt32LE(0x80000008, vk + 4);
    await failsWith(() => open(b).get('\\Microsoft\\Windows NT\\CurrentVersion')!.values()[0].data(), 'CORRUPT', /inline data of 8 bytes \(at most 4 fit\)/);
    b.writeUInt32LE(0x4000, vk + 4);
    await failsWith(() => open(b).get('\\Microsoft\\Windows NT\\CurrentVersion')!.values()[0].data(), 'CORRUPT', /data size 16384 exceeds its cell/);
    b.writeUInt32LE(0x7fffffff, vk + 4);
    await failsWith(() => open(b).get('\\Microsoft\\Windows NT\\CurrentVersion')!.values()[0].data(), 'LIMIT', /data of 2147483647 bytes exceeds the 67108864-byte limit/);
  });

  test('a big data chain too long for its value, or too short', async () => {
    // A hive with a db record, written by our writer (hivex writes none).
    const w = new HiveWriter(open(load('software.hive')), { now: 0n });
    const big = new Uint8Array(40000).map((_, i) => i & 0xff);
    w.setValue(w.root, 'big', 3, big);
    const b = Buffer.from(w.commit());
    const v = open(b).root().value('big')!;
    expect(Buffer.from(v.data()).equals(Buffer.from(big))).toBe(true);
    const db = cellFile(v.vk.dataOffset) + 4;
    expect(b.toString('latin1', db, db + 2)).toBe('db');
    b.writeUInt16LE(2, db + 2);
    await failsWith(() => open(b).root().value('big')!.data(), 'CORRUPT', /big data record has 2 segments, but 40000 bytes need 3/);
    b.writeUInt16LE(65535, db + 2);
    b.writeUInt32LE(65535 * 16344, cellFile(v.offset) + 4 + 4);
    await failsWith(() => open(b).root().value('big')!.data(), 'LIMIT', /exceeds the 67108864-byte limit/);
  });
});

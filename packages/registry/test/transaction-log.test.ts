// Transaction log replay beyond the regipy samples (which are all new-format logs): the old
// "DIRT" format, built here from a real hive (the dirty vector and the pages are taken from
// regipy's NTUSER.DAT; the stale primary has those pages zeroed), and the stopping rules of the
// new format on damaged copies of regipy's real logs.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Hive, writeChecksum, replayLogs, parseBaseBlock, type LogFile } from '@guestkit/registry';
import { regipy } from './helpers';

const quiet = { warn: () => {} };

/** A stale primary (pages zeroed, sequence numbers apart) and an old-format log that restores it. */
function oldFormatCase(pages: number[]) {
  const good = Buffer.from(readFileSync(regipy('NTUSER.DAT')));
  const base = parseBaseBlock(good, 'NTUSER.DAT');
  const stale = Buffer.from(good);
  for (const p of pages) stale.fill(0, 4096 + p * 512, 4096 + (p + 1) * 512);
  stale.writeUInt32LE(base.primarySequence + 1, 4); // a write started and never finished
  writeChecksum(stale);
  const bits = base.hiveBinsDataSize / 512;
  const header = Buffer.from(good.subarray(0, 512));
  header.writeUInt32LE(1, 28); // file type: transaction log
  writeChecksum(header);
  const vector = Buffer.alloc(Math.ceil((4 + Math.ceil(bits / 8)) / 512) * 512);
  vector.write('DIRT', 0, 'latin1');
  for (const p of pages) vector[4 + (p >> 3)] |= 1 << (p & 7);
  const data = Buffer.concat([...pages].sort((a, b) => a - b).map((p) => good.subarray(4096 + p * 512, 4096 + (p + 1) * 512)));
  return { good, stale, log: { name: 'NTUSER.DAT.LOG1', bytes: Buffer.concat([header, vector, data]) } as LogFile };
}

describe('old-format (DIRT) logs', () => {
  test('the dirty pages are written back: the hive reads as before the damage', () => {
    const pages = [0, 1, 7, 100, 101, 102, 1000];
    const { good, stale, log } = oldFormatCase(pages);
    const h = Hive.open(stale, { name: 'NTUSER.DAT', logs: [log], ...quiet });
    expect(h.dirty).toBe(true);
    expect(h.replay).toMatchObject({ format: 'old', dirtyPages: pages.length, logs: ['NTUSER.DAT.LOG1'] });
    expect(Buffer.from(h.bytes.subarray(4096)).equals(good.subarray(4096, 4096 + h.base.hiveBinsDataSize))).toBe(true);
    expect(h.root().subkeys().length).toBe(11);
  });

  test('a log written for another state of the hive (timestamps differ) is not applied', () => {
    const { stale, log } = oldFormatCase([0]);
    const other = Buffer.from(log.bytes);
    other.writeUInt32LE(other.readUInt32LE(12) ^ 0xffff, 12);
    writeChecksum(other);
    const warnings: string[] = [];
    expect(() => Hive.open(stale, { name: 'NTUSER.DAT', logs: [{ name: 'x.LOG1', bytes: other }], warn: (m) => warnings.push(m) })).toThrow(/hbin at file offset 0x1000/);
    expect(warnings.join('\n')).toMatch(/x\.LOG1: written for another state of the hive \(timestamps differ\); log ignored/);
  });
});

describe('new-format (HvLE) logs: where replay stops', () => {
  const system = () => readFileSync(regipy('SYSTEM_B'));
  const log = (n: 1 | 2) => ({ name: `SYSTEM_B.LOG${n}`, bytes: Buffer.from(readFileSync(regipy(`SYSTEM_B.LOG${n}`))) });

  test('LOG1 then LOG2 in sequence: 24 entries, 315 pages', () => {
    const r = replayLogs(system(), parseBaseBlock(system(), 'SYSTEM_B'), [log(2), log(1)])!;
    expect(r.report).toMatchObject({ format: 'new', entries: 24, dirtyPages: 315, sequence: 2130 });
  });

  test('without LOG1 the sequence starts at LOG2 (2111): 20 entries', () => {
    const r = replayLogs(system(), parseBaseBlock(system(), 'SYSTEM_B'), [log(2)])!;
    expect(r.report).toMatchObject({ entries: 20, dirtyPages: 305 });
  });

  test('a damaged entry (hash mismatch) stops replay before it; later entries are reported as not applied', () => {
    const l1 = log(1);
    l1.bytes[0x4000 + 100] ^= 0xff; // inside the second entry (sequence 2108)
    const r = replayLogs(system(), parseBaseBlock(system(), 'SYSTEM_B'), [l1, log(2)])!;
    expect(r.report.entries).toBe(1);
    expect(r.report.sequence).toBe(2107);
    expect(r.report.warnings.join('\n')).toMatch(/SYSTEM_B\.LOG1: log entry at 0x4000: hash mismatch/);
    expect(r.report.warnings.join('\n')).toMatch(/20 log entries after sequence 2107 were not applied/);
  });

  test('a log whose base block is not a log, or is damaged, is ignored with a warning', () => {
    const l1 = log(1);
    l1.bytes[508] ^= 1;
    const r = replayLogs(system(), parseBaseBlock(system(), 'SYSTEM_B'), [l1])!;
    expect(r.report.format).toBe('none');
    expect(r.report.warnings).toEqual(['SYSTEM_B.LOG1: base block checksum is wrong; log ignored']);
  });
});

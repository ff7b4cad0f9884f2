// Transaction logs (.LOG1, .LOG2, .LOG) and their replay onto a dirty primary file.
// Spec: msuhanov "Format of transaction log files" (old format: base block + "DIRT" dirty
// vector + 512-byte dirty pages; new format: base block + "HvLE" log entries with dirty page
// references and Marvin32 hashes), "Dirty state of a hive", "Multiple transaction log files";
// libregf section 6 "The transaction log variant 1 and 2 file".
//
// New-format replay: log entries whose sequence number is at least the primary file's secondary
// sequence number are applied in sequence order, starting from the lowest, across both logs;
// replay stops at the first gap, at an entry with a bad signature, size or hash.

import { Bytes, GuestkitError } from '@guestkit/core';
import {
  BASE_BLOCK_SIZE,
  FILE_TYPE_LOG,
  FILE_TYPE_LOG_NEW,
  FILE_TYPE_LOG_NT,
  FILE_TYPE_PRIMARY,
  parseBaseBlock,
  writeChecksum,
  type BaseBlock,
} from './base-block.js';
import { REGISTRY_LIMITS } from './limits.js';

export interface LogFile {
  /** File name, for messages. */
  name: string;
  bytes: Uint8Array;
}

export interface LogEntry {
  log: string;
  fileOffset: number;
  size: number;
  flags: number;
  sequence: number;
  hiveBinsDataSize: number;
  /** Dirty page references: offset (relative to the hive bins data) and size, with the page data. */
  pages: { offset: number; size: number; data: Uint8Array }[];
}

export interface ReplayReport {
  /** Names of the logs that contributed. */
  logs: string[];
  format: 'new' | 'old' | 'none';
  /** Log entries applied (new format). */
  entries: number;
  /** Dirty pages written onto the primary file (new format: page references; old: 512-byte pages). */
  dirtyPages: number;
  /** Sequence number of the last applied entry. */
  sequence: number;
  /** The primary base block was invalid and was taken from a log. */
  baseBlockRecovered: boolean;
  warnings: string[];
}

// ---- Marvin32 (the hash of the HvLE entries): the published algorithm (Microsoft's "Marvin"
// 32-bit hash, as used by .NET's string hashing), seed 0x82EF4D887A4E55C5 (the spec's bytes
// "82 EF 4D 88 7A 4E 55 C5" read as one big-endian number: low half 0x7A4E55C5).

const MARVIN_SEED_LO = 0x7a4e55c5;
const MARVIN_SEED_HI = 0x82ef4d88;

const rotl = (x: number, n: number) => ((x << n) | (x >>> (32 - n))) >>> 0;

/** Marvin32 of `data[off, off+len)` as [low, high] 32-bit halves of the 64-bit result. */
export function marvin32(data: Uint8Array, off: number, len: number): [number, number] {
  let lo = MARVIN_SEED_LO;
  let hi = MARVIN_SEED_HI;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const block = () => {
    hi = (hi ^ lo) >>> 0;
    lo = rotl(lo, 20);
    lo = (lo + hi) >>> 0;
    hi = rotl(hi, 9);
    hi = (hi ^ lo) >>> 0;
    lo = rotl(lo, 27);
    lo = (lo + hi) >>> 0;
    hi = rotl(hi, 19);
  };
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    lo = (lo + dv.getUint32(off + i, true)) >>> 0;
    block();
  }
  let fin = 0x80;
  const rest = len - i;
  if (rest === 1) fin = 0x8000 | data[off + i];
  else if (rest === 2) fin = 0x800000 | data[off + i] | (data[off + i + 1] << 8);
  else if (rest === 3) fin = (0x80000000 | data[off + i] | (data[off + i + 1] << 8) | (data[off + i + 2] << 16)) >>> 0;
  lo = (lo + fin) >>> 0;
  block();
  block();
  return [lo, hi];
}

// ---- New format (HvLE)

const HVLE_HEADER = 40;

/** The valid log entries of a new-format log, in file order; stops at the first bad one. */
export function parseLogEntries(log: LogFile, warnings: string[]): LogEntry[] {
  const buf = log.bytes;
  const out: LogEntry[] = [];
  let off = REGISTRY_LIMITS.logSectorSize;
  // Each entry is at least 512 bytes long: bounded by the file size.
  while (off + HVLE_HEADER <= buf.length) {
    const b = new Bytes(buf.subarray(off, Math.min(buf.length, off + HVLE_HEADER)), `${log.name}: log entry at 0x${off.toString(16)}`);
    if (b.u32be(0) !== 0x48764c45) break; // "HvLE": anything else ends the entries (zeros, remnants)
    const size = b.u32le(4);
    const stop = (why: string) => warnings.push(`${b.what}: ${why}; replay stops before it`);
    if (size < 512 || size % 512 !== 0 || off + size > buf.length) {
      stop(`invalid size ${size}`);
      break;
    }
    const hbs = b.u32le(16);
    const count = b.u32le(20);
    if (hbs === 0 || hbs % 4096 !== 0) {
      stop(`hive bins data size ${hbs} is not a multiple of 4096`);
      break;
    }
    if (HVLE_HEADER + count * 8 > size) {
      stop(`${count} dirty page references do not fit in the entry`);
      break;
    }
    const [h1lo, h1hi] = marvin32(buf, off + HVLE_HEADER, size - HVLE_HEADER);
    const [h2lo, h2hi] = marvin32(buf, off, 32);
    if (h1lo !== b.u32le(24) || h1hi !== b.u32le(28) || h2lo !== b.u32le(32) || h2hi !== b.u32le(36)) {
      stop('hash mismatch (a partially written entry)');
      break;
    }
    const pages: LogEntry['pages'] = [];
    let data = off + HVLE_HEADER + count * 8;
    let ok = true;
    for (let i = 0; i < count; i++) {
      const r = new DataView(buf.buffer, buf.byteOffset + off + HVLE_HEADER + i * 8, 8);
      const po = r.getUint32(0, true);
      const ps = r.getUint32(4, true);
      if (data + ps > off + size || po + ps > hbs) {
        stop(`dirty page ${i} (offset 0x${po.toString(16)}, ${ps} bytes) does not fit`);
        ok = false;
        break;
      }
      pages.push({ offset: po, size: ps, data: buf.subarray(data, data + ps) });
      data += ps;
    }
    if (!ok) break;
    out.push({ log: log.name, fileOffset: off, size, flags: b.u32le(8), sequence: b.u32le(12), hiveBinsDataSize: hbs, pages });
    off += size;
  }
  return out;
}

interface ParsedLog {
  log: LogFile;
  base: BaseBlock;
}

function parseLogBase(log: LogFile, warnings: string[]): ParsedLog | null {
  let base: BaseBlock;
  try {
    base = parseBaseBlock(log.bytes, log.name);
  } catch (e) {
    warnings.push(`${log.name}: ${e instanceof Error ? e.message.replace(`${log.name}: `, '') : String(e)}; log ignored`);
    return null;
  }
  if (!base.checksumValid) {
    warnings.push(`${log.name}: base block checksum is wrong; log ignored`);
    return null;
  }
  if (base.fileType !== FILE_TYPE_LOG && base.fileType !== FILE_TYPE_LOG_NT && base.fileType !== FILE_TYPE_LOG_NEW) {
    warnings.push(`${log.name}: not a transaction log (file type ${base.fileType}); log ignored`);
    return null;
  }
  return { log, base };
}

/**
 * Replay transaction logs onto a dirty primary file. Returns the recovered hive (a new buffer;
 * `hive` is not modified) and a report, or null when no log applies.
 */
export function replayLogs(hive: Uint8Array, base: BaseBlock, logs: LogFile[]): { bytes: Uint8Array; report: ReplayReport } | null {
  const warnings: string[] = [];
  const parsed = logs.map((l) => parseLogBase(l, warnings)).filter((p): p is ParsedLog => p !== null);
  const newer = parsed.filter((p) => p.base.fileType === FILE_TYPE_LOG_NEW);
  const older = parsed.filter((p) => p.base.fileType !== FILE_TYPE_LOG_NEW);
  if (newer.length > 0) {
    const r = replayNew(hive, base, newer, warnings);
    if (r) return r;
  }
  if (older.length > 0) {
    const r = replayOld(hive, base, older, warnings);
    if (r) return r;
  }
  if (warnings.length > 0 || logs.length > 0) {
    return { bytes: hive, report: { logs: [], format: 'none', entries: 0, dirtyPages: 0, sequence: base.secondarySequence, baseBlockRecovered: false, warnings } };
  }
  return null;
}

function grow(buf: Uint8Array, size: number): Uint8Array {
  if (buf.length >= size) return buf;
  if (size > REGISTRY_LIMITS.maxHiveBytes) {
    throw new GuestkitError('LIMIT', `recovered hive would be ${size} bytes, over the ${REGISTRY_LIMITS.maxHiveBytes}-byte limit`);
  }
  const n = new Uint8Array(size);
  n.set(buf);
  return n;
}

function replayNew(hive: Uint8Array, base: BaseBlock, logs: ParsedLog[], warnings: string[]) {
  const primaryValid = base.checksumValid;
  const perLog = logs.map((p) => ({ p, entries: parseLogEntries(p.log, warnings) }));
  // With a bad primary base block only the log holding the latest entries is used, and its
  // base block replaces the primary's (spec, "Multiple transaction log files").
  let usable = perLog;
  let out: Uint8Array = new Uint8Array(hive);
  let recovered = false;
  if (!primaryValid) {
    const latest = perLog
      .filter((l) => l.entries.length > 0)
      .sort((a, b) => b.entries[b.entries.length - 1].sequence - a.entries[a.entries.length - 1].sequence)[0];
    if (!latest) return null;
    usable = [latest];
    out.set(latest.p.log.bytes.subarray(0, 512), 0);
    new DataView(out.buffer).setUint32(28, FILE_TYPE_PRIMARY, true);
    recovered = true;
  }
  const minSeq = primaryValid ? base.secondarySequence : 0;
  const bySeq = new Map<number, LogEntry>();
  for (const l of usable) {
    for (const e of l.entries) {
      if (e.sequence < minSeq) continue;
      if (!bySeq.has(e.sequence)) bySeq.set(e.sequence, e);
    }
  }
  if (bySeq.size === 0) return null;
  let seq = Math.min(...bySeq.keys());
  let entries = 0;
  let pages = 0;
  const used = new Set<string>();
  let dv = new DataView(out.buffer);
  let last = seq;
  for (let e = bySeq.get(seq); e; e = bySeq.get(++seq)) {
    out = grow(out, BASE_BLOCK_SIZE + e.hiveBinsDataSize);
    dv = new DataView(out.buffer);
    for (const pg of e.pages) out.set(pg.data, BASE_BLOCK_SIZE + pg.offset);
    dv.setUint32(40, e.hiveBinsDataSize, true);
    dv.setUint32(144, (dv.getUint32(144, true) & ~1) | (e.flags & 1), true);
    entries++;
    pages += e.pages.length;
    used.add(e.log);
    last = e.sequence;
  }
  const skipped = [...bySeq.keys()].filter((s) => s > last).length;
  if (skipped > 0) warnings.push(`${skipped} log entries after sequence ${last} were not applied (a sequence number is missing)`);
  dv.setUint32(4, last, true);
  dv.setUint32(8, last, true);
  writeChecksum(out);
  return {
    bytes: out.subarray(0, BASE_BLOCK_SIZE + dv.getUint32(40, true)),
    report: { logs: [...used], format: 'new' as const, entries, dirtyPages: pages, sequence: last, baseBlockRecovered: recovered, warnings },
  };
}

// ---- Old format (DIRT)

function replayOld(hive: Uint8Array, base: BaseBlock, logs: ParsedLog[], warnings: string[]) {
  // A log applies when it is consistent (equal sequence numbers) and was written for this
  // primary file (same last written timestamp), or always when the primary base block is bad.
  const candidates = logs
    .filter((p) => {
      if (p.base.primarySequence !== p.base.secondarySequence) {
        warnings.push(`${p.log.name}: log is itself incomplete (sequence numbers differ); log ignored`);
        return false;
      }
      if (base.checksumValid && p.base.lastWritten !== base.lastWritten) {
        warnings.push(`${p.log.name}: written for another state of the hive (timestamps differ); log ignored`);
        return false;
      }
      return true;
    })
    .sort((a, b) => b.base.primarySequence - a.base.primarySequence);
  const p = candidates[0];
  if (!p) return null;
  const sector = REGISTRY_LIMITS.logSectorSize;
  const buf = p.log.bytes;
  const hbs = p.base.hiveBinsDataSize;
  if (hbs % 512 !== 0 || buf.length < sector + 4) throw new GuestkitError('CORRUPT', `${p.log.name}: dirty vector is missing`);
  const b = new Bytes(buf, `${p.log.name}: dirty vector`);
  if (b.u32be(sector) !== 0x44495254) throw new GuestkitError('CORRUPT', `${p.log.name}: dirty vector has no "DIRT" signature`);
  const bits = hbs / 512;
  const bitmap = b.raw(sector + 4, Math.ceil(bits / 8));
  const pagesStart = Math.ceil((sector + 4 + bitmap.length) / sector) * sector;
  let out = grow(new Uint8Array(hive), BASE_BLOCK_SIZE + hbs);
  let n = 0;
  for (let i = 0; i < bits; i++) {
    if ((bitmap[i >>> 3] & (1 << (i & 7))) === 0) continue;
    const src = pagesStart + n * sector;
    out.set(b.raw(src, sector), BASE_BLOCK_SIZE + i * sector);
    n++;
  }
  if (!base.checksumValid) {
    out.set(buf.subarray(0, sector), 0);
    new DataView(out.buffer).setUint32(28, FILE_TYPE_PRIMARY, true);
  }
  const dv = new DataView(out.buffer);
  dv.setUint32(40, hbs, true);
  dv.setUint32(4, p.base.primarySequence, true);
  dv.setUint32(8, p.base.primarySequence, true);
  writeChecksum(out);
  out = out.subarray(0, BASE_BLOCK_SIZE + hbs);
  return {
    bytes: out,
    report: { logs: [p.log.name], format: 'old' as const, entries: 0, dirtyPages: n, sequence: p.base.primarySequence, baseBlockRecovered: !base.checksumValid, warnings },
  };
}

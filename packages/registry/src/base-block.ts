// The regf base block (file header): the first 4096 bytes of a primary file, the first 512 of
// a transaction log. Spec: msuhanov "Windows registry file format specification", "Base block";
// libregf "Windows NT Registry File (REGF) format", section 2 "File header".

import { Bytes, GuestkitError } from '@guestkit/core';

/** Size of the base block in a primary file; hive bin offsets are relative to its end. */
export const BASE_BLOCK_SIZE = 4096;
/** Bytes covered by the XOR-32 checksum (the checksum itself is at 508). */
export const CHECKSUM_OFFSET = 508;

export const FILE_TYPE_PRIMARY = 0;
/** Old-format (DIRT) transaction log, Windows XP to 8.0. */
export const FILE_TYPE_LOG = 1;
/** Old-format transaction log, Windows NT 3.51 to 2000. */
export const FILE_TYPE_LOG_NT = 2;
/** New-format (HvLE) transaction log, Windows 8.1 and later. */
export const FILE_TYPE_LOG_NEW = 6;

export interface BaseBlock {
  /** Incremented when a write to the primary file starts. */
  primarySequence: number;
  /** Incremented when it ends; differs from primarySequence while the hive is dirty. */
  secondarySequence: number;
  /** Last written timestamp, FILETIME (100 ns units since 1601-01-01 UTC). */
  lastWritten: bigint;
  majorVersion: number;
  minorVersion: number;
  fileType: number;
  fileFormat: number;
  /** Root key node offset, relative to the start of the hive bins data. */
  rootCellOffset: number;
  hiveBinsDataSize: number;
  clusteringFactor: number;
  /** Debugging name (a partial path of the primary file), UTF-16LE, up to 32 characters. */
  fileName: string;
  /** Windows 10 Flags field (bit 0: KTM locked the hive). */
  flags: number;
  checksum: number;
  computedChecksum: number;
  /** The stored checksum matches (either the spec's adjusted XOR or hivex's plain XOR). */
  checksumValid: boolean;
  /** Sequence numbers differ: a write did not complete; transaction logs may hold newer data. */
  sequenceMismatch: boolean;
}

/** XOR-32 of the first 508 bytes; 0xffffffff becomes 0xfffffffe and 0 becomes 1 (spec note 2). */
export function baseBlockChecksum(buf: Uint8Array): number {
  const x = plainXor(buf);
  if (x === 0xffffffff) return 0xfffffffe;
  if (x === 0) return 1;
  return x;
}

function plainXor(buf: Uint8Array): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, Math.min(buf.length, CHECKSUM_OFFSET));
  let x = 0;
  for (let i = 0; i < CHECKSUM_OFFSET; i += 4) x ^= dv.getUint32(i, true);
  return x >>> 0;
}

/**
 * Parse a base block. `what` names the file in errors. Throws CORRUPT on a short block or a
 * missing "regf" signature, UNSUPPORTED on format versions we do not read.
 */
export function parseBaseBlock(buf: Uint8Array, what: string): BaseBlock {
  if (buf.length < 512) {
    throw new GuestkitError('CORRUPT', `${what}: file is too short to be a registry hive (${buf.length} bytes)`);
  }
  const b = new Bytes(buf.subarray(0, 512), `${what}: regf base block`);
  if (b.u32be(0) !== 0x72656766) {
    throw new GuestkitError('UNKNOWN_FORMAT', `${what}: not a Windows registry hive (no "regf" signature)`);
  }
  const checksum = b.u32le(508);
  const computedChecksum = baseBlockChecksum(buf);
  const bb: BaseBlock = {
    primarySequence: b.u32le(4),
    secondarySequence: b.u32le(8),
    lastWritten: b.u64leBig(12),
    majorVersion: b.u32le(20),
    minorVersion: b.u32le(24),
    fileType: b.u32le(28),
    fileFormat: b.u32le(32),
    rootCellOffset: b.u32le(36),
    hiveBinsDataSize: b.u32le(40),
    clusteringFactor: b.u32le(44),
    fileName: b.utf16le(48, 64).replace(/\0.*$/s, ''),
    flags: b.u32le(144),
    checksum,
    computedChecksum,
    checksumValid: checksum === computedChecksum || checksum === plainXor(buf),
    sequenceMismatch: false,
  };
  bb.sequenceMismatch = bb.primarySequence !== bb.secondarySequence;
  return bb;
}

/** Refuse versions other than 1.2 to 1.6 (1.0/1.1 from NT 3.1/3.5 use a different cell layout). */
export function checkVersion(bb: BaseBlock, what: string): void {
  if (bb.majorVersion !== 1) {
    throw new GuestkitError('UNSUPPORTED', `${what}: regf major version ${bb.majorVersion} (expected 1)`);
  }
  if (bb.minorVersion < 2) {
    throw new GuestkitError('UNSUPPORTED', `${what}: regf version 1.${bb.minorVersion} (Windows NT 3.1/3.5) is not supported`);
  }
}

/** Recompute and store the checksum of a base block held in `buf` (in place). */
export function writeChecksum(buf: Uint8Array): void {
  new DataView(buf.buffer, buf.byteOffset, 512).setUint32(CHECKSUM_OFFSET, baseBlockChecksum(buf), true);
}

/** FILETIME (100 ns since 1601) for a JS time in milliseconds. */
export function filetimeFromMs(ms: number): bigint {
  return BigInt(Math.round(ms)) * 10000n + 116444736000000000n;
}

/** ISO 8601 UTC for a FILETIME, with 100 ns precision trimmed to what Date holds (ms). */
export function filetimeToIso(ft: bigint): string | null {
  if (ft === 0n) return null;
  const ms = (ft - 116444736000000000n) / 10000n;
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString();
}

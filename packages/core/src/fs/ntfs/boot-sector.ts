// NTFS volume header (boot sector), libfsntfs "New Technologies File System (NTFS)" §4
// "The volume header": signature, BIOS parameter block, MFT location and the MFT entry and
// index entry sizes with their cluster-or-power-of-two encoding.

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';

export const NTFS_SIGNATURE = 'NTFS    ';
/** Largest cluster block size mkntfs and Windows 10 accept (2 MiB). */
export const MAX_CLUSTER_SIZE = 2 * 1024 * 1024;
/** MFT entries and index entries: 256 bytes to 64 KiB. */
export const MIN_RECORD_SIZE = 256;
export const MAX_RECORD_SIZE = 64 * 1024;

export interface BootSector {
  bytesPerSector: number;
  clusterSize: number;
  /** Total number of sectors of the volume (the backup boot sector is not counted). */
  totalSectors: number;
  /** Number of clusters: totalSectors / sectors per cluster. */
  clusterCount: number;
  mftLcn: number;
  mftMirrLcn: number;
  mftEntrySize: number;
  indexEntrySize: number;
  /** The 64-bit volume serial number (blkid's UUID for NTFS). */
  serial: bigint;
}

/**
 * The "MFT entry size" and "index entry size" bytes: 0..127 are cluster counts, 128..255 a
 * signed byte -n giving 2^n bytes.
 */
export function decodeRecordSize(v: number, clusterSize: number, what: string): number {
  let size: number;
  if (v < 128) size = v * clusterSize;
  else {
    const shift = 256 - v;
    if (shift > 31) throw new GuestkitError('CORRUPT', `${what}: size exponent ${shift} is out of range`);
    size = 2 ** shift;
  }
  if (size < MIN_RECORD_SIZE || size > MAX_RECORD_SIZE || (size & (size - 1)) !== 0) {
    throw new GuestkitError('CORRUPT', `${what}: size ${size} (encoded 0x${v.toString(16)}) is not a power of two between ${MIN_RECORD_SIZE} and ${MAX_RECORD_SIZE}`);
  }
  return size;
}

export function isNtfsBootSector(b: Uint8Array): boolean {
  return b.length >= 11 && Buffer.from(b.subarray(3, 11)).toString('latin1') === NTFS_SIGNATURE;
}

export function parseBootSector(buf: Uint8Array, what = 'NTFS boot sector'): BootSector {
  const b = new Bytes(buf, what);
  if (b.length < 512) throw new GuestkitError('CORRUPT', `${what}: shorter than 512 bytes`);
  const sig = b.cstring(3, 8, 'latin1');
  if (Buffer.from(b.raw(3, 8)).toString('latin1') !== NTFS_SIGNATURE) {
    throw new GuestkitError('UNKNOWN_FORMAT', `${what}: no NTFS signature (found ${JSON.stringify(sig)})`);
  }
  const bytesPerSector = b.u16le(11);
  if (bytesPerSector < 256 || bytesPerSector > 4096 || (bytesPerSector & (bytesPerSector - 1)) !== 0) {
    throw new GuestkitError('CORRUPT', `${what}: bytes per sector ${bytesPerSector} is not a power of two between 256 and 4096`);
  }
  const spc = b.u8(13);
  let sectorsPerCluster: number;
  if (spc >= 1 && spc <= 128) sectorsPerCluster = spc;
  else if (spc >= 244) sectorsPerCluster = 2 ** (256 - spc);
  else throw new GuestkitError('CORRUPT', `${what}: sectors per cluster value ${spc} is invalid`);
  if ((sectorsPerCluster & (sectorsPerCluster - 1)) !== 0) {
    throw new GuestkitError('CORRUPT', `${what}: sectors per cluster ${sectorsPerCluster} is not a power of two`);
  }
  const clusterSize = bytesPerSector * sectorsPerCluster;
  if (clusterSize > MAX_CLUSTER_SIZE) {
    throw new GuestkitError('CORRUPT', `${what}: cluster size ${clusterSize} exceeds ${MAX_CLUSTER_SIZE}`);
  }
  const totalSectors = b.u64le(40);
  const clusterCount = Math.floor(totalSectors / sectorsPerCluster);
  if (clusterCount < 16) throw new GuestkitError('CORRUPT', `${what}: volume of ${clusterCount} clusters is too small`);
  const mftLcn = b.u64le(48);
  const mftMirrLcn = b.u64le(56);
  if (mftLcn >= clusterCount) {
    throw new GuestkitError('CORRUPT', `${what}: MFT cluster ${mftLcn} is past the end of the volume (${clusterCount} clusters)`);
  }
  const mftEntrySize = decodeRecordSize(b.u8(64), clusterSize, `${what}: MFT entry size`);
  const indexEntrySize = decodeRecordSize(b.u8(68), clusterSize, `${what}: index entry size`);
  return {
    bytesPerSector,
    clusterSize,
    totalSectors,
    clusterCount,
    mftLcn,
    mftMirrLcn,
    mftEntrySize,
    indexEntrySize,
    serial: b.u64leBig(72),
  };
}

/** blkid's UUID for NTFS: the serial number as 16 upper-case hex digits. */
export function formatSerial(serial: bigint): string {
  return serial.toString(16).toUpperCase().padStart(16, '0');
}

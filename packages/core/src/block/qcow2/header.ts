// qcow2 image header: QEMU docs/interop/qcow2.txt, "Header" (version 2: 72 bytes; version 3:
// header_length bytes, at least 104, with the additional field compression_type at 104).

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { LIMITS } from '../../limits.js';

export const QCOW_MAGIC = 0x514649fb; // "QFI\xfb"

/** Smallest and largest cluster_bits QEMU opens (512 B and 2 MiB clusters). */
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21;
/** With extended L2 entries, clusters must be at least 16 KiB ("Header", cluster_bits). */
export const MIN_CLUSTER_BITS_EXTENDED_L2 = 14;
/** backing_file_size: "Must not be longer than 1023 bytes". */
export const MAX_BACKING_FILE_NAME = 1023;
export const V2_HEADER_LENGTH = 72;
export const V3_MIN_HEADER_LENGTH = 104;

// incompatible_features bits.
export const INCOMPAT_DIRTY = 1n << 0n;
export const INCOMPAT_CORRUPT = 1n << 1n;
export const INCOMPAT_DATA_FILE = 1n << 2n;
export const INCOMPAT_COMPRESSION = 1n << 3n;
export const INCOMPAT_EXTL2 = 1n << 4n;
export const INCOMPAT_KNOWN = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2;

/** compression_type values. */
export const COMPRESSION_ZLIB = 0;
export const COMPRESSION_ZSTD = 1;

export const CRYPT_METHODS: Record<number, string> = { 1: 'AES', 2: 'LUKS' };

export interface QcowHeader {
  magic: number;
  version: 2 | 3;
  backing_file_offset: number;
  backing_file_size: number;
  cluster_bits: number;
  /** Virtual disk size in bytes. */
  size: number;
  crypt_method: number;
  l1_size: number;
  l1_table_offset: number;
  refcount_table_offset: number;
  refcount_table_clusters: number;
  nb_snapshots: number;
  snapshots_offset: number;
  incompatible_features: bigint;
  compatible_features: bigint;
  autoclear_features: bigint;
  refcount_order: number;
  header_length: number;
  compression_type: number;
  /** 1 << cluster_bits. */
  cluster_size: number;
}

/**
 * Parse the header at the start of `b` (which holds the first bytes of the file: at least
 * the 72 bytes of a version 2 header, ideally the whole first cluster). `path` names the
 * image in messages.
 */
export function parseHeader(b: Bytes, path: string): QcowHeader {
  const what = `${path}: qcow2 header`;
  if (b.length < V2_HEADER_LENGTH) {
    throw new GuestkitError('CORRUPT', `${what}: the file is ${b.length} bytes, shorter than a qcow2 header (72 bytes)`);
  }
  const magic = b.u32be(0);
  if (magic !== QCOW_MAGIC) {
    throw new GuestkitError('UNKNOWN_FORMAT', `${path}: not a qcow2 image (magic 0x${magic.toString(16)}, expected 0x514649fb)`);
  }
  const version = b.u32be(4);
  if (version !== 2 && version !== 3) {
    if (version === 1) {
      throw new GuestkitError('UNSUPPORTED', `${what}: version 1 (the old qcow format) is not supported; convert it with qemu-img convert -O qcow2`);
    }
    if (version < 256) {
      throw new GuestkitError('UNSUPPORTED', `${what}: qcow2 version ${version} is not supported (supported: 2 and 3)`);
    }
    throw new GuestkitError('CORRUPT', `${what}: invalid version ${version}`);
  }
  const cluster_bits = b.u32be(20);
  if (cluster_bits < MIN_CLUSTER_BITS || cluster_bits > 63) {
    throw new GuestkitError('CORRUPT', `${what}: invalid cluster_bits ${cluster_bits}`);
  }
  if (cluster_bits > MAX_CLUSTER_BITS) {
    throw new GuestkitError('UNSUPPORTED', `${what}: cluster size 2^${cluster_bits} is larger than 2 MiB (QEMU's limit too)`);
  }
  const cluster_size = 2 ** cluster_bits;

  let header_length = V2_HEADER_LENGTH;
  let incompatible_features = 0n;
  let compatible_features = 0n;
  let autoclear_features = 0n;
  let refcount_order = 4;
  let compression_type = COMPRESSION_ZLIB;
  if (version === 3) {
    if (b.length < V3_MIN_HEADER_LENGTH) {
      throw new GuestkitError('CORRUPT', `${what}: the file is ${b.length} bytes, shorter than a version 3 header (104 bytes)`);
    }
    incompatible_features = b.u64beBig(72);
    compatible_features = b.u64beBig(80);
    autoclear_features = b.u64beBig(88);
    refcount_order = b.u32be(96);
    header_length = b.u32be(100);
    if (header_length < V3_MIN_HEADER_LENGTH || header_length % 8 !== 0 || header_length > cluster_size) {
      throw new GuestkitError('CORRUPT', `${what}: invalid header_length ${header_length}`);
    }
    if (refcount_order > 6) {
      throw new GuestkitError('CORRUPT', `${what}: invalid refcount_order ${refcount_order} (at most 6)`);
    }
    if (header_length > 104) {
      // compression_type is a single byte at 104, followed by padding.
      compression_type = b.u8(104);
    }
  }

  const backing_file_offset = b.u64be(8);
  const backing_file_size = b.u32be(16);
  if (backing_file_offset !== 0) {
    if (backing_file_size > MAX_BACKING_FILE_NAME) {
      throw new GuestkitError('CORRUPT', `${what}: backing file name is ${backing_file_size} bytes (at most ${MAX_BACKING_FILE_NAME})`);
    }
    if (backing_file_offset < header_length || backing_file_offset + backing_file_size > cluster_size) {
      throw new GuestkitError(
        'CORRUPT',
        `${what}: backing file name at ${backing_file_offset} (+${backing_file_size}) is outside the header cluster`,
      );
    }
  }

  const size = b.u64be(24);
  const crypt_method = b.u32be(32);
  const l1_size = b.u32be(36);
  const l1_table_offset = b.u64be(40);
  const refcount_table_offset = b.u64be(48);
  const refcount_table_clusters = b.u32be(56);
  const nb_snapshots = b.u32be(60);
  const snapshots_offset = b.u64be(64);

  const h: QcowHeader = {
    magic,
    version,
    backing_file_offset,
    backing_file_size,
    cluster_bits,
    size,
    crypt_method,
    l1_size,
    l1_table_offset,
    refcount_table_offset,
    refcount_table_clusters,
    nb_snapshots,
    snapshots_offset,
    incompatible_features,
    compatible_features,
    autoclear_features,
    refcount_order,
    header_length,
    compression_type,
    cluster_size,
  };
  checkL1Geometry(h, h.l1_table_offset, h.l1_size, h.size, what);
  return h;
}

/** Entries in one L2 table (16-byte entries with Extended L2 Entries). */
export function l2Entries(h: QcowHeader): number {
  return h.cluster_size / ((h.incompatible_features & INCOMPAT_EXTL2) !== 0n ? 16 : 8);
}

/**
 * An L1 table (the active one or a snapshot's) must be cluster-aligned, fit the metadata
 * limit, and have enough entries to map `size` bytes.
 */
export function checkL1Geometry(h: QcowHeader, offset: number, entries: number, size: number, what: string): void {
  if (entries * 8 > LIMITS.maxMetadata) {
    throw new GuestkitError('LIMIT', `${what}: L1 table of ${entries} entries exceeds the limit of ${LIMITS.maxMetadata} bytes`);
  }
  if (entries > 0 && (offset === 0 || offset % h.cluster_size !== 0)) {
    throw new GuestkitError('CORRUPT', `${what}: L1 table offset 0x${offset.toString(16)} is not aligned to a cluster`);
  }
  const perL1 = l2Entries(h) * h.cluster_size;
  const needed = Math.ceil(size / perL1);
  if (entries < needed) {
    throw new GuestkitError('CORRUPT', `${what}: L1 table has ${entries} entries, too few for a ${size}-byte disk (needs ${needed})`);
  }
}

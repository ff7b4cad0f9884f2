// qcow2 header extensions: QEMU docs/interop/qcow2.txt, "Header extensions", "String header
// extensions" and "Feature name table". They follow the header inside the first cluster and
// end at the end-of-extensions marker, at the backing file name, or at the end of the cluster.

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import type { QcowHeader } from './header.js';

export const EXT_END = 0x00000000;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_TABLE = 0x6803f857;
export const EXT_BITMAPS = 0x23852875;
export const EXT_CRYPTO_HEADER = 0x0537be77;
export const EXT_DATA_FILE = 0x44415441;

/** QEMU keeps the backing format in a 16-byte buffer: longer names are refused. */
export const MAX_BACKING_FORMAT = 15;
/** External data file names, like backing file names, are at most 1023 bytes. */
export const MAX_DATA_FILE_NAME = 1023;
/** Feature name table entry: type (1), bit (1), name (46). */
export const FEATURE_ENTRY_SIZE = 48;

export type FeatureType = 'incompatible' | 'compatible' | 'autoclear';

export interface FeatureName {
  type: FeatureType;
  bit: number;
  name: string;
}

export interface HeaderExtensions {
  /** Backing file format name ("raw", "qcow2"...). */
  backingFormat?: string;
  /** Names of feature bits, for messages about features we do not know. */
  featureNames: FeatureName[];
  /** External data file name. */
  dataFile?: string;
  /** Types of extensions present, in order (unknown ones included). */
  types: number[];
}

const FEATURE_TYPES: FeatureType[] = ['incompatible', 'compatible', 'autoclear'];

/**
 * Parse the extensions in `cluster` (the first cluster of the file, possibly shorter when
 * the file is) from `h.header_length` to the backing file name or the cluster's end.
 */
export function parseHeaderExtensions(cluster: Bytes, h: QcowHeader, path: string): HeaderExtensions {
  const out: HeaderExtensions = { featureNames: [], types: [] };
  let end = h.backing_file_offset !== 0 ? h.backing_file_offset : h.cluster_size;
  end = Math.min(end, cluster.length);
  let off = h.header_length;
  // Each extension takes at least 8 bytes, so this loop runs at most cluster_size/8 times.
  while (off + 8 <= end) {
    const type = cluster.u32be(off);
    const len = cluster.u32be(off + 4);
    if (type === EXT_END) break;
    const what = `${path}: qcow2 header extension 0x${type.toString(16).padStart(8, '0')} at ${off}`;
    if (off + 8 + len > end) {
      throw new GuestkitError('CORRUPT', `${what}: length ${len} runs past the end of the extension area (${end})`);
    }
    const data = cluster.slice(off + 8, len, what);
    out.types.push(type);
    switch (type) {
      case EXT_BACKING_FORMAT:
        if (len > MAX_BACKING_FORMAT) {
          throw new GuestkitError('CORRUPT', `${what}: backing format name is ${len} bytes (at most ${MAX_BACKING_FORMAT})`);
        }
        out.backingFormat = data.cstring(0, len, 'latin1');
        break;
      case EXT_FEATURE_TABLE:
        for (let i = 0; i + FEATURE_ENTRY_SIZE <= len; i += FEATURE_ENTRY_SIZE) {
          const t = data.u8(i);
          const bit = data.u8(i + 1);
          if (t >= FEATURE_TYPES.length || bit > 63) continue; // unknown kinds are ignored
          out.featureNames.push({ type: FEATURE_TYPES[t], bit, name: data.cstring(i + 2, 46) });
        }
        break;
      case EXT_DATA_FILE:
        if (len > MAX_DATA_FILE_NAME) {
          throw new GuestkitError('CORRUPT', `${what}: external data file name is ${len} bytes (at most ${MAX_DATA_FILE_NAME})`);
        }
        out.dataFile = data.cstring(0, len);
        break;
      default:
        // Bitmaps, the encryption header pointer and unknown extensions: not needed to read.
        break;
    }
    off += 8 + Math.ceil(len / 8) * 8;
  }
  return out;
}

/** The name the image gives a feature bit, if its feature name table has one. */
export function featureName(ext: HeaderExtensions, type: FeatureType, bit: number): string | undefined {
  return ext.featureNames.find((f) => f.type === type && f.bit === bit)?.name || undefined;
}

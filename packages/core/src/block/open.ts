// openImage: path → BlockDevice, detecting the format by magic unless one is forced.

import { closeSync, openSync, readSync } from 'node:fs';
import type { BlockDevice } from './device.js';
import { RawFile } from './raw.js';
import { GuestkitError, fromSystemError } from '../errors.js';
import { listQcow2Snapshots, openQcow2, type Qcow2Snapshot } from './qcow2/index.js';

export type ImageFormat = 'raw' | 'qcow2';
export const IMAGE_FORMATS: readonly ImageFormat[] = ['raw', 'qcow2'];

export interface OpenOptions {
  /** Force a format (as --format does); otherwise detected by magic. */
  format?: ImageFormat | string;
  /** qcow2: read the state of this internal snapshot (name or id). */
  snapshot?: string;
  /** qcow2: follow the backing file (default true). false = unallocated reads as zeros. */
  backing?: boolean;
  /** qcow2: extra trees in which backing files may live (--backing-dir). */
  backingDirs?: string[];
  /** qcow2: open even when the corrupt bit is set. */
  force?: boolean;
}

const QCOW_MAGIC = 0x514649fb; // "QFI\xfb"

/** Detect a file's image format from its first bytes. */
export function detectFormat(path: string): ImageFormat {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw fromSystemError(e, path);
  }
  try {
    const b = Buffer.alloc(4);
    const n = readSync(fd, b, 0, 4, 0);
    if (n === 4 && b.readUInt32BE(0) === QCOW_MAGIC) return 'qcow2';
    return 'raw';
  } catch (e) {
    throw fromSystemError(e, path);
  } finally {
    closeSync(fd);
  }
}

export function openImage(path: string, opts: OpenOptions = {}): BlockDevice {
  const format = opts.format ?? detectFormat(path);
  switch (format) {
    case 'raw':
      if (opts.snapshot !== undefined) {
        throw new GuestkitError('USAGE', `${path}: --snapshot needs a qcow2 image, this one is raw`);
      }
      return new RawFile(path);
    case 'qcow2':
      return openQcow2(path, opts);
    default:
      throw new GuestkitError(
        'UNSUPPORTED',
        `${path}: image format '${format}' is not supported (supported: ${IMAGE_FORMATS.join(', ')})`,
      );
  }
}

/**
 * Internal snapshots of an image (qcow2; a raw image has none), as `qemu-img snapshot -l`
 * lists them.
 */
export function listSnapshots(path: string, opts: Pick<OpenOptions, 'format'> = {}): Qcow2Snapshot[] {
  const format = opts.format ?? detectFormat(path);
  if (format === 'qcow2') return listQcow2Snapshots(path);
  if (format === 'raw') return [];
  throw new GuestkitError('UNSUPPORTED', `${path}: image format '${format}' is not supported (supported: ${IMAGE_FORMATS.join(', ')})`);
}

// qcow2 images (QEMU docs/interop/qcow2.txt): open an image and its backing chain as a
// read-only block device, list its internal snapshots.

import type { BlockDevice } from '../device.js';
import type { OpenOptions } from '../open.js';
import { RawFile } from '../raw.js';
import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { warn } from '../../warn.js';
import { HostFile } from './host-file.js';
import {
  COMPRESSION_ZLIB,
  COMPRESSION_ZSTD,
  CRYPT_METHODS,
  INCOMPAT_COMPRESSION,
  INCOMPAT_CORRUPT,
  INCOMPAT_DATA_FILE,
  INCOMPAT_DIRTY,
  INCOMPAT_EXTL2,
  INCOMPAT_KNOWN,
  MIN_CLUSTER_BITS_EXTENDED_L2,
  V2_HEADER_LENGTH,
  checkL1Geometry,
  parseHeader,
  type QcowHeader,
} from './header.js';
import { featureName, parseHeaderExtensions, type HeaderExtensions } from './header-extensions.js';
import { readL1Table } from './tables.js';
import { findSnapshot, readSnapshotTable, type Qcow2Snapshot } from './snapshot.js';
import { probeBackingFormat, resolveBackingFile } from './backing.js';
import { Qcow2Device } from './device.js';

export { Qcow2Device } from './device.js';
export { allocIoBuffer } from './host-file.js';
export { closeInflatePool } from './inflate-pool.js';
export { formatSnapshotList, qemuSizeToStr } from './snapshot-list.js';
export type { Qcow2Snapshot } from './snapshot.js';
export type { QcowHeader } from './header.js';

/** What the first cluster of an image says, before any table is read. */
export interface Qcow2Info {
  header: QcowHeader;
  extensions: HeaderExtensions;
  /** The backing file name as recorded (not resolved), if any. */
  backingFile?: string;
}

/** Chain state while opening: depth of the layer and the files already in the chain. */
interface ChainContext {
  depth: number;
  /** st_dev:st_ino → the name it was opened by. */
  seen: Map<string, string>;
  names: string[];
}

function readInfo(host: HostFile, path: string): Qcow2Info {
  // The first 4 KiB hold every header field; the header cluster is read whole once its size is known.
  const first = new Bytes(host.readUpTo(0, 4096, 'qcow2 header'), `${path}: qcow2 header`);
  const header = parseHeader(first, path);
  const cluster =
    header.cluster_size <= first.length
      ? first
      : new Bytes(host.readUpTo(0, header.cluster_size, 'qcow2 header cluster'), `${path}: qcow2 header cluster`);
  if (cluster.length < Math.max(header.header_length, V2_HEADER_LENGTH)) {
    throw new GuestkitError('CORRUPT', `${path}: qcow2 header: the file ends inside the header`);
  }
  const extensions = parseHeaderExtensions(cluster, header, path);
  let backingFile: string | undefined;
  if (header.backing_file_offset !== 0 && header.backing_file_size > 0) {
    if (header.backing_file_offset + header.backing_file_size > cluster.length) {
      throw new GuestkitError('CORRUPT', `${path}: qcow2 header: the file ends inside the backing file name`);
    }
    backingFile = Buffer.from(cluster.raw(header.backing_file_offset, header.backing_file_size)).toString('utf8');
  }
  return { header, extensions, backingFile };
}

/**
 * Refuse what we must not or cannot read: unknown incompatible features, external data
 * files, encryption, the corrupt bit (unless forced). Warn about the dirty bit.
 */
function checkFeatures(info: Qcow2Info, path: string, force: boolean): void {
  const h = info.header;
  const inc = h.incompatible_features;
  const unknown = inc & ~INCOMPAT_KNOWN;
  if (unknown !== 0n) {
    const bits: string[] = [];
    for (let bit = 0; bit < 64; bit++) {
      if ((unknown >> BigInt(bit)) & 1n) {
        const name = featureName(info.extensions, 'incompatible', bit);
        bits.push(name ? `bit ${bit} (${name})` : `bit ${bit}`);
      }
    }
    throw new GuestkitError('UNSUPPORTED', `${path}: qcow2 image uses unknown incompatible feature ${bits.join(', ')}; refusing to read it`);
  }
  if (inc & INCOMPAT_CORRUPT) {
    if (!force) {
      throw new GuestkitError('REFUSED', `${path}: qcow2 image is marked corrupt (incompatible feature bit 1); use --force to read it anyway`);
    }
    warn(`${path}: qcow2 image is marked corrupt; reading it anyway because of --force`);
  }
  if (inc & INCOMPAT_DATA_FILE) {
    const name = info.extensions.dataFile ? ` "${info.extensions.dataFile}"` : '';
    throw new GuestkitError('UNSUPPORTED', `${path}: qcow2 image keeps its data in an external data file${name}, which guestkit does not read`);
  }
  if (h.crypt_method !== 0) {
    const m = CRYPT_METHODS[h.crypt_method] ?? `method ${h.crypt_method}`;
    throw new GuestkitError('UNSUPPORTED', `${path}: qcow2 image is encrypted (${m}), which guestkit does not read`);
  }
  if (inc & INCOMPAT_COMPRESSION) {
    if (h.compression_type === COMPRESSION_ZLIB) {
      throw new GuestkitError('CORRUPT', `${path}: qcow2 header: compression type bit set but compression_type is zlib`);
    }
  } else if (h.compression_type !== COMPRESSION_ZLIB) {
    throw new GuestkitError('CORRUPT', `${path}: qcow2 header: compression_type ${h.compression_type} without the compression type bit`);
  }
  if (h.compression_type !== COMPRESSION_ZLIB && h.compression_type !== COMPRESSION_ZSTD) {
    throw new GuestkitError('UNSUPPORTED', `${path}: qcow2 compression type ${h.compression_type} is not supported (zlib and zstd are)`);
  }
  if (inc & INCOMPAT_EXTL2 && h.cluster_bits < MIN_CLUSTER_BITS_EXTENDED_L2) {
    throw new GuestkitError('CORRUPT', `${path}: qcow2 header: extended L2 entries need clusters of at least 16 KiB`);
  }
  if (inc & INCOMPAT_DIRTY) {
    warn(`${path}: qcow2 image is dirty (not closed cleanly); reading it read-only, its refcounts are not used`);
  }
}

function openLayer(path: string, real: string, opts: OpenOptions, ctx: ChainContext): Qcow2Device {
  const host = new HostFile(real, path);
  let backing: BlockDevice | undefined;
  try {
    const prev = ctx.seen.get(host.identity);
    if (prev !== undefined) {
      throw new GuestkitError('LOOP', `${path}: backing chain loops: ${[...ctx.names, path].join(' -> ')}`);
    }
    ctx.seen.set(host.identity, path);
    ctx.names.push(path);
    const info = readInfo(host, path);
    const h = info.header;
    checkFeatures(info, path, !!opts.force);

    let l1Offset = h.l1_table_offset;
    let l1Size = h.l1_size;
    let size = h.size;
    let snapshotLabel: string | undefined;
    if (opts.snapshot !== undefined) {
      const list = readSnapshotTable(host, h);
      const sn = findSnapshot(list, opts.snapshot);
      if (!sn) {
        const have = list.length ? list.map((s) => `${s.id} (${s.name})`).join(', ') : 'none';
        throw new GuestkitError('NOT_FOUND', `${path}: no snapshot with ID or name "${opts.snapshot}" (snapshots: ${have})`);
      }
      l1Offset = sn.l1_table_offset;
      l1Size = sn.l1_size;
      size = sn.disk_size ?? h.size;
      snapshotLabel = sn.name || sn.id;
      checkL1Geometry(h, l1Offset, l1Size, size, `${path}: qcow2 snapshot ${sn.id} (${sn.name})`);
    }
    const l1 = readL1Table(host, l1Offset, l1Size, h.cluster_size, snapshotLabel ? `L1 table of snapshot ${snapshotLabel}` : 'qcow2 L1 table');

    if (info.backingFile !== undefined && opts.backing !== false) {
      backing = openBacking(path, info, opts, ctx);
    }
    return new Qcow2Device({
      path,
      host,
      header: h,
      l1,
      size,
      backing,
      extendedL2: (h.incompatible_features & INCOMPAT_EXTL2) !== 0n,
      compressionType: h.compression_type,
      snapshot: snapshotLabel,
    });
  } catch (e) {
    backing?.close();
    host.close();
    throw e;
  }
}

function openBacking(path: string, info: Qcow2Info, opts: OpenOptions, ctx: ChainContext): BlockDevice {
  const name = info.backingFile!;
  if (ctx.depth + 1 > LIMITS.maxBackingDepth) {
    throw new GuestkitError(
      'LIMIT',
      `${path}: backing chain is deeper than ${LIMITS.maxBackingDepth} backing files (next: "${name}")`,
    );
  }
  const r = resolveBackingFile(path, name, opts.backingDirs ?? []);
  const fmt = info.extensions.backingFormat ?? probeBackingFormat(r.real);
  switch (fmt) {
    case 'qcow2':
      return openLayer(r.path, r.real, { ...opts, snapshot: undefined }, { ...ctx, depth: ctx.depth + 1 });
    case 'raw': {
      const id = `${r.stat.dev}:${r.stat.ino}`;
      if (ctx.seen.has(id)) {
        throw new GuestkitError('LOOP', `${path}: backing chain loops: ${[...ctx.names, r.path].join(' -> ')}`);
      }
      return new RawFile(r.real);
    }
    default:
      throw new GuestkitError('UNSUPPORTED', `${path}: backing file "${name}" has format '${fmt}', which guestkit does not read (raw and qcow2 are)`);
  }
}

/** Open a qcow2 image (and, unless opts.backing === false, its backing chain). */
export function openQcow2(path: string, opts: OpenOptions): BlockDevice {
  return openLayer(path, path, opts, { depth: 0, seen: new Map(), names: [] });
}

/** Header, extensions and backing file name of a qcow2 image, without opening its tables. */
export function readQcow2Info(path: string): Qcow2Info {
  const host = new HostFile(path);
  try {
    return readInfo(host, path);
  } finally {
    host.close();
  }
}

/** The internal snapshots of a qcow2 image, in table order (as `qemu-img snapshot -l` lists them). */
export function listQcow2Snapshots(path: string): Qcow2Snapshot[] {
  const host = new HostFile(path);
  try {
    const info = readInfo(host, path);
    return readSnapshotTable(host, info.header);
  } finally {
    host.close();
  }
}

// qcow2 internal snapshots: QEMU docs/interop/qcow2.txt, "Snapshots" (the snapshot table of
// variable-length entries at snapshots_offset, nb_snapshots of them).

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import type { QcowHeader } from './header.js';
import type { HostFile } from './host-file.js';

/** Fixed part of a snapshot table entry. */
export const SNAPSHOT_ENTRY_FIXED = 40;
/** QEMU refuses extra data larger than this (QCOW_MAX_SNAPSHOT_EXTRA_DATA). */
export const MAX_SNAPSHOT_EXTRA_DATA = 1024;

export interface Qcow2Snapshot {
  /** Unique ID string ("1", "2"...). */
  id: string;
  /** Name (tag). */
  name: string;
  l1_table_offset: number;
  l1_size: number;
  /** Time the snapshot was taken: seconds since the Epoch, and nanoseconds. */
  date_sec: number;
  date_nsec: number;
  /** Guest run time when the snapshot was taken, in nanoseconds. */
  vm_clock_nsec: number;
  /** Size of the saved VM state in bytes (0: none). */
  vm_state_size: number;
  /** Virtual disk size when the snapshot was taken (extra data, version 3 images). */
  disk_size?: number;
  /** Instruction count (extra data); absent when not recorded. */
  icount?: number;
}

/** Read the snapshot table. Bounded by LIMITS.maxSnapshots entries and LIMITS.maxMetadata bytes. */
export function readSnapshotTable(host: HostFile, h: QcowHeader): Qcow2Snapshot[] {
  const n = h.nb_snapshots;
  if (n === 0) return [];
  const table = `${host.path}: qcow2 snapshot table`;
  if (n > LIMITS.maxSnapshots) {
    throw new GuestkitError('LIMIT', `${table}: ${n} snapshots exceed the limit of ${LIMITS.maxSnapshots}`);
  }
  if (h.snapshots_offset === 0 || h.snapshots_offset % h.cluster_size !== 0) {
    throw new GuestkitError('CORRUPT', `${table}: offset 0x${h.snapshots_offset.toString(16)} is not aligned to a cluster`);
  }
  const out: Qcow2Snapshot[] = [];
  let pos = h.snapshots_offset;
  for (let i = 0; i < n; i++) {
    const what = `${table}: entry ${i}`;
    if (pos + SNAPSHOT_ENTRY_FIXED - h.snapshots_offset > LIMITS.maxMetadata) {
      throw new GuestkitError('LIMIT', `${table}: larger than the limit of ${LIMITS.maxMetadata} bytes`);
    }
    const fixed = new Bytes(host.read(pos, SNAPSHOT_ENTRY_FIXED, `qcow2 snapshot table entry ${i}`), what);
    const l1_table_offset = fixed.u64be(0);
    const l1_size = fixed.u32be(8);
    const id_str_size = fixed.u16be(12);
    const name_size = fixed.u16be(14);
    const date_sec = fixed.u32be(16);
    const date_nsec = fixed.u32be(20);
    const vm_clock_nsec = Number(fixed.u64beBig(24));
    let vm_state_size = fixed.u32be(32);
    const extra_data_size = fixed.u32be(36);
    if (extra_data_size > MAX_SNAPSHOT_EXTRA_DATA) {
      throw new GuestkitError('CORRUPT', `${what}: extra data of ${extra_data_size} bytes (at most ${MAX_SNAPSHOT_EXTRA_DATA})`);
    }
    const varLen = extra_data_size + id_str_size + name_size;
    const v = new Bytes(host.read(pos + SNAPSHOT_ENTRY_FIXED, varLen, `qcow2 snapshot table entry ${i}`), what);
    let disk_size: number | undefined;
    let icount: number | undefined;
    if (extra_data_size >= 8) vm_state_size = v.u64be(0);
    if (extra_data_size >= 16) disk_size = v.u64be(8);
    if (extra_data_size >= 24) {
      const ic = v.u64beBig(16);
      if (ic !== 0xffffffffffffffffn) icount = Number(ic);
    }
    const id = v.cstring(extra_data_size, id_str_size);
    const name = v.cstring(extra_data_size + id_str_size, name_size);
    if (l1_size * 8 > LIMITS.maxMetadata) {
      throw new GuestkitError('LIMIT', `${what} (${name}): L1 table of ${l1_size} entries exceeds the limit of ${LIMITS.maxMetadata} bytes`);
    }
    out.push({ id, name, l1_table_offset, l1_size, date_sec, date_nsec, vm_clock_nsec, vm_state_size, disk_size, icount });
    pos += Math.ceil((SNAPSHOT_ENTRY_FIXED + varLen) / 8) * 8;
  }
  return out;
}

/** Find a snapshot by ID first, then by name, as QEMU does for `-l NAME`. */
export function findSnapshot(list: Qcow2Snapshot[], key: string): Qcow2Snapshot | undefined {
  return list.find((s) => s.id === key) ?? list.find((s) => s.name === key);
}

// exFAT main boot sector and the root directory's volume label entry (Microsoft "exFAT File
// System Specification" §3.1 "Main Boot Sector", §7.3 "Volume Label Directory Entry"), read as
// libblkid's superblocks/exfat.c does; size as Linux exfat_statfs() reports it (cluster heap).

import type { ProbeContext } from './context.js';
import { labelFromUtf16 } from './context.js';
import type { ProbeResult } from './types.js';
import type { Bytes } from '../bytes.js';

const ENTRY_SIZE = 32;
const ENTRY_EOD = 0x00;
const ENTRY_LABEL = 0x83;
const FIRST_DATA_CLUSTER = 2;
const LAST_DATA_CLUSTER = 0xffffff6;
/** Directory entries examined for the label (libblkid: 10000). */
const MAX_LABEL_ENTRIES = 10000;

interface ExfatBoot {
  FatOffset: number;
  ClusterHeapOffset: number;
  ClusterCount: number;
  FirstClusterOfRootDirectory: number;
  VolumeSerialNumber: Uint8Array;
  FileSystemRevision: [number, number];
  BytesPerSectorShift: number;
  SectorsPerClusterShift: number;
}

function parseBoot(b: Bytes): ExfatBoot {
  return {
    FatOffset: b.u32le(0x50),
    ClusterHeapOffset: b.u32le(0x58),
    ClusterCount: b.u32le(0x5c),
    FirstClusterOfRootDirectory: b.u32le(0x60),
    VolumeSerialNumber: b.raw(0x64, 4),
    FileSystemRevision: [b.u8(0x69), b.u8(0x68)],
    BytesPerSectorShift: b.u8(0x6c),
    SectorsPerClusterShift: b.u8(0x6d),
  };
}

export function isExfatBootSector(ctx: ProbeContext): boolean {
  return ctx.magicAt(3, 'EXFAT   ');
}

export function probeExfat(ctx: ProbeContext): ProbeResult | null {
  if (!ctx.magicAt(3, 'EXFAT   ')) return null;
  const b = ctx.read(0, 512, 'exFAT boot sector');
  if (!b) return null;
  const sb = parseBoot(b);
  // Spec ranges: sectors of 512 B to 4 KiB, clusters up to 32 MiB.
  if (sb.BytesPerSectorShift < 9 || sb.BytesPerSectorShift > 12) return null;
  if (sb.BytesPerSectorShift + sb.SectorsPerClusterShift > 25) return null;
  const sectorSize = 2 ** sb.BytesPerSectorShift;
  const clusterSize = sectorSize * 2 ** sb.SectorsPerClusterShift;
  const clusterOffset = (c: number) => (sb.ClusterHeapOffset + (c - FIRST_DATA_CLUSTER) * 2 ** sb.SectorsPerClusterShift) * sectorSize;

  const r: ProbeResult = { type: 'exfat', usage: 'filesystem' };
  // find_label(): walk the root directory's cluster chain.
  let cluster = sb.FirstClusterOfRootDirectory;
  let offset = clusterOffset(cluster);
  for (let i = 0; i < MAX_LABEL_ENTRIES; i++) {
    const e = ctx.read(offset, ENTRY_SIZE, 'exFAT directory entry');
    if (!e || e.u8(0) === ENTRY_EOD) break;
    if (e.u8(0) === ENTRY_LABEL) {
      const chars = Math.min(e.u8(1) * 2, 22);
      const label = labelFromUtf16(e.raw(2, chars));
      if (label !== undefined) r.label = label;
      break;
    }
    offset += ENTRY_SIZE;
    if (offset % clusterSize === 0) {
      const fat = ctx.read(sb.FatOffset * sectorSize + cluster * 4, 4, 'exFAT FAT entry');
      if (!fat) break;
      cluster = fat.u32le(0);
      if (cluster < FIRST_DATA_CLUSTER || cluster > LAST_DATA_CLUSTER) break;
      offset = clusterOffset(cluster);
    }
  }
  const s = sb.VolumeSerialNumber;
  if (s.some((x) => x !== 0)) {
    const h = (i: number) => s[i].toString(16).toUpperCase().padStart(2, '0');
    r.uuid = `${h(3)}${h(2)}-${h(1)}${h(0)}`;
  }
  r.version = `${sb.FileSystemRevision[0]}.${sb.FileSystemRevision[1]}`;
  r.fsSize = sb.ClusterCount * clusterSize;
  return r;
}

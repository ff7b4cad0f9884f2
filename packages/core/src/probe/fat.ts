// FAT12/16/32 boot sector and BIOS parameter block (Microsoft "FAT: General Overview of
// On-Disk Format" v1.03, §3 "Boot Sector and BPB"), validated and labelled as libblkid's
// superblocks/vfat.c does; size as Linux's fat_statfs() reports it (data clusters).

import type { ProbeContext } from './context.js';
import { labelFromBytes } from './context.js';
import type { ProbeResult } from './types.js';
import type { Bytes } from '../bytes.js';

const FAT12_MAX = 0xff4;
const FAT16_MAX = 0xfff4;
const FAT32_MAX = 0x0ffffff6;
const DIR_ENTRY_SIZE = 32;
const ATTR_VOLUME_ID = 0x08;
const ATTR_DIR = 0x10;
const ATTR_LONG_NAME = 0x0f;
const ATTR_MASK = 0x3f;
const ENTRY_FREE = 0xe5;
/** Clusters of the FAT32 root directory searched for the volume label (libblkid: 100). */
const MAX_ROOT_CLUSTERS = 100;

/** BPB fields (offsets per the FAT spec; FAT32 extended BPB from 0x24). */
interface Bpb {
  BPB_BytsPerSec: number;
  BPB_SecPerClus: number;
  BPB_RsvdSecCnt: number;
  BPB_NumFATs: number;
  BPB_RootEntCnt: number;
  BPB_TotSec16: number;
  BPB_Media: number;
  BPB_FATSz16: number;
  BPB_TotSec32: number;
  BPB_FATSz32: number;
  BPB_RootClus: number;
  BPB_FSInfo: number;
}

function parseBpb(b: Bytes): Bpb {
  return {
    BPB_BytsPerSec: b.u16le(0x0b),
    BPB_SecPerClus: b.u8(0x0d),
    BPB_RsvdSecCnt: b.u16le(0x0e),
    BPB_NumFATs: b.u8(0x10),
    BPB_RootEntCnt: b.u16le(0x11),
    BPB_TotSec16: b.u16le(0x13),
    BPB_Media: b.u8(0x15),
    BPB_FATSz16: b.u16le(0x16),
    BPB_TotSec32: b.u32le(0x20),
    BPB_FATSz32: b.u32le(0x24),
    BPB_RootClus: b.u32le(0x2c),
    BPB_FSInfo: b.u16le(0x30),
  };
}

const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** Which of libblkid's vfat magics match; 'weak' = only the jump byte or 0x55AA. */
function fatMagic(b: Bytes): 'strong' | 'weak' | null {
  const at = (off: number, s: string) => b.cstring(off, s.length, 'latin1') === s;
  if (at(0x52, 'MSWIN') || at(0x52, 'FAT32   ') || at(0x36, 'MSDOS') || at(0x36, 'FAT16   ') || at(0x36, 'FAT12   ') || at(0x36, 'FAT     ')) {
    return 'strong';
  }
  if (b.u8(0) === 0xeb || b.u8(0) === 0xe9 || (b.u8(0x1fe) === 0x55 && b.u8(0x1ff) === 0xaa)) return 'weak';
  return null;
}

interface FatGeometry {
  bpb: Bpb;
  clusterCount: number;
  fatSize: number;
}

/** libblkid fat_valid_superblock(). */
function validFat(b: Bytes): FatGeometry | null {
  const magic = fatMagic(b);
  if (!magic) return null;
  if (magic === 'weak') {
    if (b.u8(0x1fe) !== 0x55 || b.u8(0x1ff) !== 0xaa) return null;
    const m = b.cstring(0x36, 8, 'latin1');
    if (m === 'JFS     ' || m === 'HPFS    ') return null;
  }
  const bpb = parseBpb(b);
  if (!bpb.BPB_NumFATs || !bpb.BPB_RsvdSecCnt) return null;
  if (!(bpb.BPB_Media >= 0xf8 || bpb.BPB_Media === 0xf0)) return null;
  if (!isPow2(bpb.BPB_SecPerClus)) return null;
  const ss = bpb.BPB_BytsPerSec;
  if (!isPow2(ss) || ss < 512 || ss > 4096) return null;
  const sectors = bpb.BPB_TotSec16 || bpb.BPB_TotSec32;
  const fatLength = bpb.BPB_FATSz16 || bpb.BPB_FATSz32;
  const fatSize = fatLength * bpb.BPB_NumFATs;
  const dirSize = Math.floor((bpb.BPB_RootEntCnt * DIR_ENTRY_SIZE + ss - 1) / ss);
  // C unsigned arithmetic: a negative count wraps and fails the maximum below.
  const used = bpb.BPB_RsvdSecCnt + fatSize + dirSize;
  if (sectors < used) return null;
  const clusterCount = Math.floor((sectors - used) / bpb.BPB_SecPerClus);
  const max = !bpb.BPB_FATSz16 && bpb.BPB_FATSz32 ? FAT32_MAX : clusterCount > FAT12_MAX ? FAT16_MAX : FAT12_MAX;
  if (clusterCount > max) return null;
  if (isBitlocker(b)) return null;
  return { bpb, clusterCount, fatSize };
}

/** BitLocker volumes keep a FAT-like boot sector with OEM name "-FVE-FS-" (libblkid bitlocker.c). */
function isBitlocker(b: Bytes): boolean {
  return b.cstring(3, 8, 'latin1') === '-FVE-FS-';
}

/** True when the first sector is a valid FAT boot sector (used to tell it from an MBR). */
export function isFatBootSector(ctx: ProbeContext): boolean {
  const b = ctx.read(0, 512, 'FAT boot sector');
  return !!b && validFat(b) !== null;
}

/** libblkid search_fat_label(): the volume-ID entry of a root directory run. */
function searchLabel(ctx: ProbeContext, offset: number, entries: number): Uint8Array | null {
  const dir = ctx.read(offset, entries * DIR_ENTRY_SIZE, 'FAT root directory');
  if (!dir) return null;
  for (let i = 0; i < entries; i++) {
    const e = i * DIR_ENTRY_SIZE;
    const name0 = dir.u8(e);
    if (name0 === 0) break;
    const attr = dir.u8(e + 11);
    if (name0 === ENTRY_FREE || dir.u16le(e + 20) !== 0 || dir.u16le(e + 26) !== 0 || (attr & ATTR_MASK) === ATTR_LONG_NAME) continue;
    if ((attr & (ATTR_VOLUME_ID | ATTR_DIR)) === ATTR_VOLUME_ID) {
      const name = Uint8Array.from(dir.raw(e, 11));
      if (name[0] === 0x05) name[0] = 0xe5;
      return name;
    }
  }
  return null;
}

export function probeFat(ctx: ProbeContext): ProbeResult | null {
  const b = ctx.read(0, 512, 'FAT boot sector');
  if (!b) return null;
  const geo = validFat(b);
  if (!geo) return null;
  const { bpb, clusterCount, fatSize } = geo;
  const ss = bpb.BPB_BytsPerSec;
  let volLabel: Uint8Array | null = null;
  let serial: Uint8Array | null = null;
  let version: string | undefined;
  if (bpb.BPB_FATSz16) {
    volLabel = searchLabel(ctx, (bpb.BPB_RsvdSecCnt + fatSize) * ss, bpb.BPB_RootEntCnt);
    const sig = b.u8(0x26);
    if (sig === 0x28 || sig === 0x29) serial = b.raw(0x27, 4);
    if (clusterCount < FAT12_MAX) version = 'FAT12';
    else if (clusterCount < FAT16_MAX) version = 'FAT16';
  } else if (bpb.BPB_FATSz32) {
    const clusterBytes = bpb.BPB_SecPerClus * ss;
    const dataStart = bpb.BPB_RsvdSecCnt + fatSize;
    const entries = Math.floor((bpb.BPB_FATSz32 * ss) / 4);
    let next = bpb.BPB_RootClus;
    for (let loop = 1; next && next < entries && loop < MAX_ROOT_CLUSTERS; loop++) {
      const off = (dataStart + (next - 2) * bpb.BPB_SecPerClus) * ss;
      volLabel = searchLabel(ctx, off, clusterBytes / DIR_ENTRY_SIZE);
      if (volLabel) break;
      const fat = ctx.read(bpb.BPB_RsvdSecCnt * ss + next * 4, 4, 'FAT32 table entry');
      if (!fat) break;
      next = fat.u32le(0) & 0x0fffffff;
    }
    version = 'FAT32';
    serial = b.raw(0x43, 4);
    if (bpb.BPB_FSInfo) {
      const fsi = ctx.read(bpb.BPB_FSInfo * ss, 512, 'FAT32 FSInfo');
      if (!fsi) return null;
      const sig1 = fsi.u32le(0);
      const sig2 = fsi.u32le(484);
      if (sig1 !== 0x41615252 && sig1 !== 0x41645252 && sig1 !== 0) return null;
      if (sig2 !== 0x61417272 && sig2 !== 0) return null;
    }
  } else {
    return null;
  }
  const r: ProbeResult = { type: 'vfat', usage: 'filesystem' };
  if (volLabel) {
    const label = labelFromBytes(volLabel, 'latin1');
    if (label !== undefined) r.label = label;
  }
  if (serial && serial.some((x) => x !== 0)) {
    const h = (i: number) => serial![i].toString(16).toUpperCase().padStart(2, '0');
    r.uuid = `${h(3)}${h(2)}-${h(1)}${h(0)}`;
  }
  if (version) r.version = version;
  const size = fatStatfsSize(bpb);
  if (size !== undefined) r.fsSize = size;
  return r;
}

/** Linux fat_fill_super()/fat_statfs(): data clusters (capped by what the FAT can address) × cluster size. */
function fatStatfsSize(bpb: Bpb): number | undefined {
  const ss = bpb.BPB_BytsPerSec;
  const isFat32 = !bpb.BPB_FATSz16 && bpb.BPB_FATSz32 !== 0;
  const fatLength = isFat32 ? bpb.BPB_FATSz32 : bpb.BPB_FATSz16;
  const dirStart = bpb.BPB_RsvdSecCnt + bpb.BPB_NumFATs * fatLength;
  const rootDirSectors = Math.floor((bpb.BPB_RootEntCnt * DIR_ENTRY_SIZE) / ss);
  const dataStart = dirStart + rootDirSectors;
  const totalSectors = bpb.BPB_TotSec16 || bpb.BPB_TotSec32;
  if (totalSectors < dataStart) return undefined;
  let clusters = Math.floor((totalSectors - dataStart) / bpb.BPB_SecPerClus);
  const fatBits = isFat32 ? 32 : clusters > 4084 ? 16 : 12;
  const fatClusters = fatBits === 12 ? Math.floor((fatLength * ss * 8) / 12) : Math.floor((ss * 8) / fatBits) * fatLength;
  clusters = Math.min(clusters, fatClusters - 2);
  if (clusters <= 0) return undefined;
  return clusters * bpb.BPB_SecPerClus * ss;
}

// NTFS boot sector (NTFS documentation, "Boot sector": BIOS parameter block and extended BPB)
// and the $Volume file's $VOLUME_NAME attribute (MFT record 3), checked and read as libblkid's
// superblocks/ntfs.c does; size as ntfs-3g's statfs reports it (clusters × cluster size).

import type { ProbeContext } from './context.js';
import { labelFromUtf16 } from './context.js';
import type { ProbeResult } from './types.js';
import type { Bytes } from '../bytes.js';

const NTFS_MAX_CLUSTER_SIZE = 2 * 1024 * 1024;
const MFT_RECORD_VOLUME = 3;
const ATTR_VOLUME_NAME = 0x60;
const ATTR_END = 0xffffffff;
/** Attributes walked in one MFT record before giving up. */
const MAX_ATTRIBUTES = 256;

interface NtfsGeometry {
  sectorSize: number;
  sectorsPerCluster: number;
  mftRecordSize: number;
  nrClusters: number;
  mftOffset: number;
}

function ntfsGeometry(b: Bytes): NtfsGeometry | null {
  if (b.cstring(3, 8, 'latin1') !== 'NTFS    ') return null;
  const sectorSize = b.u16le(0x0b);
  if (sectorSize < 256 || sectorSize > 4096) return null;
  const spcRaw = b.u8(0x0d);
  let sectorsPerCluster: number;
  if ([1, 2, 4, 8, 16, 32, 64, 128].includes(spcRaw)) sectorsPerCluster = spcRaw;
  else if (spcRaw >= 240 && spcRaw <= 249) sectorsPerCluster = 2 ** (256 - spcRaw);
  else return null;
  if (sectorSize * sectorsPerCluster > NTFS_MAX_CLUSTER_SIZE) return null;
  // Fields that FAT uses and NTFS leaves zero.
  if (b.u16le(0x0e) || b.u16le(0x11) || b.u16le(0x13) || b.u16le(0x16) || b.u32le(0x20) || b.u8(0x10)) return null;
  const cpmRaw = b.u8(0x40);
  const cpm = cpmRaw > 127 ? cpmRaw - 256 : cpmRaw;
  if (cpmRaw < 0xe1 || cpmRaw > 0xf7) {
    if (![1, 2, 4, 8, 16, 32, 64].includes(cpm)) return null;
  }
  const mftRecordSize = cpm > 0 ? cpm * sectorsPerCluster * sectorSize : 2 ** -cpm;
  const numberOfSectors = b.u64le(0x28);
  const nrClusters = Math.floor(numberOfSectors / sectorsPerCluster);
  const mftLcn = b.u64le(0x30);
  const mftMirrLcn = b.u64le(0x38);
  if (mftLcn > nrClusters || mftMirrLcn > nrClusters) return null;
  if (mftRecordSize < 4) return null;
  return { sectorSize, sectorsPerCluster, mftRecordSize, nrClusters, mftOffset: mftLcn * sectorSize * sectorsPerCluster };
}

/** True when the first sector is a valid NTFS boot sector whose MFT is where it says. */
export function isNtfsBootSector(ctx: ProbeContext): boolean {
  return probeNtfs(ctx, false) !== null;
}

export function probeNtfs(ctx: ProbeContext, info = true): ProbeResult | null {
  const b = ctx.read(0, 512, 'NTFS boot sector');
  if (!b) return null;
  const g = ntfsGeometry(b);
  if (!g) return null;
  const mft0 = ctx.read(g.mftOffset, g.mftRecordSize, 'NTFS MFT record 0');
  if (!mft0 || mft0.cstring(0, 4, 'latin1') !== 'FILE') return null;
  const volOff = g.mftOffset + MFT_RECORD_VOLUME * g.mftRecordSize;
  const rec = ctx.read(volOff, g.mftRecordSize, 'NTFS MFT record 3 ($Volume)');
  if (!rec || rec.cstring(0, 4, 'latin1') !== 'FILE') return null;
  const r: ProbeResult = { type: 'ntfs', usage: 'filesystem' };
  if (!info) return r;
  // Walk the attributes of $Volume for $VOLUME_NAME (UTF-16LE, resident).
  let off = rec.u16le(0x14);
  const bytesAllocated = rec.u32le(0x1c);
  for (let n = 0; n < MAX_ATTRIBUTES && off + 24 <= g.mftRecordSize && off <= bytesAllocated; n++) {
    const type = rec.u32le(off);
    const len = rec.u32le(off + 4);
    if (!len) break;
    if (type === ATTR_END) break;
    if (type === ATTR_VOLUME_NAME) {
      const valLen = rec.u32le(off + 16);
      const valOff = rec.u16le(off + 20);
      if (off + valOff + valLen <= g.mftRecordSize) {
        const label = labelFromUtf16(rec.raw(off + valOff, valLen));
        if (label !== undefined) r.label = label;
      }
      break;
    }
    off += len;
  }
  const serial = b.raw(0x48, 8);
  if (serial.some((x) => x !== 0)) {
    r.uuid = Buffer.from(serial).reverse().toString('hex').toUpperCase();
  }
  r.fsSize = g.nrClusters * g.sectorsPerCluster * g.sectorSize;
  return r;
}

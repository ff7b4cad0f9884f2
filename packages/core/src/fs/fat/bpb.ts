// Boot sector and BIOS Parameter Block (Microsoft "FAT: General Overview of On-Disk Format"
// v1.03, section 3: Boot Sector and BPB; section 3.5: FAT type determination).

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { readBytes, type BlockDevice } from '../../block/device.js';

export type FatType = 12 | 16 | 32;

/** Cluster counts that decide the FAT type (spec section 3.5: "less than 4085" / "less than 65525"). */
export const FAT12_MAX_CLUSTERS = 4084;
export const FAT16_MAX_CLUSTERS = 65524;
/** Largest FAT32 cluster count: 28-bit entries minus the reserved values (spec section 4). */
export const FAT32_MAX_CLUSTERS = 0x0ffffff5;

export interface Bpb {
  /** BPB_BytsPerSec */
  bytsPerSec: number;
  /** BPB_SecPerClus */
  secPerClus: number;
  /** BPB_RsvdSecCnt */
  rsvdSecCnt: number;
  /** BPB_NumFATs */
  numFats: number;
  /** BPB_RootEntCnt (0 on FAT32) */
  rootEntCnt: number;
  /** BPB_TotSec16 or BPB_TotSec32 */
  totSec: number;
  /** BPB_Media */
  media: number;
  /** BPB_FATSz16 or BPB_FATSz32 */
  fatSz: number;
  /** BPB_HiddSec */
  hiddSec: number;
  /** FAT32: BPB_ExtFlags */
  extFlags: number;
  /** FAT32: BPB_RootClus */
  rootClus: number;
  /** FAT32: BPB_FSInfo (sector of the FSInfo structure; 0 or 0xFFFF = none) */
  fsInfo: number;
  /** BS_BootSig (0x29: the three following fields are present) */
  bootSig: number;
  /** BS_Reserved1 bit 0, which Linux sets while mounted (FAT_STATE_DIRTY). */
  dirty: boolean;
  /** BS_VolID */
  volId?: number;
  /** BS_VolLab, trailing spaces removed; undefined when absent or "NO NAME". */
  volLab?: string;
  /** BS_FilSysType, informational only (spec: never used to determine the type). */
  filSysType?: string;

  // Derived (spec section 3.5).
  fatType: FatType;
  /** RootDirSectors */
  rootDirSectors: number;
  /** FirstDataSector */
  firstDataSector: number;
  /** CountofClusters */
  countOfClusters: number;
  clusterSize: number;
}

const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** The media byte values the spec allows (BPB_Media: 0xF0, 0xF8-0xFF). */
export function validMedia(m: number): boolean {
  return m === 0xf0 || m >= 0xf8;
}

/** Parse and validate the boot sector at the start of `dev`. */
export function readBpb(dev: BlockDevice): Bpb {
  if (dev.size < 512) {
    throw new GuestkitError('CORRUPT', `FAT boot sector on ${dev.description}: device is only ${dev.size} bytes`);
  }
  const b = readBytes(dev, 0, 512, `FAT boot sector on ${dev.description}`);
  return parseBpb(b, dev.size);
}

export function parseBpb(b: Bytes, devSize: number): Bpb {
  const what = b.what;
  const bad = (detail: string) => new GuestkitError('CORRUPT', `${what}: ${detail}`);

  const bytsPerSec = b.u16le(11);
  if (!isPow2(bytsPerSec) || bytsPerSec < 512 || bytsPerSec > 4096) {
    throw bad(`BPB_BytsPerSec is ${bytsPerSec} (must be 512, 1024, 2048 or 4096)`);
  }
  const secPerClus = b.u8(13);
  if (!isPow2(secPerClus)) throw bad(`BPB_SecPerClus is ${secPerClus} (must be a power of two)`);
  const clusterSize = bytsPerSec * secPerClus;
  // The spec says at most 32 KiB; Windows NT and Linux accept 64 KiB.
  if (clusterSize > 65536) throw bad(`cluster size ${clusterSize} is larger than 64 KiB`);
  const rsvdSecCnt = b.u16le(14);
  if (rsvdSecCnt === 0) throw bad('BPB_RsvdSecCnt is 0');
  const numFats = b.u8(16);
  if (numFats === 0) throw bad('BPB_NumFATs is 0');
  const rootEntCnt = b.u16le(17);
  const totSec16 = b.u16le(19);
  const media = b.u8(21);
  if (!validMedia(media)) throw bad(`BPB_Media is 0x${media.toString(16)} (not a FAT media byte)`);
  const fatSz16 = b.u16le(22);
  const hiddSec = b.u32le(28);
  const totSec32 = b.u32le(32);
  const fatSz32 = b.u32le(36);
  const totSec = totSec16 !== 0 ? totSec16 : totSec32;
  if (totSec === 0) throw bad('BPB_TotSec16 and BPB_TotSec32 are both 0');
  const fatSz = fatSz16 !== 0 ? fatSz16 : fatSz32;
  if (fatSz === 0) throw bad('BPB_FATSz16 and BPB_FATSz32 are both 0');

  const rootDirSectors = Math.ceil((rootEntCnt * 32) / bytsPerSec);
  const firstDataSector = rsvdSecCnt + numFats * fatSz + rootDirSectors;
  if (firstDataSector >= totSec) {
    throw bad(`the reserved sectors, FATs and root directory (${firstDataSector} sectors) fill the whole volume (${totSec} sectors)`);
  }
  const dataSec = totSec - firstDataSector;
  const countOfClusters = Math.floor(dataSec / secPerClus);
  const fatType: FatType = countOfClusters <= FAT12_MAX_CLUSTERS ? 12 : countOfClusters <= FAT16_MAX_CLUSTERS ? 16 : 32;
  if (countOfClusters === 0) throw bad('the volume has no data clusters');
  if (fatType === 32 && countOfClusters > FAT32_MAX_CLUSTERS) throw bad(`${countOfClusters} clusters is more than FAT32 can address`);

  let extFlags = 0;
  let rootClus = 0;
  let fsInfo = 0;
  let extOff: number;
  if (fatType === 32) {
    if (fatSz16 !== 0 || fatSz32 === 0) throw bad(`${countOfClusters} clusters make this FAT32, but BPB_FATSz32 is not set`);
    if (rootEntCnt !== 0) throw bad(`FAT32 volume with BPB_RootEntCnt ${rootEntCnt} (must be 0)`);
    const fsVer = b.u16le(42);
    if (fsVer !== 0) throw new GuestkitError('UNSUPPORTED', `${what}: FAT32 version ${fsVer >> 8}.${fsVer & 0xff} (only 0.0 exists)`);
    extFlags = b.u16le(40);
    rootClus = b.u32le(44);
    fsInfo = b.u16le(48);
    extOff = 64;
  } else {
    if (rootEntCnt === 0) throw bad(`FAT${fatType} volume with BPB_RootEntCnt 0 (no root directory)`);
    if ((rootEntCnt * 32) % bytsPerSec !== 0) {
      throw bad(`BPB_RootEntCnt ${rootEntCnt} does not fill whole ${bytsPerSec}-byte sectors`);
    }
    extOff = 36;
  }

  // BS_DrvNum, BS_Reserved1, BS_BootSig, BS_VolID, BS_VolLab, BS_FilSysType.
  const bootSig = b.u8(extOff + 2);
  const dirty = (bootSig === 0x29 || bootSig === 0x28) && (b.u8(extOff + 1) & 1) === 1;
  let volId: number | undefined;
  let volLab: string | undefined;
  let filSysType: string | undefined;
  if (bootSig === 0x29 || bootSig === 0x28) volId = b.u32le(extOff + 3);
  if (bootSig === 0x29) {
    volLab = labelText(b.raw(extOff + 7, 11));
    filSysType = b.cstring(extOff + 18, 8, 'latin1').trimEnd();
  }

  if (totSec * bytsPerSec > devSize) {
    // Linux mounts it and fails reads past the end; we do the same (reads past the device
    // end throw CORRUPT naming the cluster), but the FAT itself must be there.
    const fatEnd = (rsvdSecCnt + fatSz) * bytsPerSec;
    if (fatEnd > devSize) throw bad(`the first FAT ends at byte ${fatEnd}, past the end of the device (${devSize} bytes)`);
  }

  return {
    bytsPerSec, secPerClus, rsvdSecCnt, numFats, rootEntCnt, totSec, media, fatSz, hiddSec,
    extFlags, rootClus, fsInfo, bootSig, dirty, volId, volLab, filSysType,
    fatType, rootDirSectors, firstDataSector, countOfClusters, clusterSize,
  };
}

/**
 * An 11-byte volume label as blkid shows it: code page 437/850 bytes, trailing spaces removed,
 * undefined when empty or "NO NAME".
 */
export function labelText(raw: Uint8Array): string | undefined {
  let end = raw.length;
  while (end > 0 && (raw[end - 1] === 0x20 || raw[end - 1] === 0)) end--;
  if (end === 0) return undefined;
  const s = decodeOem(raw.subarray(0, end));
  return s === 'NO NAME' ? undefined : s;
}

// Code page 437, 0x80-0xFF (Linux vfat's default codepage=437).
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

/** Decode OEM (code page 437) bytes, as Linux vfat does with its default codepage. */
export function decodeOem(raw: Uint8Array): string {
  let s = '';
  for (const c of raw) s += c < 0x80 ? String.fromCharCode(c) : CP437_HIGH[c - 0x80];
  return s;
}

/** Volume serial as blkid formats a FAT UUID: "XXXX-XXXX". */
export function formatVolId(id: number): string {
  const h = id.toString(16).toUpperCase().padStart(8, '0');
  return `${h.slice(0, 4)}-${h.slice(4)}`;
}

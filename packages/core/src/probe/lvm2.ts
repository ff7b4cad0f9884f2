// LVM2 physical volume label (lib/label/label.h struct label_header, lib/format_text/layout.h
// struct pv_header): "LABELONE" in one of the first four sectors, checked as libblkid's
// superblocks/lvm.c does (sector number and CRC) and the PV UUID formatted as LVM prints it.

import type { ProbeContext } from './context.js';
import type { ProbeResult } from './types.js';

const LABEL_SIZE = 512;
const LABEL_SCAN_SECTORS = 4;
const INITIAL_CRC = 0xf597a6cf;

// LVM's calc_crc(): CRC-32 computed four bits at a time with its own initial value.
const CRCTAB = [
  0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
  0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
];

export function lvmCrc(buf: Uint8Array, initial = INITIAL_CRC): number {
  let crc = initial >>> 0;
  for (let i = 0; i < buf.length; i++) {
    crc ^= buf[i];
    crc = (crc >>> 4) ^ CRCTAB[crc & 0xf];
    crc = (crc >>> 4) ^ CRCTAB[crc & 0xf];
  }
  return crc >>> 0;
}

/** LVM's id_write_format(): 32 characters as 6-4-4-4-4-4-6 with dashes. */
export function formatLvmUuid(id: string): string {
  return [id.slice(0, 6), id.slice(6, 10), id.slice(10, 14), id.slice(14, 18), id.slice(18, 22), id.slice(22, 26), id.slice(26, 32)].join('-');
}

export function probeLvm2(ctx: ProbeContext): ProbeResult | null {
  for (let sector = 0; sector < LABEL_SCAN_SECTORS; sector++) {
    if (!ctx.magicAt(sector * 512, 'LABELONE')) continue;
    const b = ctx.read(sector * 512, LABEL_SIZE, `LVM2 label at sector ${sector}`);
    if (!b) return null;
    if (b.cstring(24, 8, 'latin1') !== 'LVM2 001') continue;
    if (b.u64leBig(8) !== BigInt(sector)) continue;
    if (lvmCrc(b.raw(20, LABEL_SIZE - 20)) !== b.u32le(16)) continue;
    const uuidRaw = b.raw(32, 32);
    const r: ProbeResult = { type: 'LVM2_member', usage: 'raid', version: 'LVM2 001' };
    if (uuidRaw.some((x) => x !== 0)) r.uuid = formatLvmUuid(Buffer.from(uuidRaw).toString('latin1'));
    return r;
  }
  return null;
}

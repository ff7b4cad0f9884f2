// ISO 9660 volume descriptors (ECMA-119 §8: primary volume descriptor; Joliet supplementary
// descriptor with escape sequences %/@ %/C %/E), read as libblkid's superblocks/iso9660.c
// does: label from the Joliet name merged with the primary one, UUID from the volume dates.

import type { ProbeContext } from './context.js';
import { labelFromBytes, labelFromUtf16 } from './context.js';
import type { ProbeResult } from './types.js';
import type { Bytes } from '../bytes.js';

const ISO_SUPERBLOCK_OFFSET = 0x8000;
const ISO_SECTOR_SIZE = 0x800;
const VD_BOOT_RECORD = 0;
const VD_PRIMARY = 1;
const VD_SUPPLEMENTARY = 2;
const VD_END = 0xff;
/** Volume descriptors examined (libblkid: 16). */
const VD_MAX = 16;

// Offsets in a volume descriptor (ECMA-119 §8.4).
const VOLUME_ID = 40;
const VOLUME_SPACE_SIZE = 80;
const ESCAPE_SEQUENCES = 88;
const LOGICAL_BLOCK_SIZE = 128;
const CREATION_DATE = 813;
const MODIFICATION_DATE = 830;

export function probeIso9660(ctx: ProbeContext): ProbeResult | null {
  if (ctx.magicAt(ISO_SUPERBLOCK_OFFSET + 9, 'CDROM')) {
    // High Sierra: the label is all there is.
    const hs = ctx.read(ISO_SUPERBLOCK_OFFSET, 80, 'High Sierra volume descriptor');
    if (!hs) return null;
    const r: ProbeResult = { type: 'iso9660', usage: 'filesystem', version: 'High Sierra' };
    const label = labelFromBytes(hs.raw(48, 32), 'latin1');
    if (label !== undefined) r.label = label;
    return r;
  }
  if (!ctx.magicAt(ISO_SUPERBLOCK_OFFSET + 1, 'CD001')) return null;
  let pvd: Bytes | null = null;
  let joliet: Bytes | null = null;
  let boot = false;
  for (let i = 0; i < VD_MAX && (!boot || !pvd || !joliet); i++) {
    const d = ctx.read(ISO_SUPERBLOCK_OFFSET + i * ISO_SECTOR_SIZE, 883, `ISO 9660 volume descriptor ${i}`);
    if (!d || d.u8(0) === VD_END) break;
    const t = d.u8(0);
    if (!boot && t === VD_BOOT_RECORD) boot = true;
    else if (!pvd && t === VD_PRIMARY) pvd = d;
    else if (!joliet && t === VD_SUPPLEMENTARY) {
      const esc = d.cstring(ESCAPE_SEQUENCES, 3, 'latin1');
      if (esc === '%/@' || esc === '%/C' || esc === '%/E') joliet = d;
    }
  }
  if (!pvd) return null;
  const r: ProbeResult = { type: 'iso9660', usage: 'filesystem' };
  const uuid = dateUuid(pvd.raw(MODIFICATION_DATE, 17)) ?? dateUuid(pvd.raw(CREATION_DATE, 17));
  if (uuid) r.uuid = uuid;
  if (joliet) r.version = 'Joliet Extension';
  let label: string | undefined;
  if (joliet) {
    const merged = mergeUtf16beAscii(joliet.raw(VOLUME_ID, 32), pvd.raw(VOLUME_ID, 32));
    label = labelFromUtf16(merged ?? joliet.raw(VOLUME_ID, 32), true);
  } else {
    label = labelFromBytes(pvd.raw(VOLUME_ID, 32), 'latin1');
  }
  if (label !== undefined) r.label = label;
  const blocks = pvd.u32le(VOLUME_SPACE_SIZE);
  const blockSize = pvd.u16le(LOGICAL_BLOCK_SIZE);
  if (blocks > 0 && blockSize >= 512 && blockSize <= 2048) r.fsSize = blocks * blockSize;
  return r;
}

/** "YYYY-MM-DD-HH-mm-ss-hh" from a 17-byte volume date, undefined when the date is unset. */
function dateUuid(d: Uint8Array): string | undefined {
  const digits = Buffer.from(d.subarray(0, 16)).toString('latin1');
  if (/^0{16}$/.test(digits) && d[16] === 0) return undefined;
  const p = (a: number, n: number) => digits.slice(a, a + n);
  return `${p(0, 4)}-${p(4, 2)}-${p(6, 2)}-${p(8, 2)}-${p(10, 2)}-${p(12, 2)}-${p(14, 2)}`;
}

/**
 * libblkid merge_utf16be_ascii(): when the Joliet name (UTF-16BE, at most 16 characters) is a
 * prefix of the primary name (upper-case ASCII, '_' for what it cannot represent), rebuild the
 * full name as UTF-16BE; null when it is not a prefix.
 */
function mergeUtf16beAscii(utf16: Uint8Array, ascii: Uint8Array): Uint8Array | null {
  const len = ascii.length;
  const out: number[] = [];
  let a = 0;
  let u = 0;
  const up = (c: number) => (c >= 0x61 && c <= 0x7a ? c - 32 : c);
  const isUpper = (c: number) => c >= 0x41 && c <= 0x5a;
  for (; u + 1 < len && a < len; a++, u += 2) {
    if (utf16[u] >= 0xd8 && utf16[u] <= 0xdb && u + 3 < len && utf16[u + 2] >= 0xdc && utf16[u + 2] <= 0xdf) {
      out.push(utf16[u++], utf16[u++]);
    }
    if (ascii[a] === 0x5f) {
      out.push(utf16[u], utf16[u + 1]);
    } else if (utf16[u] === 0 && utf16[u + 1] === 0x5f) {
      out.push(0, ascii[a]);
    } else if (utf16[u] === 0 && up(ascii[a]) === up(utf16[u + 1])) {
      out.push(0, isUpper(ascii[a]) ? utf16[u + 1] : ascii[a]);
    } else {
      return null;
    }
  }
  for (; a < len; a++) out.push(0, ascii[a]);
  return Uint8Array.from(out);
}

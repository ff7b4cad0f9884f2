// LUKS1 and LUKS2 headers (cryptsetup "LUKS1 On-Disk Format Specification" §2.4 and "LUKS2
// On-Disk Format Specification" §2.1 binary header), read as libblkid's superblocks/luks.c does,
// including its scan for a LUKS2 secondary header when the primary is gone.

import type { ProbeContext } from './context.js';
import { labelFromBytes } from './context.js';
import type { ProbeResult } from './types.js';

const LUKS_MAGIC = Uint8Array.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]); // "LUKS\xba\xbe"
const LUKS_MAGIC_2 = Uint8Array.from([0x53, 0x4b, 0x55, 0x4c, 0xba, 0xbe]); // "SKUL\xba\xbe"
/** Where a LUKS2 secondary header may sit (cryptsetup's LUKS2_HDR2_OFFSETS). */
const SECONDARY_OFFSETS = [0x4000, 0x8000, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000, 0x200000, 0x400000];

export function probeLuks(ctx: ProbeContext): ProbeResult | null {
  let off = -1;
  if (ctx.magicAt(0, LUKS_MAGIC)) off = 0;
  else {
    for (const o of SECONDARY_OFFSETS) {
      if (ctx.magicAt(o, LUKS_MAGIC_2)) {
        off = o;
        break;
      }
    }
  }
  if (off < 0) return null;
  const h = ctx.read(off, 256, 'LUKS header');
  if (!h) return null;
  const version = h.u16be(6);
  const r: ProbeResult = { type: 'crypto_LUKS', usage: 'crypto', version: String(version) };
  if (version === 1 || version === 2) {
    // uuid[40] at 168 in both versions (LUKS1 after mkDigestIterations; LUKS2 after salt).
    const uuid = labelFromBytes(h.raw(168, 40), 'latin1');
    if (uuid !== undefined) r.uuid = uuid;
  }
  if (version === 2) {
    const label = labelFromBytes(h.raw(24, 48));
    if (label !== undefined) r.label = label;
  }
  return r;
}

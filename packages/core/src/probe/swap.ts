// Linux swap area header (include/linux/swap.h, union swap_header: "SWAPSPACE2" in the last
// 10 bytes of the first page, info block at 1 KiB), read as libblkid's superblocks/swap.c does.

import type { ProbeContext } from './context.js';
import { labelFromBytes, uuidOrNone } from './context.js';
import type { ProbeResult } from './types.js';

/** Page sizes whose last 10 bytes may hold the signature (4 KiB to 64 KiB). */
const PAGE_SIZES = [4096, 8192, 16384, 32768, 65536];
/** libblkid ignores swap signatures on devices smaller than 10 pages. */
const SWAP_MIN_DEVICE = 10 * 4096;
const TOI_MAGIC = Uint8Array.from([0xed, 0xc3, 0x02, 0xe9, 0x98, 0x56, 0xe5, 0x0c]);
const HEADER_OFFSET = 1024;

export function probeSwap(ctx: ProbeContext): ProbeResult | null {
  if (ctx.size < SWAP_MIN_DEVICE) return null;
  let magic: string | null = null;
  for (const ps of PAGE_SIZES) {
    if (ctx.magicAt(ps - 10, 'SWAP-SPACE')) magic = 'SWAP-SPACE';
    else if (ctx.magicAt(ps - 10, 'SWAPSPACE2')) magic = 'SWAPSPACE2';
    if (magic) break;
  }
  if (!magic) return null;
  if (ctx.magicAt(0, TOI_MAGIC)) return null; // TuxOnIce image, not swap
  if (magic === 'SWAP-SPACE') return { type: 'swap', version: '0', usage: 'other' };
  // struct swap_header_v1_2 at 1 KiB: version, last_page, nr_badpages, sws_uuid[16], sws_volume[16], padding[117]...
  const h = ctx.read(HEADER_OFFSET, 44 + 117 * 4, 'swap header');
  if (!h) return null;
  const version = h.u32le(0);
  if (version !== 1 && version !== 0x01000000) return null;
  if (h.u32le(4) === 0) return null;
  const r: ProbeResult = { type: 'swap', usage: 'other' };
  // libblkid's sanity check before trusting label and UUID: padding[32] and padding[33] zero.
  if (h.u32le(44 + 32 * 4) === 0 && h.u32le(44 + 33 * 4) === 0) {
    const vol = h.raw(28, 16);
    if (vol[0] !== 0) {
      const label = labelFromBytes(vol);
      if (label !== undefined) r.label = label;
    }
    const uuid = uuidOrNone(h.raw(12, 16));
    if (uuid) r.uuid = uuid;
  }
  r.version = '1';
  return r;
}

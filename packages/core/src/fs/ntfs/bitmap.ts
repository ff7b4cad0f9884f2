// $Bitmap and $BITMAP attributes, libfsntfs §6.14 and §10: one bit per cluster (or per MFT
// entry, or per index block), least significant bit first; 1 = allocated.

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1];

/** Number of clear (free) bits in `b`. */
export function countFreeBits(b: Uint8Array): number {
  let set = 0;
  for (let i = 0; i < b.length; i++) set += POPCOUNT[b[i]];
  return b.length * 8 - set;
}

export function bitIsSet(b: Uint8Array, bit: number): boolean {
  const byte = Math.floor(bit / 8);
  return byte < b.length && (b[byte] & (1 << (bit & 7))) !== 0;
}

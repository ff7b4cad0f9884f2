// Multi-sector header fix-up values (update sequence array), libfsntfs §5.4 "The fix-up
// values": the last two bytes of every 512-byte block of an MFT entry or index entry hold
// the update sequence number; the originals are kept in the array after the header.

import { GuestkitError } from '../../errors.js';
import { Bytes } from '../../bytes.js';

/** Fix-ups always protect 512-byte blocks, whatever the sector size. */
export const FIXUP_BLOCK_SIZE = 512;

/**
 * Check and undo the fix-ups of a multi-sector record in place. `what` names the record in
 * errors ("MFT entry 42"). A block whose last two bytes do not hold the update sequence number
 * was torn (written partly): CORRUPT.
 */
export function applyFixups(buf: Uint8Array, what: string): void {
  const b = new Bytes(buf, what);
  const ofs = b.u16le(4);
  const count = b.u16le(6);
  const blocks = Math.floor(buf.length / FIXUP_BLOCK_SIZE);
  if (buf.length % FIXUP_BLOCK_SIZE !== 0 || blocks === 0) {
    throw new GuestkitError('CORRUPT', `${what}: record size ${buf.length} is not a multiple of ${FIXUP_BLOCK_SIZE}`);
  }
  if (ofs & 1 || ofs < 8 || count < 1 || ofs + count * 2 > FIXUP_BLOCK_SIZE - 2) {
    throw new GuestkitError('CORRUPT', `${what}: fix-up array (offset ${ofs}, ${count} values) is out of bounds`);
  }
  if (count - 1 < blocks) {
    throw new GuestkitError('CORRUPT', `${what}: ${count - 1} fix-up values for ${blocks} blocks of ${FIXUP_BLOCK_SIZE} bytes`);
  }
  const usn0 = buf[ofs];
  const usn1 = buf[ofs + 1];
  // Every block is checked before any is changed: a torn record is left as it was read.
  for (let i = 0; i < blocks; i++) {
    const end = (i + 1) * FIXUP_BLOCK_SIZE - 2;
    if (buf[end] !== usn0 || buf[end + 1] !== usn1) {
      throw new GuestkitError(
        'CORRUPT',
        `${what}: fix-up mismatch in block ${i} (update sequence number 0x${(usn0 | (usn1 << 8)).toString(16)}, found 0x${(buf[end] | (buf[end + 1] << 8)).toString(16)}): torn or corrupt write`,
      );
    }
  }
  for (let i = 0; i < blocks; i++) {
    const end = (i + 1) * FIXUP_BLOCK_SIZE - 2;
    buf[end] = buf[ofs + 2 + i * 2];
    buf[end + 1] = buf[ofs + 3 + i * 2];
  }
}

// $ATTRIBUTE_LIST, libfsntfs §6.3 "The attribute list attribute": one 26-byte entry header
// (type, size, name, lowest VCN, file reference of the MFT entry holding the attribute,
// attribute identifier) plus the name, per attribute of a file spread over several entries.

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';
import { refIndex } from './mft-entry.js';

/** ntfs-3g refuses attribute lists above 256 KiB; so do we (bounds the entries too). */
export const MAX_ATTRIBUTE_LIST_SIZE = 0x40000;

export interface AttributeListEntry {
  type: number;
  name: string;
  lowestVcn: number;
  /** MFT entry index holding the attribute. */
  entry: number;
  id: number;
}

export function parseAttributeList(data: Uint8Array, what: string): AttributeListEntry[] {
  const b = new Bytes(data, what);
  const out: AttributeListEntry[] = [];
  let off = 0;
  while (off + 26 <= data.length) {
    const type = b.u32le(off);
    const size = b.u16le(off + 4);
    if (size < 26 || off + size > data.length) {
      throw new GuestkitError('CORRUPT', `${what}: entry at offset ${off} has an invalid size ${size}`);
    }
    const nameLength = b.u8(off + 6);
    const nameOffset = b.u8(off + 7);
    if (nameLength && nameOffset + nameLength * 2 > size) {
      throw new GuestkitError('CORRUPT', `${what}: entry at offset ${off}: name is past the entry's end`);
    }
    const vcn = b.u64leBig(off + 8);
    if (vcn > BigInt(Number.MAX_SAFE_INTEGER)) throw new GuestkitError('CORRUPT', `${what}: entry at offset ${off}: lowest VCN ${vcn} is out of range`);
    out.push({
      type,
      name: nameLength ? b.utf16le(off + nameOffset, nameLength * 2) : '',
      lowestVcn: Number(vcn),
      entry: refIndex(b.u64leBig(off + 16)),
      id: b.u16le(off + 24),
    });
    off += size;
  }
  return out;
}

// $Volume (MFT entry 3): $VOLUME_NAME (the label, UTF-16) and $VOLUME_INFORMATION (NTFS
// version and volume flags), libfsntfs §6.9 and §6.10.

import { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';

export const VOLUME_IS_DIRTY = 0x0001;

export interface VolumeInformation {
  majorVersion: number;
  minorVersion: number;
  flags: number;
}

export function parseVolumeName(value: Uint8Array): string {
  if (value.length % 2) throw new GuestkitError('CORRUPT', `$VOLUME_NAME: odd length ${value.length}`);
  return Buffer.from(value.buffer, value.byteOffset, value.length).toString('utf16le');
}

export function parseVolumeInformation(value: Uint8Array): VolumeInformation {
  const b = new Bytes(value, '$VOLUME_INFORMATION');
  if (value.length < 12) throw new GuestkitError('CORRUPT', `$VOLUME_INFORMATION: ${value.length} bytes (12 expected)`);
  return { majorVersion: b.u8(8), minorVersion: b.u8(9), flags: b.u16le(10) };
}

// Interix (Services for Unix) special files, as ntfs-3g creates them for symlinks, FIFOs,
// sockets and devices: a file with FILE_ATTRIBUTE_SYSTEM whose data starts with an 8-byte
// magic ("IntxLNK\1" + UTF-16 target, "IntxCHR\0"/"IntxBLK\0" + 64-bit major and minor); an
// empty one is a FIFO, a one-byte one a socket (ntfs-3g's ntfs_interix_types).

import { Bytes } from '../../bytes.js';

export const INTX_SYMBOLIC_LINK = Buffer.from('IntxLNK\x01', 'latin1');
export const INTX_CHARACTER_DEVICE = Buffer.from('IntxCHR\0', 'latin1');
export const INTX_BLOCK_DEVICE = Buffer.from('IntxBLK\0', 'latin1');
/** ntfs-3g reads at most PATH_MAX UTF-16 characters of a target. */
export const INTX_MAX_SIZE = 8 + 2 * 4096;
export const INTX_DEVICE_SIZE = 24;

export type InterixKind = 'symlink' | 'chardev' | 'blockdev' | null;

export function interixKind(head: Uint8Array, size: number): InterixKind {
  if (size < 8 || head.length < 8) return null;
  const m = Buffer.from(head.buffer, head.byteOffset, 8);
  if (m.equals(INTX_SYMBOLIC_LINK)) return size > 8 && size <= INTX_MAX_SIZE ? 'symlink' : null;
  if (m.equals(INTX_CHARACTER_DEVICE)) return size === INTX_DEVICE_SIZE ? 'chardev' : null;
  if (m.equals(INTX_BLOCK_DEVICE)) return size === INTX_DEVICE_SIZE ? 'blockdev' : null;
  return null;
}

export function interixDevice(data: Uint8Array): { major: bigint; minor: bigint } {
  const b = new Bytes(data, 'Interix device file');
  return { major: b.u64leBig(8), minor: b.u64leBig(16) };
}

export function interixTarget(data: Uint8Array): string {
  const n = (data.length - 8) & ~1;
  return Buffer.from(data.buffer, data.byteOffset + 8, n).toString('utf16le');
}

/** glibc's makedev(): the Linux dev_t encoding. */
export function makedev(major: bigint, minor: bigint): number {
  const v = ((major & 0xfffff000n) << 32n) | ((major & 0xfffn) << 8n) | ((minor & 0xffffff00n) << 12n) | (minor & 0xffn);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(v);
}

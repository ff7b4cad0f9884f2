// struct btrfs_file_extent_item (btrfs docs, "On-disk Format" § EXTENT_DATA; btrfs_tree.h):
// key (ino, EXTENT_DATA, file offset). generation, ram_bytes, compression, encryption,
// other_encoding, type; then for an INLINE extent (type 0) the data itself (compressed when
// compression != 0, ram_bytes long once decompressed); for REG (1) and PREALLOC (2) extents
// disk_bytenr, disk_num_bytes (the extent on disk, compressed size when compressed), offset
// (into the decompressed extent) and num_bytes (bytes of the file this item covers).
// disk_bytenr 0 is a hole; PREALLOC reads as zeros.

import type { Bytes } from '../../bytes.js';
import { GuestkitError } from '../../errors.js';

export const BTRFS_FILE_EXTENT_INLINE = 0;
export const BTRFS_FILE_EXTENT_REG = 1;
export const BTRFS_FILE_EXTENT_PREALLOC = 2;
/** Offset of the inline data / of disk_bytenr. */
export const BTRFS_FILE_EXTENT_INLINE_DATA_START = 21;
export const BTRFS_FILE_EXTENT_ITEM_SIZE = 53;

export const BTRFS_COMPRESS_NONE = 0;
export const BTRFS_COMPRESS_ZLIB = 1;
export const BTRFS_COMPRESS_LZO = 2;
export const BTRFS_COMPRESS_ZSTD = 3;

export function compressionName(c: number): string {
  return ['none', 'zlib', 'lzo', 'zstd'][c] ?? `type ${c}`;
}

export interface FileExtent {
  /** File offset (the key offset). */
  fileOffset: number;
  type: number;
  compression: number;
  /** Decompressed size of the extent (inline: of the inline data). */
  ramBytes: number;
  /** Inline: the stored (maybe compressed) bytes. */
  inline?: Uint8Array;
  /** REG/PREALLOC: logical address of the extent on disk (0: a hole). */
  diskBytenr: number;
  diskNumBytes: number;
  /** Offset of this item's data inside the (decompressed) extent. */
  offset: number;
  /** Bytes of the file covered (inline: ram_bytes). */
  numBytes: number;
}

export function parseFileExtent(b: Bytes, fileOffset: number): FileExtent {
  const type = b.u8(20);
  const compression = b.u8(16);
  const encryption = b.u8(17);
  const otherEncoding = b.u16le(18);
  if (encryption || otherEncoding) {
    throw new GuestkitError('UNSUPPORTED', `${b.what}: encrypted or encoded file extent (encryption ${encryption}, other_encoding ${otherEncoding})`);
  }
  if (compression > BTRFS_COMPRESS_ZSTD) throw new GuestkitError('UNSUPPORTED', `${b.what}: unknown compression ${compression}`);
  const ramBytes = b.u64le(8);
  if (type === BTRFS_FILE_EXTENT_INLINE) {
    const inline = b.raw(BTRFS_FILE_EXTENT_INLINE_DATA_START, b.length - BTRFS_FILE_EXTENT_INLINE_DATA_START);
    const numBytes = compression === BTRFS_COMPRESS_NONE ? inline.length : ramBytes;
    return { fileOffset, type, compression, ramBytes, inline, diskBytenr: 0, diskNumBytes: 0, offset: 0, numBytes };
  }
  if (type !== BTRFS_FILE_EXTENT_REG && type !== BTRFS_FILE_EXTENT_PREALLOC) {
    throw new GuestkitError('CORRUPT', `${b.what}: unknown file extent type ${type}`);
  }
  if (b.length < BTRFS_FILE_EXTENT_ITEM_SIZE) {
    throw new GuestkitError('CORRUPT', `${b.what}: file extent item of ${b.length} bytes (${BTRFS_FILE_EXTENT_ITEM_SIZE} expected)`);
  }
  const e: FileExtent = {
    fileOffset,
    type,
    compression,
    ramBytes,
    diskBytenr: b.u64le(21),
    diskNumBytes: b.u64le(29),
    offset: b.u64le(37),
    numBytes: b.u64le(45),
  };
  if (e.diskBytenr !== 0 && e.offset + e.numBytes > (compression ? ramBytes : Math.max(ramBytes, e.diskNumBytes))) {
    throw new GuestkitError('CORRUPT', `${b.what}: extent part ${e.offset}+${e.numBytes} is past the extent's ${compression ? ramBytes : e.diskNumBytes} bytes`);
  }
  if (!Number.isSafeInteger(fileOffset + e.numBytes)) throw new GuestkitError('CORRUPT', `${b.what}: extent length ${e.numBytes} is out of range`);
  return e;
}

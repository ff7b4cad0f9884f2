// The directory/attribute name hash, xfs_da_hashname (XFS Algorithms & Data Structures,
// "Directory and Attribute Hashing"; libxfs/xfs_da_btree.c): 7-bit rotations over 4-byte
// groups. The ASCII case-insensitive variant (xfs_ascii_ci_hashname) folds A-Z first.

const rol32 = (x: number, n: number) => ((x << n) | (x >>> (32 - n))) >>> 0;

export function xfsDaHashname(name: Uint8Array, asciiCi = false): number {
  const c = asciiCi ? (i: number) => { const v = name[i]; return v >= 0x41 && v <= 0x5a ? v + 0x20 : v; } : (i: number) => name[i];
  let hash = 0;
  let i = 0;
  let n = name.length;
  for (; n >= 4; n -= 4, i += 4) {
    hash = ((c(i) << 21) ^ (c(i + 1) << 14) ^ (c(i + 2) << 7) ^ c(i + 3) ^ rol32(hash, 7 * 4)) >>> 0;
  }
  switch (n) {
    case 3:
      return ((c(i) << 14) ^ (c(i + 1) << 7) ^ c(i + 2) ^ rol32(hash, 7 * 3)) >>> 0;
    case 2:
      return ((c(i) << 7) ^ c(i + 1) ^ rol32(hash, 7 * 2)) >>> 0;
    case 1:
      return (c(i) ^ rol32(hash, 7)) >>> 0;
    default:
      return hash;
  }
}

// What a content probe reports about a device: the fields `blkid -p -o export` prints
// (util-linux libblkid, superblocks/*.c), named as blkid names them.

/** blkid's USAGE: what the content is for. */
export type ProbeUsage = 'filesystem' | 'raid' | 'crypto' | 'other';

export interface ProbeResult {
  /** blkid TYPE: ext4, xfs, btrfs, vfat, ntfs, exfat, swap, LVM2_member, crypto_LUKS, iso9660, squashfs... */
  type: string;
  /** blkid UUID, formatted as blkid formats it for this type (absent when the superblock has none). */
  uuid?: string;
  /** blkid LABEL, trailing whitespace removed (absent when empty). */
  label?: string;
  /** blkid VERSION ("1.0" for ext, "FAT32", "LVM2 001", "2" for LUKS2...). */
  version?: string;
  usage: ProbeUsage;
  /**
   * Size in bytes that Linux's statfs reports for the mounted filesystem (f_blocks × f_bsize),
   * worked out from the superblock the way the kernel driver does; absent where the superblock
   * alone does not tell (btrfs) or for things that are not mounted (swap, PVs, LUKS).
   */
  fsSize?: number;
}

// The clean image of each bit-flip family: recipe and file under images/out/<recipe>/.
// Small images, so a mutant is opened, walked and read in milliseconds.
export const CAMPAIGN_IMAGES = {
  ext2: ['robust-fs', 'ext2.img'],
  ext3: ['robust-fs', 'ext3.img'],
  ext4: ['robust-fs', 'ext4.img'],
  fat12: ['fat-images', 'fat12.img'],
  fat16: ['fat-images', 'fat16.img'],
  fat32: ['fat-images', 'fat32.img'],
  ntfs: ['ntfs-c512', 'ntfs.img'],
  'xfs-v4': ['robust-fs', 'xfs-v4.img'],
  'xfs-v5': ['robust-fs', 'xfs-v5.img'],
  btrfs: ['robust-fs', 'btrfs.img'],
  qcow2: ['qcow2-basic', 'v3-64k.qcow2'],
  mbr: ['part-tables', 'part-mbr.raw'],
  gpt: ['part-tables', 'part-gpt.raw'],
  lvm: ['lvm-images', 'lvm-a.raw'],
};

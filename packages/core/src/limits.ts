// Named limits used by every parser. Any size read from disk that decides an allocation,
// a loop count or a recursion depth is checked against one of these first.

export const LIMITS = {
  /** Largest single buffer allocated because an on-disk field asked for it. */
  maxAlloc: 64 * 1024 * 1024,
  /** Largest metadata structure read whole (L1 table, GPT entry array, LVM metadata...). */
  maxMetadata: 32 * 1024 * 1024,
  /** qcow2 backing chain depth (issue 2: 16). */
  maxBackingDepth: 16,
  /** Logical partitions followed along an EBR chain. */
  maxLogicalPartitions: 128,
  /** GPT partition entries considered. */
  maxGptEntries: 4096,
  /** Symlinks followed in one path resolution (Linux: 40). */
  maxSymlinks: 40,
  /** Depth of any on-disk tree (extent tree, B-tree) before we call it a loop. */
  maxTreeDepth: 32,
  /** Directory entries yielded from one directory. */
  maxDirEntries: 10_000_000,
  /** qcow2 L2 tables held in the cache. */
  qcow2L2CacheTables: 256,
  /** Internal qcow2 snapshots listed. */
  maxSnapshots: 65536,
  /** Directory levels a guest walk (ls -R, copy-out, tar-out) descends. */
  maxWalkDepth: 2048,
  /** LVM: segments of one logical volume. */
  lvmMaxSegments: 100_000,
  /** LVM: physical volumes of a volume group, and areas of one segment. */
  lvmMaxAreas: 4096,
  /** LVM: LVs below the top one in a chain of LVs on LVs (mirror and raid images, LVs moved onto pvmove0). */
  lvmMaxLvDepth: 8,
  /** LVM metadata text: items of one list value. */
  lvmMaxListItems: 1_000_000,
  /** XFS: allocation groups whose AGF/AGI headers statfs reads (one sector pair each; real filesystems have thousands at most). */
  xfsMaxAgHeaders: 1_048_576,
  /** fstab: bytes of one line, and entries read. */
  maxFstabLine: 64 * 1024,
  maxFstabEntries: 10_000,
} as const;

export type LimitName = keyof typeof LIMITS;

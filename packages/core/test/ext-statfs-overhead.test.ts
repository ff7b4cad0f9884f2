// ext statfs overhead without bigalloc is summed in closed form (statfs.ts calculateOverhead:
// the fuzz target ext spent a quarter of its time summing it group by group over hostile group
// counts). It must equal the kernel's group-by-group sum (count_overhead for every group, which
// countOverhead mirrors) for every layout: sparse_super, sparse_super2 backups, neither, meta_bg
// with any s_first_meta_bg, any number of descriptors per block, any group count. The real
// images' statfs (ext-tree, ext-journal, ext-fastcommit: equal to virt-df) cover the layouts
// mkfs makes; this covers the rest.

import { describe, expect, it } from 'vitest';
import { calculateOverhead, countOverhead, groupsWithSuper } from '../src/fs/ext/statfs.js';
import { COMPAT_SPARSE_SUPER2, INCOMPAT_META_BG, RO_COMPAT_SPARSE_SUPER, groupHasSuper, type Superblock } from '../src/fs/ext/superblock.js';
import type { GroupDesc } from '../src/fs/ext/group-desc.js';

function sb(o: { groups: number; dpb: number; compat?: number; roCompat?: number; incompat?: number; backups?: [number, number]; firstMetaBg?: number; reservedGdt?: number; firstDataBlock?: number }): Superblock {
  return {
    s_feature_compat: o.compat ?? 0,
    s_feature_ro_compat: o.roCompat ?? 0,
    s_feature_incompat: o.incompat ?? 0,
    s_backup_bgs: o.backups ?? [0, 0],
    s_first_meta_bg: o.firstMetaBg ?? 0,
    s_reserved_gdt_blocks: o.reservedGdt ?? 0,
    s_inodes_per_group: 2048,
    s_inode_size: 256,
    s_first_data_block: o.firstDataBlock ?? 0,
    s_overhead_clusters: 0,
    s_blocks_per_group: 8192,
    s_blocks_count: o.groups * 8192,
    blockSize: 4096,
    clusterBits: 0,
    groupCount: o.groups,
    descPerBlock: o.dpb,
  } as unknown as Superblock;
}

const noGroups = (): GroupDesc => {
  throw new Error('the overhead without bigalloc reads no group descriptor');
};

/** The kernel's way: count_overhead for every group. */
function reference(s: Superblock, journalBlocks: number): number {
  let overhead = s.s_first_data_block;
  for (let g = 0; g < s.groupCount; g++) overhead += countOverhead(s, g, noGroups);
  return overhead + journalBlocks;
}

describe('ext statfs overhead in closed form', () => {
  const groupCounts = [1, 2, 3, 4, 5, 7, 8, 9, 24, 25, 26, 48, 49, 50, 63, 64, 65, 127, 128, 129, 243, 343, 344, 1000, 2401, 4097];
  const layouts = [
    { name: 'no sparse_super' },
    { name: 'sparse_super', roCompat: RO_COMPAT_SPARSE_SUPER },
    { name: 'sparse_super2 (1, 100)', compat: COMPAT_SPARSE_SUPER2, backups: [1, 100] as [number, number] },
    { name: 'sparse_super2 (0, 0)', compat: COMPAT_SPARSE_SUPER2, backups: [0, 0] as [number, number] },
    { name: 'sparse_super2 (7, 7)', compat: COMPAT_SPARSE_SUPER2, backups: [7, 7] as [number, number] },
  ];

  for (const l of layouts) {
    it(`${l.name}: equals the group-by-group sum, with and without meta_bg`, () => {
      let cases = 0;
      for (const groups of groupCounts) {
        for (const dpb of [1, 2, 3, 4, 16, 64, 128]) {
          for (const firstMetaBg of [undefined, 0, 1, 2, 5, 1000]) {
            const s = sb({ groups, dpb, ...l, incompat: firstMetaBg === undefined ? 0 : INCOMPAT_META_BG, firstMetaBg, reservedGdt: 31, firstDataBlock: dpb === 1 ? 1 : 0 });
            expect(calculateOverhead(s, noGroups, 4096), `${groups} groups, ${dpb} descriptors per block, first_meta_bg ${firstMetaBg}`).toBe(reference(s, 4096));
            cases++;
          }
        }
      }
      expect(cases).toBe(groupCounts.length * 7 * 6);
    });
  }

  it('counts the groups with a superblock as groupHasSuper does', () => {
    for (const l of layouts) {
      const s = sb({ groups: 5000, dpb: 16, ...l });
      let n = 0;
      for (let g = 0; g < 5000; g++) {
        if (groupHasSuper(s, g)) n++;
        expect(groupsWithSuper(s, g + 1), `${l.name}, groups 0-${g}`).toBe(n);
      }
    }
  });

  it('takes no time for 4M groups (the statfs limit)', () => {
    const s = sb({ groups: 1 << 22, dpb: 64, roCompat: RO_COMPAT_SPARSE_SUPER, incompat: INCOMPAT_META_BG, firstMetaBg: 3 });
    const t0 = performance.now();
    const v = calculateOverhead(s, noGroups, 0);
    expect(performance.now() - t0).toBeLessThan(50);
    // 4M groups of 130 metadata blocks each (2 bitmaps, 128 inode table blocks), plus the
    // superblocks, reserved and descriptor blocks of the few groups that have them.
    expect(v).toBeGreaterThan((1 << 22) * 130);
    expect(v).toBeLessThan((1 << 22) * 130 + 3 * ((1 << 22) / 64) + 1000);
  });
});

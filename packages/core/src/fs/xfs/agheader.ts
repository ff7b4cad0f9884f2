// Allocation group headers: struct xfs_agf (free space, 'XAGF') in the AG's second sector and
// struct xfs_agi (inodes, 'XAGI') in its third (XFS Algorithms & Data Structures, "AG Free
// Space Management", "AG Inode Management"; libxfs/xfs_format.h). Only the counters statfs
// needs are read.

import type { Bytes } from '../../bytes.js';
import { corrupt } from '../../errors.js';

export const XFS_AGF_MAGIC = 0x58414746; // 'XAGF'
export const XFS_AGI_MAGIC = 0x58414749; // 'XAGI'
export const XFS_AGF_CRC_OFF = 216;
export const XFS_AGI_CRC_OFF = 312;

export interface XfsAgf {
  agf_seqno: number;
  agf_length: number;
  agf_flcount: number;
  agf_freeblks: number;
  agf_longest: number;
  agf_btreeblks: number;
  agf_rmap_blocks: number;
  agf_refcount_blocks: number;
}

export interface XfsAgi {
  agi_seqno: number;
  agi_length: number;
  agi_count: number;
  agi_freecount: number;
}

export function parseAgf(b: Bytes, agno: number, agblocks: number, what: string): XfsAgf {
  const magic = b.u32be(0);
  if (magic !== XFS_AGF_MAGIC) throw corrupt(what, `bad magic 0x${magic.toString(16)} (expected 0x58414746 'XAGF')`);
  if (b.u32be(4) !== 1) throw corrupt(what, `version ${b.u32be(4)}`);
  const agf: XfsAgf = {
    agf_seqno: b.u32be(8),
    agf_length: b.u32be(12),
    agf_flcount: b.u32be(48),
    agf_freeblks: b.u32be(52),
    agf_longest: b.u32be(56),
    agf_btreeblks: b.u32be(60),
    agf_rmap_blocks: b.u32be(80),
    agf_refcount_blocks: b.u32be(84),
  };
  if (agf.agf_seqno !== agno) throw corrupt(what, `sequence number ${agf.agf_seqno}`);
  if (agf.agf_length === 0 || agf.agf_length > agblocks) throw corrupt(what, `length ${agf.agf_length}`);
  if (agf.agf_freeblks > agf.agf_length || agf.agf_flcount > agf.agf_length || agf.agf_btreeblks > agf.agf_length) {
    throw corrupt(what, `free block counts (${agf.agf_freeblks} free, ${agf.agf_flcount} on the free list) exceed the AG`);
  }
  return agf;
}

export function parseAgi(b: Bytes, agno: number, agblocks: number, what: string): XfsAgi {
  const magic = b.u32be(0);
  if (magic !== XFS_AGI_MAGIC) throw corrupt(what, `bad magic 0x${magic.toString(16)} (expected 0x58414749 'XAGI')`);
  if (b.u32be(4) !== 1) throw corrupt(what, `version ${b.u32be(4)}`);
  const agi: XfsAgi = {
    agi_seqno: b.u32be(8),
    agi_length: b.u32be(12),
    agi_count: b.u32be(16),
    agi_freecount: b.u32be(28),
  };
  if (agi.agi_seqno !== agno) throw corrupt(what, `sequence number ${agi.agi_seqno}`);
  if (agi.agi_length === 0 || agi.agi_length > agblocks) throw corrupt(what, `length ${agi.agi_length}`);
  if (agi.agi_freecount > agi.agi_count) throw corrupt(what, `${agi.agi_freecount} free inodes of ${agi.agi_count}`);
  return agi;
}

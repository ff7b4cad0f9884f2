// XFS log recovery into an in-memory overlay (the image is never written). XFS Algorithms &
// Data Structures, "Journaling Log"; the kernel's fs/xfs/xfs_log_recover.c and
// xfs_{buf,inode}_item_recover.c (read for the algorithm, not copied):
//   - the log is walked record by record from the tail to the head (log.ts finds both). Each
//     record (struct xlog_rec_header, big-endian, magic XLOG_HEADER_MAGIC_NUM) is followed by
//     h_len bytes of data whose 512-byte blocks had their first word replaced by the cycle
//     number; the originals are in h_cycle_data[] and, past 32 KiB, in the extended headers;
//   - the data is a sequence of operations (struct xlog_op_header: oh_tid, oh_len, oh_clientid,
//     oh_flags) that reassemble into transactions: XLOG_START_TRANS opens one, its first region
//     is the transaction header ("TRAN"), then each log item is a format region (type and
//     number of regions) and its data regions; a region split across records is flagged
//     XLOG_CONTINUE_TRANS and continued by XLOG_WAS_CONT_TRANS; XLOG_COMMIT_TRANS ends it;
//   - pass 1 collects cancelled buffers (XFS_LI_BUF with XFS_BLF_CANCEL), pass 2 replays the
//     committed transactions in log order: buffers (the dirty-region bitmap, one bit per
//     128-byte chunk), inode-allocation buffers (XFS_BLF_INODE_BUF: only di_next_unlinked),
//     inodes (XFS_LI_INODE: the log dinode converted to the on-disk format, then the data and
//     attribute fork regions), inode chunk creation (XFS_LI_ICREATE). A buffer with a cancel
//     record later in the log is not replayed; on v5, a buffer or inode whose on-disk LSN is
//     not older than the transaction is not replayed (it was written back already). Replayed
//     v5 metadata gets its CRC recomputed, as the kernel's write verifiers do.
// Log item payloads (the format structures and the log dinode) are in the byte order of the
// CPU that wrote them: little-endian is assumed (x86, arm64), a big-endian log is refused.
// Intent items (EFI/EFD, RUI/RUD, CUI/CUD, BUI/BUD, attr and exchange intents) are not
// replayed: their completed effects are logged as buffers; an unfinished intent would only free
// or remap space (free-space counts, not the namespace or file contents). Quota items too.

import { GuestkitError } from '../../errors.js';
import { Bytes } from '../../bytes.js';
import { xfsCksum } from './cksum.js';
import { XLOG_HEADER_MAGIC_NUM, XLOG_HEADER_CYCLE_SIZE, XLOG_VERSION_2, type XlogState } from './log.js';

const BBSIZE = 512;
/** Cycle-data words per header block (XLOG_HEADER_CYCLE_SIZE / BBSIZE). */
const CYCLE_WORDS = XLOG_HEADER_CYCLE_SIZE / BBSIZE;
/** Largest log record (v2 logs: 256 KiB of data). */
const XLOG_MAX_RECORD_BSIZE = 256 * 1024;
/** Bound on the regions of one log item and on open transactions (hostile logs). */
const MAX_ITEM_REGIONS = 4096;
const MAX_OPEN_TRANS = 65536;

/** Operation header flags and client ids (xfs_log_format.h). */
const XLOG_START_TRANS = 0x01;
const XLOG_COMMIT_TRANS = 0x02;
const XLOG_CONTINUE_TRANS = 0x04;
const XLOG_WAS_CONT_TRANS = 0x08;
const XLOG_END_TRANS = 0x10;
const XLOG_UNMOUNT_TRANS = 0x20;
const XFS_TRANSACTION = 0x69;
const XFS_LOG = 0xaa;
const XFS_TRANS_HEADER_MAGIC = 0x5452414e; // "TRAN"

/** Log item types (xfs_log_format.h). */
export const XFS_LI = {
  EFI: 0x1236, EFD: 0x1237, IUNLINK: 0x1238, INODE: 0x123b, BUF: 0x123c, DQUOT: 0x123d,
  QUOTAOFF: 0x123e, ICREATE: 0x123f, RUI: 0x1240, RUD: 0x1241, CUI: 0x1242, CUD: 0x1243,
  BUI: 0x1244, BUD: 0x1245, ATTRI: 0x1246, ATTRD: 0x1247, XMI: 0x1248, XMD: 0x1249,
  EFI_RT: 0x124a, EFD_RT: 0x124b, RUI_RT: 0x124c, RUD_RT: 0x124d, CUI_RT: 0x124e, CUD_RT: 0x124f,
} as const;
const LI_NAME = new Map<number, string>(Object.entries(XFS_LI).map(([k, v]) => [v, k]));

/** xfs_buf_log_format flags. */
const XFS_BLF_INODE_BUF = 0x1;
const XFS_BLF_CANCEL = 0x2;
const XFS_BLF_DQUOT_BUFS = 0x4 | 0x8 | 0x10;
/** One dirty-bitmap bit covers this many bytes (XFS_BLF_CHUNK). */
const XFS_BLF_CHUNK = 128;

/** xfs_inode_log_format ilf_fields. */
const XFS_ILOG_CORE = 0x001;
const XFS_ILOG_DDATA = 0x002;
const XFS_ILOG_DEXT = 0x004;
const XFS_ILOG_DBROOT = 0x008;
const XFS_ILOG_DEV = 0x010;
const XFS_ILOG_ADATA = 0x040;
const XFS_ILOG_AEXT = 0x080;
const XFS_ILOG_ABROOT = 0x100;
const XFS_ILOG_DFORK = XFS_ILOG_DDATA | XFS_ILOG_DEXT | XFS_ILOG_DBROOT;
const XFS_ILOG_AFORK = XFS_ILOG_ADATA | XFS_ILOG_AEXT | XFS_ILOG_ABROOT;
/** di_flags2 bits that change the log dinode's layout. */
const XFS_DIFLAG2_BIGTIME = 1n << 3n;
const XFS_DIFLAG2_NREXT64 = 1n << 4n;
const XFS_DINODE_MAGIC = 0x494e;
const NULLAGINO = 0xffffffff;

export interface XlogRecoveryGeometry {
  hasCrc: boolean;
  inodeSize: number;
  sectSize: number;
  metaUuid: Uint8Array;
  /** 512-byte blocks on the data device (replayed buffers must lie inside). */
  dataBBs: number;
  /** 512-byte blocks per filesystem block, and inodes per filesystem block. */
  blockBBs: number;
  inodesPerBlock: number;
  /** Disk address (512-byte block) of AG block `agbno` of AG `ag`. */
  agbToDaddr(ag: number, agbno: number): number;
  /** Inode number of AG inode `agino` of AG `ag`. */
  agInoToIno(ag: number, agino: number): number;
}

export interface XlogRecovery {
  /** Replayed contents: data-device 512-byte block number → its 512 bytes. */
  overlay: Map<number, Uint8Array>;
  transactions: number;
  /** Items replayed, by type name ("BUF", "INODE", "ICREATE"). */
  replayed: Map<string, number>;
  /** Items not replayed, by type name, with why. */
  skipped: Map<string, number>;
  warnings: string[];
}

interface Item {
  type: number;
  total: number;
  regions: Uint8Array[];
}

/** Block access for the replay of one item: current contents, write-back, cancel check. */
interface ReplayIo {
  get(daddr: number, len: number): Uint8Array;
  put(daddr: number, buf: Uint8Array): void;
  cancelled(blkno: number, len: number): boolean;
}

interface Trans {
  tid: number;
  lsn: bigint;
  header: Uint8Array;
  items: Item[];
}

/**
 * Replay the log between st.tailBlk and st.headBlk. `readLog(bb, count)` reads log blocks
 * (inside the log), `readDisk(daddr, count)` reads data-device blocks as they are on disk.
 */
export function xlogRecover(
  readLog: (bb: number, count: number) => Uint8Array,
  logBBs: number,
  st: XlogState,
  geo: XlogRecoveryGeometry,
  readDisk: (daddr: number, count: number) => Uint8Array,
  what: string,
): XlogRecovery {
  const res: XlogRecovery = { overlay: new Map(), transactions: 0, replayed: new Map(), skipped: new Map(), warnings: [] };
  const committed = readTransactions(readLog, logBBs, st, what);
  res.transactions = committed.length;

  // Pass 1: cancelled buffers (blkno:len → number of cancel records still ahead).
  const cancels = new Map<string, number>();
  for (const t of committed) {
    for (const it of t.items) {
      if (it.type !== XFS_LI.BUF) continue;
      const f = bufFormat(it, what);
      if (f.flags & XFS_BLF_CANCEL) cancels.set(`${f.blkno}:${f.len}`, (cancels.get(`${f.blkno}:${f.len}`) ?? 0) + 1);
    }
  }
  const cancelled = (blkno: number, len: number) => (cancels.get(`${blkno}:${len}`) ?? 0) > 0;
  const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

  // Current contents (overlay first) of `len` blocks at `daddr`, and writing them back.
  const get = (daddr: number, len: number): Uint8Array => {
    if (daddr < 0 || len <= 0 || daddr + len > geo.dataBBs) throw corrupt(what, `log item names disk blocks ${daddr}+${len}, outside the filesystem`);
    const out = readDisk(daddr, len).slice();
    for (let k = 0; k < len; k++) {
      const o = res.overlay.get(daddr + k);
      if (o) out.set(o, k * BBSIZE);
    }
    return out;
  };
  const put = (daddr: number, buf: Uint8Array) => {
    for (let k = 0; k * BBSIZE < buf.length; k++) res.overlay.set(daddr + k, buf.slice(k * BBSIZE, (k + 1) * BBSIZE));
  };

  const io: ReplayIo = { get, put, cancelled };

  // Pass 2, in log order; within a transaction buffers and inode creation before inodes (the
  // kernel's xlog_recover_reorder_trans).
  for (const t of committed) {
    const rank = (it: Item) => (it.type === XFS_LI.BUF ? (bufFormat(it, what).flags & XFS_BLF_INODE_BUF ? 1 : 0) : it.type === XFS_LI.ICREATE ? 2 : 3);
    const items = [...t.items].sort((a, b) => rank(a) - rank(b));
    for (const it of items) {
      const name = LI_NAME.get(it.type) ?? `0x${it.type.toString(16)}`;
      if (it.type === XFS_LI.BUF) {
        const f = bufFormat(it, what);
        const key = `${f.blkno}:${f.len}`;
        if (f.flags & XFS_BLF_CANCEL) {
          cancels.set(key, (cancels.get(key) ?? 1) - 1);
          continue;
        }
        if (cancelled(f.blkno, f.len)) { count(res.skipped, 'BUF (cancelled)'); continue; }
        if (f.flags & XFS_BLF_DQUOT_BUFS) { count(res.skipped, 'BUF (quota)'); continue; }
        const buf = get(f.blkno, f.len);
        if (geo.hasCrc && !(f.flags & XFS_BLF_INODE_BUF)) {
          const lsn = bufLsn(buf);
          if (lsn !== null && lsn !== 0n && lsn !== 0xffffffffffffffffn && lsn >= t.lsn) { count(res.skipped, 'BUF (newer on disk)'); continue; }
        }
        applyBufRegions(buf, it, f, geo, what);
        if (geo.hasCrc) fixCrcs(buf, geo, f.flags & XFS_BLF_INODE_BUF ? true : undefined);
        put(f.blkno, buf);
        count(res.replayed, 'BUF');
      } else if (it.type === XFS_LI.INODE) {
        const r = replayInode(it, t.lsn, geo, io, what);
        count(r ? res.replayed : res.skipped, r ? 'INODE' : 'INODE (cancelled or newer on disk)');
      } else if (it.type === XFS_LI.ICREATE) {
        const r = replayIcreate(it, geo, io, what);
        count(r ? res.replayed : res.skipped, r ? 'ICREATE' : 'ICREATE (cancelled)');
      } else {
        count(res.skipped, name);
      }
    }
  }
  return res;
}

function corrupt(what: string, msg: string): GuestkitError {
  return new GuestkitError('CORRUPT', `${what}: ${msg}`);
}

// ---- records and transactions ----

/** The committed transactions between the tail and the head, in commit order. */
function readTransactions(readLog: (bb: number, count: number) => Uint8Array, n: number, st: XlogState, what: string): Trans[] {
  const open = new Map<number, Trans>();
  const committed: Trans[] = [];
  const wrap = (b: number) => ((b % n) + n) % n;
  const read = (bb: number, count: number): Uint8Array => {
    const out = new Uint8Array(count * BBSIZE);
    let done = 0;
    while (done < count) {
      const at = wrap(bb + done);
      const take = Math.min(count - done, n - at);
      out.set(readLog(at, take), done * BBSIZE);
      done += take;
    }
    return out;
  };
  let blk = st.tailBlk;
  let end = st.headBlk;
  if (end < blk || (end === blk && st.headCycle !== st.tailCycle)) end += n;
  // Each record takes at least two blocks: at most n / 2 records.
  for (let guard = 0; blk < end; guard++) {
    if (guard > n) throw corrupt(what, 'log records do not reach the head');
    const h = new Bytes(read(blk, 1), `${what}: log record at block ${wrap(blk)}`);
    if (h.u32be(0) !== XLOG_HEADER_MAGIC_NUM) throw corrupt(h.what, `bad magic 0x${h.u32be(0).toString(16)} (a log record header expected)`);
    const version = h.u32be(8);
    const len = h.u32be(12);
    const lsn = h.u64beBig(16);
    const numOps = h.u32be(40);
    const size = version & XLOG_VERSION_2 ? h.u32be(320) : XLOG_HEADER_CYCLE_SIZE;
    if (len > XLOG_MAX_RECORD_BSIZE || size > XLOG_MAX_RECORD_BSIZE) throw corrupt(h.what, `record length ${len} (size ${size}) is too large`);
    const hblks = size > XLOG_HEADER_CYCLE_SIZE ? Math.ceil(size / XLOG_HEADER_CYCLE_SIZE) : 1;
    const dataBBs = Math.ceil(len / BBSIZE);
    const headers = hblks > 1 ? read(blk, hblks) : h.buf;
    const data = read(blk + hblks, dataBBs);
    // Put back the first word of each data block.
    for (let i = 0; i < dataBBs; i++) {
      const j = Math.floor(i / CYCLE_WORDS);
      const k = i % CYCLE_WORDS;
      const src = j === 0 ? 44 + 4 * k : j * BBSIZE + 4 + 4 * k;
      if (src + 4 > headers.length) throw corrupt(h.what, `no cycle data for data block ${i}`);
      data.set(headers.subarray(src, src + 4), i * BBSIZE);
    }
    readOps(new Bytes(data.subarray(0, len), `${h.what}: data`), numOps, lsn, open, committed, what);
    blk += hblks + dataBBs;
  }
  return committed;
}

function readOps(d: Bytes, numOps: number, lsn: bigint, open: Map<number, Trans>, committed: Trans[], what: string): void {
  let off = 0;
  for (let i = 0; i < numOps && off < d.length; i++) {
    const tid = d.u32be(off);
    const len = d.u32be(off + 4);
    const client = d.u8(off + 8);
    let flags = d.u8(off + 9);
    off += 12;
    if (off + len > d.length) throw corrupt(d.what, `operation ${i} (${len} bytes) runs past the record`);
    const payload = d.buf.subarray(off, off + len);
    off += len;
    if (client !== XFS_TRANSACTION && client !== XFS_LOG) throw corrupt(d.what, `operation ${i} has client id 0x${client.toString(16)}`);
    let t = open.get(tid);
    if (!t) {
      if (flags & XLOG_START_TRANS) {
        if (open.size >= MAX_OPEN_TRANS) throw corrupt(what, `more than ${MAX_OPEN_TRANS} open transactions`);
        open.set(tid, { tid, lsn, header: new Uint8Array(0), items: [] });
      }
      // Otherwise the transaction began before the tail: nothing to replay of it.
      continue;
    }
    flags &= ~XLOG_END_TRANS;
    if (flags & XLOG_WAS_CONT_TRANS) flags &= ~XLOG_CONTINUE_TRANS;
    switch (flags) {
      case 0:
      case XLOG_CONTINUE_TRANS:
        addRegion(t, payload, d.what);
        break;
      case XLOG_WAS_CONT_TRANS:
        continueRegion(t, payload);
        break;
      case XLOG_COMMIT_TRANS:
        open.delete(tid);
        committed.push(t);
        break;
      case XLOG_UNMOUNT_TRANS:
        open.delete(tid);
        break;
      default:
        throw corrupt(d.what, `operation ${i} has flags 0x${flags.toString(16)}`);
    }
  }
}

function addRegion(t: Trans, p: Uint8Array, what: string): void {
  if (p.length === 0) return;
  if (t.header.length === 0 && t.items.length === 0) {
    if (p.length < 4 || (p[0] | (p[1] << 8) | (p[2] << 16) | (p[3] << 24)) >>> 0 !== XFS_TRANS_HEADER_MAGIC) {
      throw corrupt(what, `transaction 0x${t.tid.toString(16)}: no transaction header (a little-endian "TRAN" expected; big-endian logs are not replayed)`);
    }
    t.header = p.slice();
    return;
  }
  let it = t.items[t.items.length - 1];
  if (!it || it.regions.length === it.total) {
    if (p.length < 4) throw corrupt(what, `transaction 0x${t.tid.toString(16)}: log item format of ${p.length} bytes`);
    const total = p[2] | (p[3] << 8);
    if (total === 0 || total > MAX_ITEM_REGIONS) throw corrupt(what, `transaction 0x${t.tid.toString(16)}: log item with ${total} regions`);
    it = { type: p[0] | (p[1] << 8), total, regions: [] };
    t.items.push(it);
  }
  it.regions.push(p.slice());
}

function continueRegion(t: Trans, p: Uint8Array): void {
  const it = t.items[t.items.length - 1];
  if (!it) {
    const h = new Uint8Array(t.header.length + p.length);
    h.set(t.header);
    h.set(p, t.header.length);
    t.header = h;
    return;
  }
  const last = it.regions.length - 1;
  const r = new Uint8Array(it.regions[last].length + p.length);
  r.set(it.regions[last]);
  r.set(p, it.regions[last].length);
  it.regions[last] = r;
}

// ---- buffers ----

interface BufFormat {
  flags: number;
  len: number;
  blkno: number;
  map: Uint32Array;
}

/** struct xfs_buf_log_format (host byte order: little-endian). */
function bufFormat(it: Item, what: string): BufFormat {
  const b = new Bytes(it.regions[0], `${what}: buffer log item`);
  const flags = b.u16le(4);
  const len = b.u16le(6);
  const blkno = b.u64le(8);
  const mapSize = b.u32le(16);
  if (20 + mapSize * 4 > b.length) throw corrupt(b.what, `dirty bitmap of ${mapSize} words is past the item's end`);
  const map = new Uint32Array(mapSize);
  for (let i = 0; i < mapSize; i++) map[i] = b.u32le(20 + 4 * i);
  return { flags, len, blkno, map };
}

/** Copy each run of dirty chunks from the item's next region into the buffer. */
function applyBufRegions(buf: Uint8Array, it: Item, f: BufFormat, geo: XlogRecoveryGeometry, what: string): void {
  const bits = f.map.length * 32;
  const isSet = (i: number) => (f.map[i >>> 5] & (1 << (i & 31))) !== 0;
  let r = 1;
  for (let bit = 0; bit < bits; ) {
    if (!isSet(bit)) { bit++; continue; }
    let n = 0;
    while (bit + n < bits && isSet(bit + n)) n++;
    const region = it.regions[r++];
    if (!region) throw corrupt(what, `buffer at disk block ${f.blkno}: fewer regions than dirty chunks`);
    const start = bit * XFS_BLF_CHUNK;
    const len = Math.min(region.length, n * XFS_BLF_CHUNK, buf.length - start);
    if (len <= 0) throw corrupt(what, `buffer at disk block ${f.blkno}: dirty chunk ${bit} is past its ${buf.length} bytes`);
    if (f.flags & XFS_BLF_INODE_BUF) {
      // Inode allocation buffers: only the di_next_unlinked fields inside the region.
      for (let ino = 0; ino < buf.length; ino += geo.inodeSize) {
        const at = ino + 96;
        if (at >= start && at + 4 <= start + len) buf.set(region.subarray(at - start, at - start + 4), at);
      }
    } else {
      buf.set(region.subarray(0, len), start);
    }
    bit += n;
  }
}

/** The LSN a v5 metadata buffer carries (by its magic number), or null when unknown. */
function bufLsn(b: Uint8Array): bigint | null {
  if (b.length < 64) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const m32 = dv.getUint32(0);
  const at = LSN_OFF32.get(m32) ?? LSN_OFF16.get(dv.getUint16(8));
  if (at === undefined || at + 8 > b.length) return null;
  return dv.getBigUint64(at);
}

/** Offsets of the LSN and the CRC in v5 metadata, by 32-bit magic at offset 0. */
const LSN_OFF32 = new Map<number, number>([
  [0x58465342, 240], // XFSB superblock
  [0x58414746, 208], // XAGF
  [0x58414749, 320], // XAGI
  [0x5841464c, 24], // XAFL
  [0x58444233, 16], [0x58444433, 16], [0x58444633, 16], // XDB3, XDD3, XDF3
  [0x41423342, 24], [0x41423343, 24], [0x49414233, 24], [0x46494233, 24], [0x524d4233, 24], [0x52334643, 24], // short btrees
  [0x424d4133, 32], // BMA3
]);
const CRC_OFF32 = new Map<number, number>([
  [0x58465342, 224], [0x58414746, 216], [0x58414749, 312], [0x5841464c, 32],
  [0x58444233, 4], [0x58444433, 4], [0x58444633, 4],
  [0x41423342, 52], [0x41423343, 52], [0x49414233, 52], [0x46494233, 52], [0x524d4233, 52], [0x52334643, 52],
  [0x424d4133, 56],
  [0x58534c4d, 12], [0x5841524d, 12], // XSLM symlink, XARM remote attribute (one fs block each)
]);
/** By the 16-bit magic of struct xfs_da3_blkinfo (offset 8): dir3 leaf1/leafn, da3 node, attr3 leaf. */
const LSN_OFF16 = new Map<number, number>([[0x3df1, 24], [0x3dff, 24], [0x3ebe, 24], [0x3bee, 24]]);
const CRC_OFF16 = new Map<number, number>([[0x3df1, 12], [0x3dff, 12], [0x3ebe, 12], [0x3bee, 12]]);

/** Recompute the CRCs of replayed v5 metadata (unknown magics are left alone). */
function fixCrcs(b: Uint8Array, geo: XlogRecoveryGeometry, inodes?: boolean): void {
  if (b.length < 16) return;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (inodes || dv.getUint16(0) === XFS_DINODE_MAGIC) {
    for (let o = 0; o + geo.inodeSize <= b.length; o += geo.inodeSize) {
      if (dv.getUint16(o) === XFS_DINODE_MAGIC && b[o + 4] >= 3) setCrc(b.subarray(o, o + geo.inodeSize), 100);
    }
    return;
  }
  const m32 = dv.getUint32(0);
  let off = CRC_OFF32.get(m32);
  let len = b.length;
  if (off === undefined) off = CRC_OFF16.get(dv.getUint16(8));
  if (off === undefined) return;
  // The superblock and AG headers are checksummed over one sector.
  if (m32 === 0x58465342 || m32 === 0x58414746 || m32 === 0x58414749 || m32 === 0x5841464c) len = Math.min(len, geo.sectSize);
  setCrc(b.subarray(0, len), off);
}

function setCrc(b: Uint8Array, off: number): void {
  const c = xfsCksum(b, off);
  b[off] = c & 0xff;
  b[off + 1] = (c >>> 8) & 0xff;
  b[off + 2] = (c >>> 16) & 0xff;
  b[off + 3] = c >>> 24;
}

// ---- inodes ----

/** Replay one XFS_LI_INODE item; false when it was skipped. */
function replayInode(it: Item, lsn: bigint, geo: XlogRecoveryGeometry, io: ReplayIo, what: string): boolean {
  const { get, put, cancelled } = io;
  const f = new Bytes(it.regions[0], `${what}: inode log item`);
  // struct xfs_inode_log_format (56 bytes) or its 32-bit-aligned variant (52 bytes).
  const wide = f.length >= 56;
  const fields = f.u32le(4);
  const asize = f.u16le(8);
  const dsize = f.u16le(10);
  const ino = f.u64le(wide ? 16 : 12);
  const blkno = f.u64le(wide ? 40 : 36);
  const len = f.u32le(wide ? 48 : 44);
  const boffset = f.u32le(wide ? 52 : 48);
  const iw = `${what}: inode ${ino}`;
  if (cancelled(blkno, len)) return false;
  const buf = get(blkno, len);
  if (boffset + geo.inodeSize > buf.length) throw corrupt(iw, `offset ${boffset} is past its ${buf.length}-byte buffer`);
  const dip = buf.subarray(boffset, boffset + geo.inodeSize);
  const dv = new DataView(dip.buffer, dip.byteOffset, dip.byteLength);
  if (dv.getUint16(0) !== XFS_DINODE_MAGIC) throw corrupt(iw, 'the inode on disk has no "IN" magic (its chunk was not initialised)');
  if (dip[4] >= 3) {
    const diskLsn = dv.getBigUint64(112);
    if (diskLsn !== 0n && diskLsn !== 0xffffffffffffffffn && diskLsn >= lsn) return false;
  }
  const core = it.regions[1];
  if (!(fields & XFS_ILOG_CORE) || !core) throw corrupt(iw, 'no inode core region');
  logDinodeToDisk(core, dip, lsn, iw);
  const lit = dip[4] >= 3 ? 176 : 100;
  const forkoff = dip[82] * 8;
  const dEnd = forkoff ? lit + forkoff : geo.inodeSize;
  let r = 2;
  if (fields & XFS_ILOG_DFORK) {
    const reg = it.regions[r++];
    if (!reg) throw corrupt(iw, 'data fork region missing');
    if (fields & XFS_ILOG_DBROOT) throw new GuestkitError('UNSUPPORTED', `${iw}: a logged bmap btree root (XFS_ILOG_DBROOT) is not replayed`);
    const n = Math.min(dsize, reg.length, dEnd - lit);
    dip.set(reg.subarray(0, n), lit);
  } else if (fields & XFS_ILOG_DEV) {
    const rdev = f.u32le(wide ? 24 : 20);
    dv.setUint32(lit, rdev);
  }
  if (fields & XFS_ILOG_AFORK) {
    const reg = it.regions[r++];
    if (!reg) throw corrupt(iw, 'attribute fork region missing');
    if (fields & XFS_ILOG_ABROOT) throw new GuestkitError('UNSUPPORTED', `${iw}: a logged attribute bmap btree root (XFS_ILOG_ABROOT) is not replayed`);
    if (forkoff) {
      const n = Math.min(asize, reg.length, geo.inodeSize - dEnd);
      dip.set(reg.subarray(0, n), dEnd);
    }
  }
  if (geo.hasCrc && dip[4] >= 3) setCrc(dip, 100);
  put(blkno, buf);
  return true;
}

/**
 * struct xfs_log_dinode (host byte order) to struct xfs_dinode (big-endian), as
 * xfs_log_dinode_to_disk does. The offsets are the same; di_next_unlinked stays as on disk.
 */
function logDinodeToDisk(l: Uint8Array, dip: Uint8Array, lsn: bigint, what: string): void {
  const v3 = l.length >= 176;
  if (l.length < 96) throw corrupt(what, `log dinode of ${l.length} bytes`);
  const src = new DataView(l.buffer, l.byteOffset, l.byteLength);
  const dst = new DataView(dip.buffer, dip.byteOffset, dip.byteLength);
  const u16 = (o: number) => dst.setUint16(o, src.getUint16(o, true));
  const u32 = (o: number) => dst.setUint32(o, src.getUint32(o, true));
  const u64 = (o: number) => dst.setBigUint64(o, src.getBigUint64(o, true));
  if (src.getUint16(0, true) !== XFS_DINODE_MAGIC) throw corrupt(what, 'log dinode has a bad magic number');
  u16(0); // di_magic
  u16(2); // di_mode
  dip[4] = l[4]; // di_version
  dip[5] = l[5]; // di_format
  dip[6] = l[6];
  dip[7] = l[7];
  u32(8); // di_uid
  u32(12); // di_gid
  u32(16); // di_nlink
  u16(20); // di_projid_lo
  u16(22); // di_projid_hi
  const flags2 = v3 ? src.getBigUint64(120, true) : 0n;
  if (flags2 & XFS_DIFLAG2_NREXT64) u64(24); // di_big_nextents
  else {
    dip.fill(0, 24, 30);
    u16(30); // di_flushiter
  }
  const ts = (o: number) => {
    if (flags2 & XFS_DIFLAG2_BIGTIME) u64(o);
    else { u32(o); u32(o + 4); }
  };
  ts(32); // di_atime
  ts(40); // di_mtime
  ts(48); // di_ctime
  u64(56); // di_size
  u64(64); // di_nblocks
  u32(72); // di_extsize
  u32(76); // di_nextents / di_big_anextents
  u16(80); // di_anextents / di_nrext64_pad
  dip[82] = l[82]; // di_forkoff
  dip[83] = l[83]; // di_aformat
  u32(84); // di_dmevmask
  u16(88); // di_dmstate
  u16(90); // di_flags
  u32(92); // di_gen
  if (v3 && dip[4] >= 3) {
    u64(104); // di_changecount
    dst.setBigUint64(112, lsn); // di_lsn: the recovering transaction's
    u64(120); // di_flags2
    u32(128); // di_cowextsize
    dip.set(l.subarray(132, 144), 132);
    ts(144); // di_crtime
    u64(152); // di_ino
    dip.set(l.subarray(160, 176), 160); // di_uuid (bytes)
  }
}

// ---- inode chunk creation ----

/** Replay one XFS_LI_ICREATE item (struct xfs_icreate_log): initialise the new inodes. */
function replayIcreate(it: Item, geo: XlogRecoveryGeometry, io: ReplayIo, what: string): boolean {
  const { get, put, cancelled } = io;
  const b = new Bytes(it.regions[0], `${what}: inode create log item`);
  // icl_type, icl_size (u16), then big-endian: icl_ag, icl_agbno, icl_count, icl_isize,
  // icl_length, icl_gen (xfs_icreate_item.c logs them cpu_to_be32).
  const ag = b.u32be(4);
  const agbno = b.u32be(8);
  const count = b.u32be(12);
  const isize = b.u32be(16);
  const length = b.u32be(20);
  const gen = b.u32be(24);
  if (isize !== geo.inodeSize || count === 0 || count > 1024) throw corrupt(b.what, `${count} inodes of ${isize} bytes`);
  const daddr = geo.agbToDaddr(ag, agbno);
  const bytes = count * isize;
  if (bytes > length * geo.blockBBs * BBSIZE) throw corrupt(b.what, `${count} inodes do not fit in ${length} blocks`);
  const bbs = Math.ceil(bytes / BBSIZE);
  if (cancelled(daddr, bbs)) return false;
  const buf = get(daddr, bbs);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const firstAgino = (agbno * geo.inodesPerBlock);
  for (let i = 0; i < count; i++) {
    const o = i * isize;
    buf.fill(0, o, o + isize);
    dv.setUint16(o, XFS_DINODE_MAGIC);
    buf[o + 4] = geo.hasCrc ? 3 : 2;
    dv.setUint32(o + 92, gen);
    dv.setUint32(o + 96, NULLAGINO);
    if (geo.hasCrc) {
      dv.setBigUint64(o + 152, BigInt(geo.agInoToIno(ag, firstAgino + i)));
      buf.set(geo.metaUuid, o + 160);
      setCrc(buf.subarray(o, o + isize), 100);
    }
  }
  put(daddr, buf);
  return true;
}

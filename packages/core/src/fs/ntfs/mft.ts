// The Master File Table, libfsntfs §5 "The Master File Table (MFT)": an array of MFT entries
// stored as the $DATA of MFT entry 0 ($MFT), which maps itself with its own data runs (and,
// on a fragmented MFT, an $ATTRIBUTE_LIST whose extension entries are reached through the
// runs known so far, libfsntfs §6.3 note). Entries are read in small chunks and cached.

import { GuestkitError } from '../../errors.js';
import { warn } from '../../warn.js';
import { readExact } from '../../block/device.js';
import { AT, type MftAttribute } from './attribute.js';
import { parseAttributeList, MAX_ATTRIBUTE_LIST_SIZE } from './attribute-list.js';
import type { BootSector } from './boot-sector.js';
import { DataStream, type NtfsVolumeContext } from './data-stream.js';
import { parseMftEntry, type MftEntry } from './mft-entry.js';
import { BoundedCache } from '../../util/bounded-cache.js';

/** MFT entries read per device read (consecutive entries are usually read together). */
const CHUNK_ENTRIES = 16;
/** Chunks of raw MFT data kept. */
const CHUNK_CACHE = 64;
/** Parsed MFT entries kept. */
const ENTRY_CACHE = 4096;

export class Mft {
  readonly entrySize: number;
  readonly entryCount: number;
  readonly stream: DataStream;
  private readonly chunks = new BoundedCache<number, { data: Uint8Array; parsed: boolean[] }>(CHUNK_CACHE);
  private readonly entries = new BoundedCache<number, MftEntry>(ENTRY_CACHE);

  constructor(vol: NtfsVolumeContext, boot: BootSector) {
    this.entrySize = boot.mftEntrySize;
    const e0 = readEntryZero(vol, boot);
    const data = (a: MftAttribute) => a.type === AT.DATA && a.name === '';
    const extents = e0.attributes.filter(data);
    if (extents.length === 0) throw new GuestkitError('CORRUPT', 'MFT entry 0 ($MFT): no $DATA attribute');
    const list = e0.attributes.find((a) => a.type === AT.ATTRIBUTE_LIST);
    if (list) {
      // Extension entries of $MFT hold the later extents of its $DATA: each must be reachable
      // through the extents found before it.
      const raw = new DataStream(vol, [list], 'MFT entry 0 ($MFT): $ATTRIBUTE_LIST').readAll(MAX_ATTRIBUTE_LIST_SIZE);
      const items = parseAttributeList(raw, 'MFT entry 0 ($MFT): $ATTRIBUTE_LIST')
        .filter((x) => x.type === AT.DATA && x.name === '' && x.entry !== 0)
        .sort((a, b) => a.lowestVcn - b.lowestVcn);
      const seen = new Set<number>();
      for (const item of items) {
        if (seen.has(item.entry)) continue;
        seen.add(item.entry);
        extents.sort((a, b) => a.lowestVcn - b.lowestVcn);
        const partial = new DataStream(vol, extents, 'MFT entry 0 ($MFT): $DATA');
        const buf = new Uint8Array(this.entrySize);
        const pos = item.entry * this.entrySize;
        if (partial.read(buf, pos) !== buf.length) {
          throw new GuestkitError('CORRUPT', `MFT entry 0 ($MFT): extension entry ${item.entry} is past the end of the MFT`);
        }
        const ext = parseMftEntry(buf, item.entry);
        if (!ext.inUse || ext.baseEntry !== 0) {
          throw new GuestkitError('CORRUPT', `MFT entry 0 ($MFT): $ATTRIBUTE_LIST names MFT entry ${item.entry}, which is not an extension of it`);
        }
        for (const a of ext.attributes) if (data(a)) extents.push(a);
      }
    }
    extents.sort((a, b) => a.lowestVcn - b.lowestVcn);
    this.stream = new DataStream(vol, extents, 'MFT entry 0 ($MFT): $DATA');
    this.entryCount = Math.floor(this.stream.size / this.entrySize);
    if (this.entryCount < 16) throw new GuestkitError('CORRUPT', `MFT entry 0 ($MFT): the MFT has only ${this.entryCount} entries`);
    this.entries.set(0, e0);
  }

  /** MFT entry `index`, fix-ups applied. Past the end of the MFT: CORRUPT. */
  entry(index: number): MftEntry {
    const hit = this.entries.get(index);
    if (hit) return hit;
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.entryCount) {
      throw new GuestkitError('CORRUPT', `MFT entry ${index} is past the end of the MFT (${this.entryCount} entries)`);
    }
    const chunkIndex = Math.floor(index / CHUNK_ENTRIES);
    let chunk = this.chunks.get(chunkIndex);
    if (!chunk) {
      const first = chunkIndex * CHUNK_ENTRIES;
      const count = Math.min(CHUNK_ENTRIES, this.entryCount - first);
      chunk = { data: new Uint8Array(count * this.entrySize), parsed: new Array(count).fill(false) };
      this.stream.read(chunk.data, first * this.entrySize);
      this.chunks.set(chunkIndex, chunk);
    }
    const slot = index % CHUNK_ENTRIES;
    const off = slot * this.entrySize;
    // Fix-ups are undone in place, once: a re-parse of a cached chunk must not redo them.
    const raw = chunk.parsed[slot] ? chunk.data.slice(off, off + this.entrySize) : chunk.data.subarray(off, off + this.entrySize);
    if (chunk.parsed[slot]) {
      // Already fixed up: parse a copy with the fix-up bytes restored is not possible, so
      // re-read the entry from the device instead.
      this.stream.read(raw, index * this.entrySize);
    }
    chunk.parsed[slot] = true;
    const e = parseMftEntry(raw, index);
    this.entries.set(index, e);
    return e;
  }
}

/** MFT entry 0 from the MFT's first cluster, or from $MFTMirr when that copy is unreadable. */
function readEntryZero(vol: NtfsVolumeContext, boot: BootSector): MftEntry {
  const read = (lcn: number, what: string) => parseMftEntry(readExact(vol.dev, lcn * vol.clusterSize, boot.mftEntrySize, what), 0);
  try {
    return read(boot.mftLcn, 'MFT entry 0 ($MFT)');
  } catch (e) {
    if (!(e instanceof GuestkitError) || boot.mftMirrLcn >= boot.clusterCount) throw e;
    let mirror: MftEntry;
    try {
      mirror = read(boot.mftMirrLcn, 'MFT entry 0 in $MFTMirr');
    } catch {
      throw e;
    }
    warn(`${vol.dev.description}: ${e.message}; using the copy in $MFTMirr`);
    return mirror;
  }
}

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
import { applyFixups } from './fixup.js';
import { BoundedCache } from '../../util/bounded-cache.js';

/**
 * MFT entries are read in units of UNIT_ENTRIES (4 KiB with 1 KiB entries) with a read-ahead
 * window: a miss right after the previous read doubles the window (up to MAX_READAHEAD units,
 * 64 KiB), any other miss reads one unit. A walk that stats a directory's files (usually
 * consecutive entries) reads the MFT in large pieces; scattered lookups (the directories of a
 * tree, interleaved with their files) read no more than they need.
 */
const UNIT_ENTRIES = 4;
const MAX_READAHEAD = 16;
/**
 * Units of MFT data kept. Fix-ups are undone in place, once per entry (Unit.fixedUp says
 * which): a parsed entry's resident values are views into its unit.
 */
const UNIT_CACHE = 512;

interface Unit {
  data: Uint8Array;
  /** Bit k: entry k of the unit has had its fix-ups undone. */
  fixedUp: number;
}

export class Mft {
  readonly entrySize: number;
  readonly entryCount: number;
  readonly stream: DataStream;
  private readonly units = new BoundedCache<number, Unit>(UNIT_CACHE);
  private readonly unitCount: number;
  /** The unit after the last one read, and the read-ahead window (units). */
  private nextUnit = -1;
  private readahead = 1;
  private readonly entry0: MftEntry;

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
    this.unitCount = Math.ceil(this.entryCount / UNIT_ENTRIES);
    this.entry0 = e0;
  }

  /**
   * MFT entry `index`, fix-ups applied; parsed on each call (the file entries built from it are
   * cached by the caller, the raw units here). Past the end of the MFT: CORRUPT.
   */
  entry(index: number): MftEntry {
    if (index === 0) return this.entry0;
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.entryCount) {
      throw new GuestkitError('CORRUPT', `MFT entry ${index} is past the end of the MFT (${this.entryCount} entries)`);
    }
    const unitIndex = Math.floor(index / UNIT_ENTRIES);
    const unit = this.units.get(unitIndex) ?? this.readUnits(unitIndex);
    const slot = index % UNIT_ENTRIES;
    const off = slot * this.entrySize;
    const bit = 1 << slot;
    const raw = unit.data.subarray(off, off + this.entrySize);
    if (!(unit.fixedUp & bit) && raw[0] === 0x46 && raw[1] === 0x49 && raw[2] === 0x4c && raw[3] === 0x45) {
      // "FILE": undo the fix-ups once (a torn record throws here and stays as read).
      applyFixups(raw, `MFT entry ${index}`);
      unit.fixedUp |= bit;
    }
    return parseMftEntry(raw, index, (unit.fixedUp & bit) !== 0);
  }

  /** Read unit `unit` and the read-ahead window after it; returns the unit's bytes. */
  private readUnits(unit: number): Unit {
    this.readahead = unit === this.nextUnit ? Math.min(this.readahead * 2, MAX_READAHEAD) : 1;
    let count = Math.min(this.readahead, this.unitCount - unit);
    // Stop the window at a unit that is still cached.
    for (let k = 1; k < count; k++) {
      if (this.units.get(unit + k)) {
        count = k;
        break;
      }
    }
    const unitBytes = UNIT_ENTRIES * this.entrySize;
    const first = unit * UNIT_ENTRIES;
    const entries = Math.min(count * UNIT_ENTRIES, this.entryCount - first);
    const buf = new Uint8Array(count * unitBytes);
    this.stream.read(buf.subarray(0, entries * this.entrySize), first * this.entrySize);
    let head: Unit | undefined;
    for (let k = 0; k < count; k++) {
      const u: Unit = { data: buf.subarray(k * unitBytes, (k + 1) * unitBytes), fixedUp: 0 };
      this.units.set(unit + k, u);
      head ??= u;
    }
    this.nextUnit = unit + count;
    return head!;
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

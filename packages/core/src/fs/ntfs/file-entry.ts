// A file entry: the base MFT entry and, through its $ATTRIBUTE_LIST (libfsntfs §6.3), the
// extension entries holding the rest of its attributes; with the parsed
// $STANDARD_INFORMATION and $FILE_NAME attributes.

import { GuestkitError } from '../../errors.js';
import { AT, type MftAttribute } from './attribute.js';
import { parseAttributeList, MAX_ATTRIBUTE_LIST_SIZE } from './attribute-list.js';
import { DataStream, type NtfsVolumeContext } from './data-stream.js';
import { parseFileNameKey, type FileNameKey } from './file-name.js';
import type { Mft } from './mft.js';
import type { MftEntry } from './mft-entry.js';
import { parseStandardInformation, type StandardInformation } from './standard-information.js';

export class FileEntry {
  readonly index: number;
  readonly base: MftEntry;
  readonly attributes: MftAttribute[];
  readonly si: StandardInformation | undefined;
  private namesCache?: FileNameKey[];

  constructor(index: number, base: MftEntry, attributes: MftAttribute[]) {
    this.index = index;
    this.base = base;
    this.attributes = attributes;
    const si = attributes.find((a) => a.type === AT.STANDARD_INFORMATION && a.resident);
    this.si = si ? parseStandardInformation(si.value, `MFT entry ${index}: $STANDARD_INFORMATION`) : undefined;
  }

  /** The $FILE_NAME keys (parsed when first asked for: stat() does not need them). */
  get names(): FileNameKey[] {
    if (!this.namesCache) {
      const what = `MFT entry ${this.index}`;
      this.namesCache = this.attributes.filter((a) => a.type === AT.FILE_NAME && a.resident).map((a) => parseFileNameKey(a.value, what));
    }
    return this.namesCache;
  }

  get isDirectory(): boolean {
    return this.base.isDirectory;
  }

  /** The extents of attribute (type, name), in VCN order; empty when absent. */
  find(type: number, name = ''): MftAttribute[] {
    const out = this.attributes.filter((a) => a.type === type && a.name === name);
    if (out.length > 1) out.sort((a, b) => a.lowestVcn - b.lowestVcn);
    return out;
  }

  stream(vol: NtfsVolumeContext, type: number, name = ''): DataStream | null {
    const ext = this.find(type, name);
    if (ext.length === 0) return null;
    return new DataStream(vol, ext, `MFT entry ${this.index}: ${typeLabel(type)}${name ? `:${name}` : ''}`);
  }

  /** Names of the named $DATA streams (alternate data streams), in attribute order. */
  streamNames(): string[] {
    const out: string[] = [];
    for (const a of this.attributes) if (a.type === AT.DATA && a.name !== '' && !out.includes(a.name)) out.push(a.name);
    return out;
  }
}

function typeLabel(type: number): string {
  switch (type) {
    case AT.DATA: return '$DATA';
    case AT.INDEX_ALLOCATION: return '$INDEX_ALLOCATION';
    case AT.BITMAP: return '$BITMAP';
    case AT.REPARSE_POINT: return '$REPARSE_POINT';
    case AT.ATTRIBUTE_LIST: return '$ATTRIBUTE_LIST';
    default: return `attribute 0x${type.toString(16)}`;
  }
}

/** Load the file entry whose base MFT entry is `index`; NOT_FOUND when it is not in use. */
export function loadFileEntry(mft: Mft, vol: NtfsVolumeContext, index: number): FileEntry {
  const base = mft.entry(index);
  if (!base.inUse) throw new GuestkitError('NOT_FOUND', `MFT entry ${index} is not in use`);
  if (base.baseEntry !== 0) throw new GuestkitError('NOT_FOUND', `MFT entry ${index} is an extension of MFT entry ${base.baseEntry}, not a file`);
  const list = base.attributes.find((a) => a.type === AT.ATTRIBUTE_LIST);
  if (!list) return new FileEntry(index, base, base.attributes);
  const what = `MFT entry ${index}: $ATTRIBUTE_LIST`;
  const raw = new DataStream(vol, [list], what).readAll(MAX_ATTRIBUTE_LIST_SIZE);
  const attributes = [...base.attributes];
  const seen = new Set<number>([index]);
  // The list is flat: each extension entry is read once, so a list naming entries in a cycle
  // or many times costs no more than its size (bounded by MAX_ATTRIBUTE_LIST_SIZE).
  for (const item of parseAttributeList(raw, what)) {
    if (seen.has(item.entry)) continue;
    seen.add(item.entry);
    const ext = mft.entry(item.entry);
    if (!ext.inUse || ext.baseEntry !== index) {
      throw new GuestkitError('CORRUPT', `${what}: names MFT entry ${item.entry}, which is not an extension of entry ${index}`);
    }
    attributes.push(...ext.attributes);
  }
  return new FileEntry(index, base, attributes);
}

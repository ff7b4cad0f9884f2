// The reader API: a hive (primary file, optionally recovered from its transaction logs), its
// keys and values. Everything read from the file goes through the per-structure parsers
// (base-block, hbin, cell, nk, vk, sk, subkey-lists, big-data) and is bounds-checked; damage is
// reported as a GuestkitError naming the structure and where it is.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { GuestkitError, fromSystemError, warn as coreWarn } from '@guestkit/core';
import { BASE_BLOCK_SIZE, FILE_TYPE_PRIMARY, checkVersion, parseBaseBlock, type BaseBlock } from './base-block.js';
import { CellMap, NO_CELL } from './cell.js';
import { REGISTRY_LIMITS } from './limits.js';
import { compareNames, decodeName } from './names.js';
import { parseKeyNode, type KeyNode } from './nk.js';
import { parseKeySecurity, type KeySecurity } from './sk.js';
import { collectSubkeys } from './subkey-lists.js';
import { readBigData } from './big-data.js';
import { replayLogs, type LogFile, type ReplayReport } from './transaction-log.js';
import { parseKeyValue, type KeyValue } from './vk.js';
import { typeName } from './value-types.js';

export interface HiveOptions {
  /** Name for messages (usually the file path). */
  name?: string;
  /**
   * Tolerate structural damage at open time (a missing or broken hive bin, a bad cell size):
   * skip it with a warning, as hivex's "unsafe" mode does. Structures that point into the
   * damaged area still fail, with a clear error, when they are read. Default false.
   */
  unsafe?: boolean;
  /** Transaction logs found beside the hive; replayed when the hive is dirty. */
  logs?: LogFile[];
  /** Replay logs of a dirty hive (default true). */
  replay?: boolean;
  /** Where warnings go (default: core warn(), printed as "guestkit: warning: ..."). */
  warn?: (message: string) => void;
}

const hex = (n: number) => `0x${n.toString(16)}`;

export class Hive {
  readonly name: string;
  /** The hive as read (after log replay, if any). */
  readonly bytes: Uint8Array;
  /** The base block as read (after replay). */
  readonly base: BaseBlock;
  /** The base block found in the file, before any replay. */
  readonly fileBase: BaseBlock;
  /** The primary file was dirty: sequence numbers differ (or the checksum was wrong). */
  readonly dirty: boolean;
  /** What log replay did, when the hive was dirty and logs were given. */
  readonly replay: ReplayReport | null;
  readonly cells: CellMap;
  readonly warnings: string[] = [];
  private readonly warnFn: (m: string) => void;

  private constructor(name: string, bytes: Uint8Array, opts: HiveOptions) {
    this.name = name;
    this.warnFn = opts.warn ?? coreWarn;
    const warnOne = (m: string) => {
      this.warnings.push(m);
      this.warnFn(m);
    };
    if (bytes.length > REGISTRY_LIMITS.maxHiveBytes) {
      throw new GuestkitError('LIMIT', `${name}: hive of ${bytes.length} bytes exceeds the ${REGISTRY_LIMITS.maxHiveBytes}-byte limit`);
    }
    const fileBase = parseBaseBlock(bytes, name);
    this.fileBase = fileBase;
    if (fileBase.fileType !== FILE_TYPE_PRIMARY) {
      throw new GuestkitError('UNKNOWN_FORMAT', `${name}: this is a registry transaction log (file type ${fileBase.fileType}), not a hive`);
    }
    checkVersion(fileBase, name);
    this.dirty = fileBase.sequenceMismatch || !fileBase.checksumValid;
    let base = fileBase;
    let replay: ReplayReport | null = null;
    if (this.dirty && opts.replay !== false && opts.logs && opts.logs.length > 0) {
      const r = replayLogs(bytes, fileBase, opts.logs);
      if (r) {
        replay = r.report;
        for (const w of r.report.warnings) warnOne(`${name}: ${w}`);
        if (r.report.format !== 'none') {
          bytes = r.bytes;
          base = parseBaseBlock(bytes, name);
          warnOne(
            `${name}: hive was dirty; replayed ${r.report.format === 'new' ? `${r.report.entries} log entries (${r.report.dirtyPages} dirty pages)` : `${r.report.dirtyPages} dirty pages`} from ${r.report.logs.join(', ')}`,
          );
        }
      }
    }
    this.replay = replay;
    if (!base.checksumValid) {
      throw new GuestkitError(
        'CORRUPT',
        `${name}: regf base block checksum is wrong (stored ${hex(base.checksum)}, computed ${hex(base.computedChecksum)})`,
      );
    }
    if (this.dirty && !(replay && replay.format !== 'none')) {
      warnOne(
        `${name}: hive is dirty (sequence numbers ${fileBase.primarySequence} and ${fileBase.secondarySequence} differ)${opts.replay === false ? '' : ' and no transaction log could be applied'}; recent changes may be missing`,
      );
    }
    this.bytes = bytes;
    this.base = base;
    this.cells = new CellMap(bytes, base.hiveBinsDataSize, { what: name, strict: !opts.unsafe, warn: warnOne });
    if (this.cells.signature(base.rootCellOffset) !== 'nk') {
      throw new GuestkitError('CORRUPT', `${name}: root cell offset ${hex(base.rootCellOffset)} does not point to an allocated key node`);
    }
  }

  static open(bytes: Uint8Array, opts: HiveOptions = {}): Hive {
    return new Hive(opts.name ?? 'hive', bytes, opts);
  }

  root(): RegKey {
    return this.keyAt(this.base.rootCellOffset, null);
  }

  /** The key node at `offset` (relative to the hive bins data). */
  keyAt(offset: number, parent?: RegKey | null, what = 'key node'): RegKey {
    return new RegKey(this, offset, parseKeyNode(this.cells.data(offset, what)), parent);
  }

  /**
   * Look a key up by path ("\\Microsoft\\Windows NT", "Microsoft\\Windows NT"; the root is "\\"
   * or ""). Components are compared case-insensitively as Windows does; empty components are
   * skipped. Returns null when a component does not exist.
   */
  get(path: string): RegKey | null {
    let k: RegKey | null = this.root();
    for (const part of path.split('\\')) {
      if (part === '') continue;
      k = k.subkey(part);
      if (!k) return null;
    }
    return k;
  }

  /** Data of the allocated cell at `rel`, bounds-checked. */
  cell(rel: number, what: string) {
    return this.cells.data(rel, what);
  }
}

export class RegKey {
  readonly hive: Hive;
  readonly offset: number;
  readonly nk: KeyNode;
  /** The key this one was reached from (undefined: not known, use the nk parent field). */
  private readonly parentKey: RegKey | null | undefined;

  constructor(hive: Hive, offset: number, nk: KeyNode, parent?: RegKey | null) {
    this.hive = hive;
    this.offset = offset;
    this.nk = nk;
    this.parentKey = parent;
  }

  get name(): string {
    return this.nk.name;
  }
  /** Last written time, FILETIME (100 ns since 1601-01-01 UTC). */
  get lastWritten(): bigint {
    return this.nk.lastWritten;
  }
  get subkeyCount(): number {
    return this.nk.subkeyCount;
  }
  get valueCount(): number {
    return this.nk.valueCount;
  }
  get isRoot(): boolean {
    return this.offset === this.hive.base.rootCellOffset;
  }

  private whatCache?: string;
  private what(): string {
    return (this.whatCache ??= `key node at ${hex(this.offset)} (${JSON.stringify(this.nk.name)})`);
  }

  /** Class name (UTF-16LE), or null when the key has none. */
  className(): string | null {
    const { classNameOffset, classNameLength } = this.nk;
    if (classNameOffset === NO_CELL || classNameLength === 0) return null;
    const c = this.hive.cells.data(classNameOffset, `${this.what()}: class name`);
    if (classNameLength > c.length) {
      throw new GuestkitError('CORRUPT', `${c.what}: class name length ${classNameLength} runs past the end of the cell (${c.length} bytes)`);
    }
    return decodeName(c.raw(0, classNameLength - (classNameLength % 2)), false, c.what);
  }

  /** Key security record, or null. */
  security(): KeySecurity | null {
    if (this.nk.securityOffset === NO_CELL) return null;
    return parseKeySecurity(this.hive.cells.data(this.nk.securityOffset, `${this.what()}: security`));
  }

  /** Offsets of the subkey nodes, in list order. The count must match the key node's. */
  subkeyOffsets(): number[] {
    const n = this.nk.subkeyCount;
    if (n === 0) return [];
    if (n > REGISTRY_LIMITS.maxSubkeys) {
      throw new GuestkitError('LIMIT', `${this.hive.name}: ${this.what()}: ${n} subkeys exceeds the limit of ${REGISTRY_LIMITS.maxSubkeys}`);
    }
    const { keys } = collectSubkeys(this.hive.cells, this.nk.subkeysListOffset, this.what());
    if (keys.length !== n) {
      throw new GuestkitError('CORRUPT', `${this.hive.name}: ${this.what()}: subkey count is ${n} but its subkey lists hold ${keys.length}`);
    }
    return keys;
  }

  subkeys(): RegKey[] {
    return this.subkeyOffsets().map((o, i) => this.hive.keyAt(o, this, `${this.what()}: subkey ${i}`));
  }

  /** Subkey by name, compared case-insensitively as Windows does. */
  subkey(name: string): RegKey | null {
    const offs = this.subkeyOffsets();
    for (let i = 0; i < offs.length; i++) {
      const k = this.hive.keyAt(offs[i], this, `${this.what()}: subkey ${i}`);
      if (k.nk.name.length === name.length && compareNames(k.nk.name, name) === 0) return k;
    }
    return null;
  }

  /** Offsets of the value records, in list order. */
  valueOffsets(): number[] {
    const n = this.nk.valueCount;
    if (n === 0) return [];
    if (n > REGISTRY_LIMITS.maxValues) {
      throw new GuestkitError('LIMIT', `${this.hive.name}: ${this.what()}: ${n} values exceeds the limit of ${REGISTRY_LIMITS.maxValues}`);
    }
    const list = this.hive.cells.data(this.nk.valuesListOffset, `${this.what()}: value list`);
    if (n * 4 > list.length) {
      throw new GuestkitError('CORRUPT', `${list.what}: ${n} values run past the end of the cell (${list.length} bytes)`);
    }
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = list.u32le(i * 4);
    return out;
  }

  values(): RegValue[] {
    return this.valueOffsets().map((o, i) => this.valueAt(o, i));
  }

  private valueAt(o: number, i: number): RegValue {
    return new RegValue(this, o, parseKeyValue(this.hive.cells.data(o, `${this.what()}: value ${i}`)));
  }

  /** Value by name ("" for the default value), compared case-insensitively. */
  value(name: string): RegValue | null {
    const offs = this.valueOffsets();
    for (let i = 0; i < offs.length; i++) {
      const v = this.valueAt(offs[i], i);
      if (v.vk.name.length === name.length && compareNames(v.vk.name, name) === 0) return v;
    }
    return null;
  }

  /** Parent key, or null for the root. */
  parent(): RegKey | null {
    if (this.parentKey !== undefined) return this.parentKey;
    if (this.isRoot) return null;
    return this.hive.keyAt(this.nk.parent, undefined, `${this.what()}: parent`);
  }

  /** Path from the root: "\\" for the root, "\\A\\B" below it. */
  path(): string {
    const parts: string[] = [];
    let k: RegKey | null = this;
    for (let depth = 0; k && !k.isRoot; depth++) {
      if (depth > REGISTRY_LIMITS.maxKeyDepth) {
        throw new GuestkitError('LOOP', `${this.hive.name}: ${this.what()}: parent chain longer than ${REGISTRY_LIMITS.maxKeyDepth} keys`);
      }
      parts.push(k.name);
      k = k.parent();
    }
    return '\\' + parts.reverse().join('\\');
  }
}

export class RegValue {
  readonly key: RegKey;
  readonly offset: number;
  readonly vk: KeyValue;

  constructor(key: RegKey, offset: number, vk: KeyValue) {
    this.key = key;
    this.offset = offset;
    this.vk = vk;
  }

  /** "" for the default value. */
  get name(): string {
    return this.vk.name;
  }
  get type(): number {
    return this.vk.dataType;
  }
  get typeName(): string {
    return typeName(this.vk.dataType);
  }
  get size(): number {
    return this.vk.dataSize;
  }

  private what(): string {
    return `value ${JSON.stringify(this.vk.name)} of key ${JSON.stringify(this.key.name)} (vk at ${hex(this.offset)})`;
  }
  private static readonly DATA = 'value data';

  /** The value's data. May be a view into the hive: copy it before changing it. */
  data(): Uint8Array {
    const { vk } = this;
    const hive = this.key.hive;
    if (vk.inline) {
      if (vk.dataSize > 4) {
        throw new GuestkitError('CORRUPT', `${hive.name}: ${this.what()}: inline data of ${vk.dataSize} bytes (at most 4 fit)`);
      }
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, vk.dataOffset, true);
      return b.subarray(0, vk.dataSize);
    }
    if (vk.dataSize === 0) return new Uint8Array(0);
    if (vk.dataSize > REGISTRY_LIMITS.maxValueBytes) {
      throw new GuestkitError('LIMIT', `${hive.name}: ${this.what()}: data of ${vk.dataSize} bytes exceeds the ${REGISTRY_LIMITS.maxValueBytes}-byte limit`);
    }
    if (!hive.cells.isAllocated(vk.dataOffset)) hive.cells.data(vk.dataOffset, `${this.what()}: data`); // throws, naming it
    const cell = hive.cells.raw(vk.dataOffset, RegValue.DATA);
    if (vk.dataSize <= cell.length) return cell.subarray(0, vk.dataSize);
    if (hive.base.minorVersion >= 4 && cell.length >= 2 && cell[0] === 0x64 && cell[1] === 0x62) {
      return readBigData(hive.cells, vk.dataOffset, vk.dataSize, this.what());
    }
    throw new GuestkitError('CORRUPT', `${hive.name}: ${this.what()}: data size ${vk.dataSize} exceeds its cell (${cell.length} bytes)`);
  }
}

/** Transaction logs beside a hive file: NAME.LOG1, NAME.LOG2 and NAME.LOG, matched case-insensitively. */
export function findLogsBeside(path: string): string[] {
  const dir = dirname(path);
  const base = basename(path).toLowerCase();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const suffix of ['.log1', '.log2', '.log']) {
    const n = names.find((x) => x.toLowerCase() === base + suffix);
    if (n) out.push(join(dir, n));
  }
  return out;
}

/** Read a whole file with the hive size limit (never opened for writing). */
export function readHiveFile(path: string): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new GuestkitError('IS_DIR', `${path}: Is a directory`);
    size = st.size;
  } catch (e) {
    throw fromSystemError(e, path);
  }
  if (size > REGISTRY_LIMITS.maxHiveBytes) {
    throw new GuestkitError('LIMIT', `${path}: ${size} bytes exceeds the ${REGISTRY_LIMITS.maxHiveBytes}-byte hive size limit`);
  }
  try {
    return readFileSync(path);
  } catch (e) {
    throw fromSystemError(e, path);
  }
}

/** Open a hive file; when it is dirty, the transaction logs beside it are replayed (unless replay is false). */
export function openHiveFile(path: string, opts: Omit<HiveOptions, 'logs' | 'name'> & { name?: string } = {}): Hive {
  const bytes = readHiveFile(path);
  const name = opts.name ?? path;
  let logs: LogFile[] | undefined;
  if (opts.replay !== false && bytes.length >= 512) {
    // Only read logs when they may be needed.
    let dirty = true;
    try {
      const bb = parseBaseBlock(bytes, name);
      dirty = bb.sequenceMismatch || !bb.checksumValid;
    } catch {
      dirty = false;
    }
    if (dirty) logs = findLogsBeside(path).map((p) => ({ name: p, bytes: readHiveFile(p) }));
  }
  return Hive.open(bytes, { ...opts, name, logs });
}

export { BASE_BLOCK_SIZE };

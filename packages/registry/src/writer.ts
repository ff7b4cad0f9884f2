// The hive writer: adds, replaces and deletes keys and values in a copy of a hive and returns a
// new, consistent hive (the input is never touched). New records go into free cells (split
// when larger) or into new hive bins appended at the end; freed cells are marked unallocated.
// At commit every changed key gets a fresh subkey list (a hash leaf, or fast leaf before regf
// 1.5; an index root over leaves of REGISTRY_LIMITS.maxLeafEntries when larger) sorted by
// upcased name, a fresh value list, recomputed counts and "largest" fields, and the base block
// gets new sequence numbers, the hive bins data size and its checksum.
// Spec: msuhanov "Format of primary files" (all records), "Hash leaf" (sorting, hash), "Big
// data" (16344-byte segments); hivex lib/write.c for what hivex itself writes.

import { renameSync, writeFileSync, unlinkSync, statSync, fchmodSync, openSync, fsyncSync, closeSync, constants } from 'node:fs';
import { Bytes, GuestkitError, fromSystemError, removeStaleTemps, tempPathFor } from '@guestkit/core';
import { BASE_BLOCK_SIZE, filetimeFromMs, writeChecksum } from './base-block.js';
import { NO_CELL, type CellSource } from './cell.js';
import { HBIN_ALIGN, HBIN_HEADER_SIZE, writeHiveBinHeader } from './hbin.js';
import type { Hive } from './hive.js';
import { REGISTRY_LIMITS } from './limits.js';
import { compareNames, encodeName, nameHash } from './names.js';
import { KEY_COMP_NAME, NK, NK_HEADER_SIZE, keyNodeName, parseKeyNode } from './nk.js';
import { SK, parseKeySecurity } from './sk.js';
import { collectSubkeys, nameHint } from './subkey-lists.js';
import { VALUE_COMP_NAME, VK, VK_DATA_INLINE, VK_HEADER_SIZE, parseKeyValue } from './vk.js';
import { nameIn, type RegImportOp } from './reg-text.js';

export interface WriterOptions {
  /** Timestamp (FILETIME) written as the last-written time of changed keys and of the hive. */
  now?: bigint;
}

export interface WriteSummary {
  keysAdded: number;
  keysDeleted: number;
  valuesSet: number;
  valuesDeleted: number;
}

interface NameRef {
  name: string;
  off: number;
}

interface KeyState {
  off: number;
  children: NameRef[] | null;
  /** Subkey list cells of the key as loaded (freed at commit when the children change). */
  oldLists: number[];
  values: NameRef[] | null;
  childrenDirty: boolean;
  valuesDirty: boolean;
  touched: boolean;
  deleted: boolean;
}

const hex = (n: number) => `0x${n.toString(16)}`;
const round8 = (n: number) => (n + 7) & ~7;

export class HiveWriter implements CellSource {
  readonly what: string;
  private buf: Uint8Array;
  private dv: DataView;
  /** File offset where the hive bins data ends. */
  private binsEnd: number;
  private readonly hive: Hive;
  private readonly minor: number;
  private readonly rootOff: number;
  private readonly now: bigint;
  /** Cells allocated by this writer (relative offsets). */
  private readonly mine = new Set<number>();
  /** Free cells by size; sizes with entries kept sorted. */
  private readonly free = new Map<number, number[]>();
  private freeSizes: number[] = [];
  private readonly states = new Map<number, KeyState>();
  /** The last path looked up and the key node of each of its components found (see lookup). */
  private lastParts: string[] = [];
  private lastOffs: number[] = [];
  readonly summary: WriteSummary = { keysAdded: 0, keysDeleted: 0, valuesSet: 0, valuesDeleted: 0 };

  constructor(hive: Hive, opts: WriterOptions = {}) {
    if (hive.cells.damaged) {
      throw new GuestkitError('REFUSED', `${hive.name}: the hive is damaged (see the warnings above); refusing to write to it`);
    }
    this.hive = hive;
    this.what = hive.name;
    this.binsEnd = BASE_BLOCK_SIZE + hive.base.hiveBinsDataSize;
    this.buf = new Uint8Array(Math.max(this.binsEnd, 0x2000));
    this.buf.set(hive.bytes.subarray(0, Math.min(hive.bytes.length, this.binsEnd)));
    this.dv = new DataView(this.buf.buffer);
    this.minor = hive.base.minorVersion;
    this.rootOff = hive.base.rootCellOffset;
    this.now = opts.now ?? filetimeFromMs(Date.now());
    this.scanFree();
  }

  // ---- cells -------------------------------------------------------------------------------

  private scanFree(): void {
    for (const bin of this.hive.cells.bins) {
      const end = bin.fileOffset + bin.size;
      for (let p = bin.fileOffset + HBIN_HEADER_SIZE; p < end; ) {
        const raw = this.dv.getInt32(p, true);
        const size = Math.abs(raw);
        if (size < 8 || p + size > end) break;
        if (raw > 0 && size % 8 === 0 && p % 8 === 0) this.addFree(p - BASE_BLOCK_SIZE, size);
        p += size;
      }
    }
  }

  private addFree(rel: number, size: number): void {
    let l = this.free.get(size);
    if (!l) {
      l = [];
      this.free.set(size, l);
      const i = lowerBound(this.freeSizes, size);
      this.freeSizes.splice(i, 0, size);
    }
    l.push(rel);
  }

  private takeFree(size: number): number | null {
    // An exact fit, else the smallest cell that leaves a remainder of at least 8 bytes.
    let i = lowerBound(this.freeSizes, size);
    if (this.freeSizes[i] !== size) i = lowerBound(this.freeSizes, size + 8);
    if (i >= this.freeSizes.length) return null;
    const have = this.freeSizes[i];
    const l = this.free.get(have)!;
    const rel = l.pop()!;
    if (l.length === 0) {
      this.free.delete(have);
      this.freeSizes.splice(i, 1);
    }
    if (have > size) {
      const rest = rel + size;
      this.dv.setInt32(BASE_BLOCK_SIZE + rest, have - size, true);
      this.addFree(rest, have - size);
    }
    return rel;
  }

  private ensure(n: number): void {
    if (n <= this.buf.length) return;
    if (n > REGISTRY_LIMITS.maxHiveBytes) {
      throw new GuestkitError('LIMIT', `${this.what}: the hive would grow past the ${REGISTRY_LIMITS.maxHiveBytes}-byte limit`);
    }
    const nb = new Uint8Array(Math.max(n, this.buf.length * 2));
    nb.set(this.buf.subarray(0, this.binsEnd));
    this.buf = nb;
    this.dv = new DataView(nb.buffer);
  }

  /** Append a hive bin holding cells of the given total size; returns the first cell's offset. */
  private appendBin(size: number): number {
    const binSize = Math.ceil((HBIN_HEADER_SIZE + size) / HBIN_ALIGN) * HBIN_ALIGN;
    const at = this.binsEnd;
    this.ensure(at + binSize);
    this.buf.fill(0, at, at + binSize);
    writeHiveBinHeader(this.buf, at, binSize);
    this.binsEnd += binSize;
    const rel = at + HBIN_HEADER_SIZE - BASE_BLOCK_SIZE;
    const rest = binSize - HBIN_HEADER_SIZE - size;
    if (rest > 0) {
      this.dv.setInt32(BASE_BLOCK_SIZE + rel + size, rest, true);
      this.addFree(rel + size, rest);
    }
    return rel;
  }

  private claim(rel: number, size: number): number {
    const f = BASE_BLOCK_SIZE + rel;
    this.buf.fill(0, f + 4, f + size);
    this.dv.setInt32(f, -size, true);
    this.mine.add(rel);
    return rel;
  }

  /** Allocate a cell with `dataLen` bytes of data; returns its relative offset (data zeroed). */
  private alloc(dataLen: number): number {
    const size = round8(4 + dataLen);
    const rel = this.takeFree(size) ?? this.appendBin(size);
    return this.claim(rel, size);
  }

  /**
   * Allocate consecutive cells in a new hive bin, at increasing offsets. Big data segments go
   * there: Windows writes them that way and reglookup reads segments in file order.
   */
  private allocRun(dataLens: number[]): number[] {
    const sizes = dataLens.map((n) => round8(4 + n));
    let rel = this.appendBin(sizes.reduce((a, b) => a + b, 0));
    return sizes.map((size) => {
      const c = this.claim(rel, size);
      rel += size;
      return c;
    });
  }

  private freeCell(rel: number): void {
    if (rel === NO_CELL || !this.isLive(rel)) return;
    const f = BASE_BLOCK_SIZE + rel;
    const size = -this.dv.getInt32(f, true);
    this.dv.setInt32(f, size, true);
    this.mine.delete(rel);
    if (size % 8 === 0 && rel % 8 === 0) this.addFree(rel, size);
  }

  private isLive(rel: number): boolean {
    if (this.mine.has(rel)) return true;
    if (!this.hive.cells.isAllocated(rel)) return false;
    return this.dv.getInt32(BASE_BLOCK_SIZE + rel, true) < 0;
  }

  /** Checked access to an allocated cell of the hive being written (CellSource). */
  data(rel: number, what: string): Bytes {
    if (!this.isLive(rel)) throw new GuestkitError('CORRUPT', `${this.what}: ${what} (${hex(rel)}) is not an allocated cell`);
    const f = BASE_BLOCK_SIZE + rel;
    const size = -this.dv.getInt32(f, true);
    return new Bytes(this.buf.subarray(f + 4, f + size), `${this.what}: ${what} at ${hex(rel)}`);
  }

  private w32(rel: number, field: number, v: number): void {
    this.dv.setUint32(BASE_BLOCK_SIZE + rel + 4 + field, v >>> 0, true);
  }
  private w16(rel: number, field: number, v: number): void {
    this.dv.setUint16(BASE_BLOCK_SIZE + rel + 4 + field, v, true);
  }
  private r32(rel: number, field: number): number {
    return this.dv.getUint32(BASE_BLOCK_SIZE + rel + 4 + field, true);
  }
  private wbytes(rel: number, field: number, b: Uint8Array): void {
    this.buf.set(b, BASE_BLOCK_SIZE + rel + 4 + field);
  }

  // ---- key state ---------------------------------------------------------------------------

  private state(off: number): KeyState {
    let s = this.states.get(off);
    if (!s) {
      s = { off, children: null, oldLists: [], values: null, childrenDirty: false, valuesDirty: false, touched: false, deleted: false };
      this.states.set(off, s);
    }
    return s;
  }

  private nk(off: number) {
    return parseKeyNode(this.data(off, 'key node'));
  }

  private children(s: KeyState): NameRef[] {
    if (s.children) return s.children;
    const nk = this.nk(s.off);
    let list: NameRef[] = [];
    if (nk.subkeyCount > 0) {
      const c = collectSubkeys(this, nk.subkeysListOffset, `key node at ${hex(s.off)}`);
      if (c.keys.length !== nk.subkeyCount) {
        throw new GuestkitError('CORRUPT', `${this.what}: key node at ${hex(s.off)}: subkey count is ${nk.subkeyCount} but its lists hold ${c.keys.length}`);
      }
      s.oldLists = c.lists;
      list = c.keys.map((o) => ({ name: keyNodeName(this.data(o, 'subkey')), off: o }));
      let sorted = true;
      for (let i = 1; i < list.length && sorted; i++) if (compareNames(list[i - 1].name, list[i].name) > 0) sorted = false;
      if (!sorted) list.sort((a, b) => compareNames(a.name, b.name));
    }
    s.children = list;
    return list;
  }

  private values(s: KeyState): NameRef[] {
    if (s.values) return s.values;
    const nk = this.nk(s.off);
    const out: NameRef[] = [];
    if (nk.valueCount > 0) {
      const l = this.data(nk.valuesListOffset, `key node at ${hex(s.off)}: value list`);
      if (nk.valueCount * 4 > l.length) throw new GuestkitError('CORRUPT', `${l.what}: ${nk.valueCount} values run past the end of the cell`);
      for (let i = 0; i < nk.valueCount; i++) {
        const o = l.u32le(i * 4);
        out.push({ name: parseKeyValue(this.data(o, `value ${i}`)).name, off: o });
      }
    }
    s.values = out;
    return out;
  }

  /** Binary search of a sorted child list: index of `name`, or -(insertion point) - 1. */
  private findChild(list: NameRef[], name: string): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareNames(list[mid].name, name);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return -lo - 1;
  }

  // ---- public API --------------------------------------------------------------------------

  get root(): number {
    return this.rootOff;
  }

  /**
   * The key node at the end of `parts` (names, case-insensitive), or null. A .reg file names
   * each key by its full path and lists keys below one another, so the key nodes of the last
   * path looked up are remembered (`lastParts`, `lastOffs`: the node of each of its first
   * components) and a lookup starts below the components it shares with it (compared exactly),
   * instead of searching each level again: merging n keys at depth d costs O(n*d) string
   * comparisons, not O(n*d) subkey-list searches. Deleting a key forgets them.
   */
  lookup(parts: string[]): number | null {
    const lastParts = this.lastParts;
    const lastOffs = this.lastOffs;
    let k = 0;
    const shared = Math.min(parts.length, lastOffs.length);
    while (k < shared && parts[k] === lastParts[k]) k++;
    let off = k > 0 ? lastOffs[k - 1] : this.rootOff;
    const offs = lastOffs.slice(0, k);
    let found = true;
    for (let j = k; j < parts.length; j++) {
      const list = this.children(this.state(off));
      const i = this.findChild(list, parts[j]);
      if (i < 0) {
        found = false;
        break;
      }
      off = list[i].off;
      offs.push(off);
    }
    this.lastParts = parts;
    this.lastOffs = offs;
    return found ? off : null;
  }

  /** Look up a key by path, skipping empty components ("\\A\\B", "A\\B"). */
  lookupPath(path: string): number | null {
    return this.lookup(path.split('\\').filter((p) => p !== ''));
  }

  /** Create subkey `name` of `parent` (or return the existing one). */
  createKey(parent: number, name: string): number {
    if (name === '' || name.includes('\\')) {
      throw new GuestkitError('REFUSED', `${this.what}: invalid key name ${JSON.stringify(name)}`);
    }
    if (name.length > REGISTRY_LIMITS.maxKeyNameChars) {
      throw new GuestkitError('LIMIT', `${this.what}: key name of ${name.length} characters is longer than ${REGISTRY_LIMITS.maxKeyNameChars}`);
    }
    const ps = this.state(parent);
    const list = this.children(ps);
    const i = this.findChild(list, name);
    if (i >= 0) return list[i].off;
    const { bytes, compressed } = encodeName(name);
    const off = this.alloc(NK_HEADER_SIZE + bytes.length);
    this.wbytes(off, 0, Buffer.from('nk', 'latin1'));
    this.w16(off, NK.flags, compressed ? KEY_COMP_NAME : 0);
    this.dv.setBigUint64(BASE_BLOCK_SIZE + off + 4 + NK.lastWritten, this.now, true);
    this.w32(off, NK.parent, parent);
    for (const f of [NK.subkeysListOffset, NK.volatileSubkeysListOffset, NK.valuesListOffset, NK.classNameOffset, NK.securityOffset]) {
      this.w32(off, f, NO_CELL);
    }
    this.w16(off, NK.nameLength, bytes.length);
    this.wbytes(off, NK.name, bytes);
    // Inherit the parent's security descriptor, as Windows and hivex do.
    const sk = this.nk(parent).securityOffset;
    if (sk !== NO_CELL && this.isLive(sk)) {
      const rec = parseKeySecurity(this.data(sk, 'key security'));
      this.w32(sk, SK.referenceCount, rec.referenceCount + 1);
      this.w32(off, NK.securityOffset, sk);
    }
    list.splice(-i - 1, 0, { name, off });
    ps.childrenDirty = true;
    ps.touched = true;
    this.states.set(off, { off, children: [], oldLists: [], values: [], childrenDirty: false, valuesDirty: false, touched: false, deleted: false });
    this.summary.keysAdded++;
    return off;
  }

  /** Delete key `off` with everything below it. */
  deleteKey(off: number): void {
    if (off === this.rootOff) throw new GuestkitError('REFUSED', `${this.what}: the root key of a hive cannot be deleted`);
    const parent = this.nk(off).parent;
    const ps = this.state(parent);
    const list = this.children(ps);
    const idx = list.findIndex((c) => c.off === off);
    if (idx < 0) throw new GuestkitError('CORRUPT', `${this.what}: key node at ${hex(off)} is not in its parent's subkey list`);
    // Depth-first over the subtree; each key node is freed once (a loop would re-reach a freed cell and stop).
    this.lastParts = [];
    this.lastOffs = [];
    const todo = [off];
    let visited = 0;
    while (todo.length > 0) {
      const k = todo.pop()!;
      if (++visited > REGISTRY_LIMITS.maxSubkeys) throw new GuestkitError('LIMIT', `${this.what}: subtree to delete has more than ${REGISTRY_LIMITS.maxSubkeys} keys`);
      const s = this.state(k);
      for (const c of this.children(s)) todo.push(c.off);
      for (const v of this.values(s)) this.freeValue(v.off);
      const nk = this.nk(k);
      if (nk.valueCount > 0) this.freeCell(nk.valuesListOffset);
      for (const l of s.oldLists) this.freeCell(l);
      if (nk.classNameOffset !== NO_CELL) this.freeCell(nk.classNameOffset);
      if (nk.securityOffset !== NO_CELL) this.releaseSecurity(nk.securityOffset);
      this.freeCell(k);
      s.deleted = true;
      // The cell may be reused by a key created later: forget this one.
      this.states.delete(k);
      this.summary.keysDeleted++;
    }
    list.splice(idx, 1);
    ps.childrenDirty = true;
    ps.touched = true;
  }

  /** Drop one reference to a key security record; unlink and free it when none remain. */
  private releaseSecurity(sk: number): void {
    if (!this.isLive(sk)) return;
    const rec = parseKeySecurity(this.data(sk, 'key security'));
    if (rec.referenceCount > 1) {
      this.w32(sk, SK.referenceCount, rec.referenceCount - 1);
      return;
    }
    if (rec.flink !== sk && rec.blink !== sk && this.isLive(rec.flink) && this.isLive(rec.blink)) {
      this.w32(rec.blink, SK.flink, rec.flink);
      this.w32(rec.flink, SK.blink, rec.blink);
    }
    this.freeCell(sk);
  }

  private freeValue(vkOff: number): void {
    if (!this.isLive(vkOff)) return;
    const vk = parseKeyValue(this.data(vkOff, 'key value'));
    if (!vk.inline && vk.dataSize > 0 && vk.dataOffset !== NO_CELL && this.isLive(vk.dataOffset)) {
      const cell = this.data(vk.dataOffset, 'value data');
      if (this.minor >= 4 && vk.dataSize > cell.length && cell.length >= 8 && cell.u8(0) === 0x64 && cell.u8(1) === 0x62) {
        const count = cell.u16le(2);
        const listOff = cell.u32le(4);
        if (this.isLive(listOff)) {
          const l = this.data(listOff, 'big data segment list');
          for (let i = 0; i < count && i * 4 + 4 <= l.length; i++) this.freeCell(l.u32le(i * 4));
          this.freeCell(listOff);
        }
      }
      this.freeCell(vk.dataOffset);
    }
    this.freeCell(vkOff);
  }

  /** Set (add or replace) value `name` ("" = default) of key `off`. */
  setValue(off: number, name: string, type: number, data: Uint8Array): void {
    if (name.length > REGISTRY_LIMITS.maxValueNameChars) {
      throw new GuestkitError('LIMIT', `${this.what}: value name of ${name.length} characters is longer than ${REGISTRY_LIMITS.maxValueNameChars}`);
    }
    if (data.length > REGISTRY_LIMITS.maxValueBytes) {
      throw new GuestkitError('LIMIT', `${this.what}: value data of ${data.length} bytes exceeds the ${REGISTRY_LIMITS.maxValueBytes}-byte limit`);
    }
    const s = this.state(off);
    const vals = this.values(s);
    const { bytes, compressed } = encodeName(name);
    const vk = this.alloc(VK_HEADER_SIZE + bytes.length);
    this.wbytes(vk, 0, Buffer.from('vk', 'latin1'));
    this.w16(vk, VK.nameLength, bytes.length);
    this.w32(vk, VK.dataType, type);
    this.w16(vk, VK.flags, compressed && bytes.length > 0 ? VALUE_COMP_NAME : 0);
    this.wbytes(vk, VK.name, bytes);
    if (data.length <= 4) {
      this.w32(vk, VK.dataSize, (data.length | VK_DATA_INLINE) >>> 0);
      const inl = new Uint8Array(4);
      inl.set(data);
      this.wbytes(vk, VK.dataOffset, inl);
    } else {
      this.w32(vk, VK.dataSize, data.length);
      this.w32(vk, VK.dataOffset, this.writeData(data));
    }
    const i = vals.findIndex((v) => v.name.length === name.length && compareNames(v.name, name) === 0);
    if (i >= 0) {
      this.freeValue(vals[i].off);
      vals[i] = { name, off: vk };
    } else vals.push({ name, off: vk });
    s.valuesDirty = true;
    s.touched = true;
    this.summary.valuesSet++;
  }

  /** Data cell(s) for `data` (over 4 bytes): one cell, or a big data chain in regf 1.4+. */
  private writeData(data: Uint8Array): number {
    const seg = REGISTRY_LIMITS.bigDataSegment;
    if (data.length <= seg || this.minor < 4) {
      const c = this.alloc(data.length);
      this.wbytes(c, 0, data);
      return c;
    }
    const n = Math.ceil(data.length / seg);
    // Room for 4 bytes beyond the data in each segment: hivex reads (cell size - 8) bytes from each.
    const segs = this.allocRun(Array.from({ length: n }, (_, i) => Math.min(seg, data.length - i * seg) + 4));
    segs.forEach((c, i) => this.wbytes(c, 0, data.subarray(i * seg, Math.min(data.length, (i + 1) * seg))));
    const list = this.alloc(n * 4);
    segs.forEach((c, i) => this.w32(list, i * 4, c));
    const db = this.alloc(12);
    this.wbytes(db, 0, Buffer.from('db', 'latin1'));
    this.w16(db, 2, n);
    this.w32(db, 4, list);
    return db;
  }

  /** Delete value `name` of key `off`; false when there is none. */
  deleteValue(off: number, name: string): boolean {
    const s = this.state(off);
    const vals = this.values(s);
    const i = vals.findIndex((v) => v.name.length === name.length && compareNames(v.name, name) === 0);
    if (i < 0) return false;
    this.freeValue(vals[i].off);
    vals.splice(i, 1);
    s.valuesDirty = true;
    s.touched = true;
    this.summary.valuesDeleted++;
    return true;
  }

  // ---- commit ------------------------------------------------------------------------------

  private writeLeaf(list: NameRef[]): number {
    const lh = this.minor >= 5;
    const c = this.alloc(4 + list.length * 8);
    this.wbytes(c, 0, Buffer.from(lh ? 'lh' : 'lf', 'latin1'));
    this.w16(c, 2, list.length);
    list.forEach((e, i) => {
      this.w32(c, 4 + i * 8, e.off);
      this.w32(c, 8 + i * 8, lh ? nameHash(e.name) : nameHint(e.name));
    });
    return c;
  }

  private writeSubkeyLists(list: NameRef[]): number {
    if (list.length === 0) return NO_CELL;
    const max = REGISTRY_LIMITS.maxLeafEntries;
    if (list.length <= max) return this.writeLeaf(list);
    const leaves: number[] = [];
    for (let i = 0; i < list.length; i += max) leaves.push(this.writeLeaf(list.slice(i, i + max)));
    const ri = this.alloc(4 + leaves.length * 4);
    this.wbytes(ri, 0, Buffer.from('ri', 'latin1'));
    this.w16(ri, 2, leaves.length);
    leaves.forEach((l, i) => this.w32(ri, 4 + i * 4, l));
    return ri;
  }

  /** Apply pending list changes and return the new hive. The writer can go on being used. */
  commit(): Uint8Array {
    for (const s of this.states.values()) {
      if (s.deleted) continue;
      if (s.childrenDirty && s.children) {
        for (const l of s.oldLists) this.freeCell(l);
        const listOff = this.writeSubkeyLists(s.children);
        s.oldLists = listOff === NO_CELL ? [] : collectSubkeys(this, listOff, 'new subkey list').lists;
        let maxName = 0;
        let maxClass = 0;
        for (const c of s.children) {
          maxName = Math.max(maxName, c.name.length * 2);
          maxClass = Math.max(maxClass, this.nk(c.off).classNameLength);
        }
        this.w32(s.off, NK.subkeyCount, s.children.length);
        this.w32(s.off, NK.subkeysListOffset, listOff);
        const lsn = this.r32(s.off, NK.largestSubkeyNameLength);
        this.w32(s.off, NK.largestSubkeyNameLength, ((lsn & 0xffff0000) | Math.min(maxName, 0xffff)) >>> 0);
        this.w32(s.off, NK.largestSubkeyClassNameLength, maxClass);
        s.childrenDirty = false;
      }
      if (s.valuesDirty && s.values) {
        const nk = this.nk(s.off);
        if (nk.valueCount > 0) this.freeCell(nk.valuesListOffset);
        let listOff = NO_CELL;
        let maxName = 0;
        let maxData = 0;
        if (s.values.length > 0) {
          listOff = this.alloc(s.values.length * 4);
          s.values.forEach((v, i) => {
            this.w32(listOff, i * 4, v.off);
            const vk = parseKeyValue(this.data(v.off, 'key value'));
            maxName = Math.max(maxName, v.name.length * 2);
            maxData = Math.max(maxData, vk.dataSize);
          });
        }
        this.w32(s.off, NK.valueCount, s.values.length);
        this.w32(s.off, NK.valuesListOffset, listOff);
        this.w32(s.off, NK.largestValueNameLength, maxName);
        this.w32(s.off, NK.largestValueDataSize, maxData);
        s.valuesDirty = false;
      }
      if (s.touched) {
        this.dv.setBigUint64(BASE_BLOCK_SIZE + s.off + 4 + NK.lastWritten, this.now, true);
        s.touched = false;
      }
    }
    const seq = (this.dv.getUint32(4, true) + 1) >>> 0;
    this.dv.setUint32(4, seq, true);
    this.dv.setUint32(8, seq, true);
    this.dv.setBigUint64(12, this.now, true);
    this.dv.setUint32(28, 0, true);
    this.dv.setUint32(40, this.binsEnd - BASE_BLOCK_SIZE, true);
    writeChecksum(this.buf);
    return this.buf.slice(0, this.binsEnd);
  }

  // ---- .reg import -------------------------------------------------------------------------

  /**
   * Apply parsed .reg operations as Regedit.pm's reg_import does: a key is created only when its
   * parent exists; deleting a missing key is not an error; in a key, the values named for
   * deletion or replacement go, then the new values are added.
   */
  applyRegOp(op: RegImportOp, path: string): void {
    const parts = regeditParts(path);
    if (op.op === 'deleteKey') {
      const off = parts === null ? null : this.lookup(parts);
      if (off === null) return;
      if (off === this.rootOff) throw new GuestkitError('REFUSED', `${op.path}: the root key of a hive cannot be deleted`);
      this.deleteKey(off);
      return;
    }
    let off = parts === null ? null : this.lookup(parts);
    if (off === null) {
      const m = /([^\\]+)$/.exec(path);
      const name = m ? m[1] : path;
      const parentPath = path.replace(/[^\\]+$/, '');
      const pparts = regeditParts(parentPath);
      const parent = pparts === null ? null : this.lookup(pparts);
      if (parent === null) {
        throw new GuestkitError('NOT_FOUND', `${op.path}: cannot create this key since its parent ${parentPath || '\\'} does not exist`);
      }
      off = this.createKey(parent, name);
    }
    const gone = [...op.del, ...op.set.map((v) => v.name)];
    const s = this.state(off);
    for (const v of [...this.values(s)]) if (nameIn(v.name, gone)) this.deleteValue(off, v.name);
    for (const v of op.set) this.setValue(off, v.name, v.type, v.data);
  }
}

/** Regedit.pm's _node_lookup path split: one leading empty component ignored, trailing ones dropped; null when a middle one is empty. */
function regeditParts(path: string): string[] | null {
  const parts = path.split('\\');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length > 0 && parts[0] === '') parts.shift();
  return parts.includes('') ? null : parts;
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (a[m] < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/**
 * Replace `path` with `bytes` safely: write a temporary file beside it, flush it, then rename it
 * over the original (keeping its mode). On failure the original is untouched.
 */
export function replaceFileAtomic(path: string, bytes: Uint8Array): void {
  // .FILE.guestkit-HOST-PID.tmp; temporary files of killed writers of FILE are removed first.
  removeStaleTemps(path);
  const tmp = tempPathFor(path);
  let mode: number | undefined;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch {
    mode = undefined;
  }
  // O_EXCL | O_NOFOLLOW: never write through something already at the temporary name.
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    throw fromSystemError(e, tmp);
  }
  try {
    writeFileSync(fd, bytes);
    fsyncSync(fd);
    if (mode !== undefined) fchmodSync(fd, mode);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw fromSystemError(e, path);
  }
}

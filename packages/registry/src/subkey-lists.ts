// Subkey lists: index leaf ("li": offsets), fast leaf ("lf": offsets + 4-character name hints),
// hash leaf ("lh": offsets + name hashes) and index root ("ri": offsets of leaves). Spec:
// msuhanov "Index leaf", "Fast leaf", "Hash leaf", "Index root"; libregf section 4.3.

import { Bytes, GuestkitError } from '@guestkit/core';
import type { CellSource } from './cell.js';
import { REGISTRY_LIMITS } from './limits.js';

export type SubkeyListKind = 'li' | 'lf' | 'lh' | 'ri';

export interface SubkeyList {
  kind: SubkeyListKind;
  /** Key node offsets (leaves) or leaf offsets (ri). */
  elements: number[];
  /** lf: name hint (first 4 bytes, little-endian u32); lh: name hash. */
  hashes?: number[];
}

export function parseSubkeyList(b: Bytes): SubkeyList {
  if (b.length < 4) throw new GuestkitError('CORRUPT', `${b.what}: too short for a subkey list (${b.length} bytes)`);
  const sig = String.fromCharCode(b.u8(0), b.u8(1));
  const count = b.u16le(2);
  if (sig === 'lf' || sig === 'lh') {
    if (4 + count * 8 > b.length) {
      throw new GuestkitError('CORRUPT', `${b.what}: ${sig} list of ${count} elements runs past the end of the cell (${b.length} bytes)`);
    }
    const elements = new Array<number>(count);
    const hashes = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      elements[i] = b.u32le(4 + i * 8);
      hashes[i] = b.u32le(8 + i * 8);
    }
    return { kind: sig, elements, hashes };
  }
  if (sig === 'li' || sig === 'ri') {
    if (4 + count * 4 > b.length) {
      throw new GuestkitError('CORRUPT', `${b.what}: ${sig} list of ${count} elements runs past the end of the cell (${b.length} bytes)`);
    }
    const elements = new Array<number>(count);
    for (let i = 0; i < count; i++) elements[i] = b.u32le(4 + i * 4);
    return { kind: sig, elements };
  }
  throw new GuestkitError('CORRUPT', `${b.what}: not a subkey list (signature ${JSON.stringify(sig)}, expected lf, lh, li or ri)`);
}

export interface CollectedSubkeys {
  /** Key node offsets, in list order (sorted by upcased name in a sound hive). */
  keys: number[];
  /** Every list cell visited (the ri and its leaves), for the writer to free. */
  lists: number[];
}

/**
 * All key node offsets reachable from the subkey list at `listOffset`. An index root may point to
 * leaves (and, tolerated as hivex does, to further index roots up to REGISTRY_LIMITS.maxIndexDepth);
 * a list cell reached twice is a loop.
 */
export function collectSubkeys(cells: CellSource, listOffset: number, owner: string): CollectedSubkeys {
  const out: CollectedSubkeys = { keys: [], lists: [] };
  const seen = new Set<number>();
  const walk = (off: number, depth: number, what: string): void => {
    if (depth > REGISTRY_LIMITS.maxIndexDepth) {
      throw new GuestkitError('LOOP', `${cells.what}: ${owner}: index roots nested deeper than ${REGISTRY_LIMITS.maxIndexDepth} levels`);
    }
    if (seen.has(off)) {
      throw new GuestkitError('LOOP', `${cells.what}: ${owner}: subkey list at 0x${off.toString(16)} is reached twice (the lists loop)`);
    }
    seen.add(off);
    out.lists.push(off);
    const list = parseSubkeyList(cells.data(off, what));
    if (list.kind === 'ri') {
      for (let i = 0; i < list.elements.length; i++) walk(list.elements[i], depth + 1, `${owner}: index root element ${i}`);
      return;
    }
    if (out.keys.length + list.elements.length > REGISTRY_LIMITS.maxSubkeys) {
      throw new GuestkitError('LIMIT', `${cells.what}: ${owner}: more than ${REGISTRY_LIMITS.maxSubkeys} subkeys`);
    }
    for (const e of list.elements) out.keys.push(e);
  };
  walk(listOffset, 0, `${owner}: subkey list`);
  return out;
}

/** lf name hint: the first 4 characters as Latin-1 bytes, zero-padded; 0 if one does not fit. */
export function nameHint(name: string): number {
  let v = 0;
  for (let i = 0; i < 4 && i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0xff) return 0;
    v |= c << (8 * i);
  }
  return v >>> 0;
}

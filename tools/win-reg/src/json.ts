// --json output of win-reg: keys (in the .reg export's order: code point order of names) with
// their values decoded by type, and the raw data in hex.
//   export: {"keys":[{"path","name","lastWritten","className","subkeys","values":[VALUE...]}...]}
//   value:  VALUE = {"name","type","typeName","size","data","hex"}; data is a string (REG_SZ,
//           EXPAND_SZ, LINK), an array of strings (MULTI_SZ), a number (DWORD, DWORD_BIG_ENDIAN, as
//           unsigned), a decimal string (QWORD, unsigned) or null (other types, or too short).
import {
  compareCodePoints,
  decodeMultiString,
  decodeString,
  filetimeToIso,
  REG_DWORD,
  REG_DWORD_BIG_ENDIAN,
  REG_EXPAND_SZ,
  REG_LINK,
  REG_MULTI_SZ,
  REG_QWORD,
  REG_SZ,
  REGISTRY_LIMITS,
  type RegKey,
  type RegValue,
} from '@guestkit/registry';
import { GuestkitError } from '@guestkit/core';

export function valueJson(v: RegValue): object {
  const d = v.data();
  const t = v.type >>> 0;
  let data: unknown = null;
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  if (t === REG_SZ || t === REG_EXPAND_SZ || t === REG_LINK) data = decodeString(d);
  else if (t === REG_MULTI_SZ) {
    const l = decodeMultiString(d);
    if (l.length > 0 && l[l.length - 1] === '') l.pop();
    data = l;
  } else if ((t === REG_DWORD || t === REG_DWORD_BIG_ENDIAN) && d.length >= 4) data = dv.getUint32(0, t === REG_DWORD);
  else if (t === REG_QWORD && d.length >= 8) data = dv.getBigUint64(0, true).toString();
  return { name: v.name, type: t, typeName: v.typeName, size: d.length, data, hex: Buffer.from(d).toString('hex') };
}

export function keyJson(k: RegKey, path: string): object {
  return {
    path,
    name: k.isRoot ? '' : k.name,
    lastWritten: filetimeToIso(k.lastWritten),
    className: k.className(),
    subkeys: k.subkeyCount,
    values: k
      .values()
      .sort((a, b) => compareCodePoints(a.name, b.name))
      .map(valueJson),
  };
}

/** Stream {"keys":[...]} for `key` and its subtree (depth-first, subkeys sorted). */
export async function exportJson(
  key: RegKey,
  path: string,
  write: (s: string) => Promise<void>,
  opts: { unsafe?: boolean; maxDepth?: number; warn: (m: string) => void },
): Promise<void> {
  await write('{"keys":[');
  const stack: { k: RegKey; path: string; depth: number; up: Set<number> }[] = [{ k: key, path, depth: 0, up: new Set() }];
  const max = opts.maxDepth !== undefined && opts.maxDepth >= 0 ? opts.maxDepth : Infinity;
  let first = true;
  let buf = '';
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (f.depth >= max) continue;
    let obj: object;
    let children: RegKey[] = [];
    try {
      obj = keyJson(f.k, f.path);
      children = f.k.subkeys();
    } catch (e) {
      if (!opts.unsafe || !(e instanceof GuestkitError)) throw e;
      opts.warn(`${f.path}: ${e.message}`);
      continue;
    }
    buf += (first ? '' : ',') + JSON.stringify(obj);
    first = false;
    if (buf.length > 1 << 20) {
      await write(buf);
      buf = '';
    }
    if (f.depth + 1 > REGISTRY_LIMITS.maxKeyDepth) throw new GuestkitError('LOOP', `${f.path}: keys nested deeper than ${REGISTRY_LIMITS.maxKeyDepth} levels`);
    const up = new Set(f.up).add(f.k.offset);
    children.sort((a, b) => compareCodePoints(a.name, b.name));
    for (let i = children.length - 1; i >= 0; i--) {
      const c = children[i];
      if (up.has(c.offset)) throw new GuestkitError('LOOP', `${f.path}: subkey ${JSON.stringify(c.name)} is one of its own ancestors (the key tree loops)`);
      stack.push({ k: c, path: f.path.endsWith("\\") ? f.path + c.name : `${f.path}\\${c.name}`, depth: f.depth + 1, up });
    }
  }
  await write(buf + ']}\n');
}

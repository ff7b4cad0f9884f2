// The regedit (.reg) text format as Win::Hivex::Regedit (hivex's Perl helper, used by
// hivexregedit and virt-win-reg) writes and reads it, byte for byte:
//  - export: "[PREFIX\PATH]" per key, values sorted by name, subkeys sorted by name (Perl `cmp`,
//    i.e. code point order), "dword:%08x" for 4-byte DWORDs, "hex(T):xx,xx" for everything else
//    (no line wrapping) unless unsafe printable strings asks for str(T):"..." on types 1 and 2,
//    and a blank line after each key. Text is printed as Perl prints a string to a handle with no
//    encoding layer: Latin-1 bytes when every character fits, UTF-8 otherwise.
//  - import: the reg_import state machine (continuation lines, [-KEY] deletes, "v"=- deletes,
//    dword:, hex:, hex(T):, str:, str(T):, plain strings), with one deliberate difference:
//    the file is decoded as UTF-8 (or UTF-16 with a BOM) before string data is encoded, where
//    Regedit.pm encodes the raw bytes as if they were Latin-1 (double-encoding UTF-8 text).
//  - a single value as hivexsh's `lsval KEY` prints it (what virt-win-reg runs for KEY VALUE).

import { GuestkitError } from '@guestkit/core';
import { compareCodePoints, compareNames } from './names.js';
import type { Hive, RegKey, RegValue } from './hive.js';
import { collectSubkeys } from './subkey-lists.js';
import { REGISTRY_LIMITS } from './limits.js';
import {
  REG_DWORD,
  REG_DWORD_BIG_ENDIAN,
  REG_EXPAND_SZ,
  REG_LINK,
  REG_MULTI_SZ,
  REG_QWORD,
  REG_SZ,
  decodeDword,
  decodeMultiString,
  decodeQword,
  decodeString,
} from './value-types.js';

// ---------------------------------------------------------------------------------------------
// Output buffer

const HEX3 = (() => {
  const t = new Uint8Array(256 * 3);
  const h = '0123456789abcdef';
  for (let i = 0; i < 256; i++) {
    t[i * 3] = h.charCodeAt(i >> 4);
    t[i * 3 + 1] = h.charCodeAt(i & 15);
    t[i * 3 + 2] = 0x2c; // ','
  }
  return t;
})();

export type Sink = (chunk: Uint8Array) => void | Promise<void>;

/** Accumulates output and hands it to a sink in chunks of about `chunk` bytes. */
export class OutBuf {
  private buf: Buffer;
  private pos = 0;
  private readonly sink: Sink;
  private readonly chunk: number;

  constructor(sink: Sink, chunk = 1 << 20) {
    this.sink = sink;
    this.chunk = chunk;
    this.buf = Buffer.allocUnsafe(chunk * 2);
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const nb = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }
  /** Text of code points below 256 (ASCII in practice). */
  latin1(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /** A string printed as Perl prints it to a raw handle. */
  perl(s: string): void {
    if (fitsLatin1(s)) this.latin1(s);
    else {
      const n = Buffer.byteLength(s, 'utf8');
      this.ensure(n);
      this.pos += this.buf.write(s, this.pos, 'utf8');
    }
  }
  /** "xx,xx,...,xx" */
  hexList(d: Uint8Array): void {
    if (d.length === 0) return;
    this.ensure(d.length * 3);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < d.length; i++) {
      const t = d[i] * 3;
      b[p] = HEX3[t];
      b[p + 1] = HEX3[t + 1];
      b[p + 2] = 0x2c;
      p += 3;
    }
    this.pos = p - 1; // no comma after the last byte
  }
  get full(): boolean {
    return this.pos >= this.chunk;
  }
  async flush(): Promise<void> {
    if (this.pos === 0) return;
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    await this.sink(out);
  }
}

function fitsLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/** How Perl prints `s` on a handle without an encoding layer. */
export function perlBytes(s: string): Buffer {
  return Buffer.from(s, fitsLatin1(s) ? 'latin1' : 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Export

export const REGEDIT_HEADER = 'Windows Registry Editor Version 5.00\n\n';

export interface ExportOptions {
  /** Printed before each key's path (a trailing backslash is dropped), as --prefix. */
  prefix?: string;
  /** Print types 1 and 2 as str(T):"..." (guessing UTF-16LE), as --unsafe-printable-strings. */
  unsafePrintableStrings?: boolean;
  /** Skip unreadable keys and values with a warning instead of failing, as --unsafe. */
  unsafe?: boolean;
  /** Depth limit, as --max-depth (0 prints nothing, 1 the key alone). */
  maxDepth?: number;
  /** Path printed for the exported key (default: its path in the hive); subkeys follow it. */
  path?: string;
  warn?: (message: string) => void;
}

/**
 * Find the key to export as Regedit.pm's _node_lookup does: split on "\", ignore one leading
 * empty component (and trailing ones), every other component must name a subkey.
 */
export function lookupForExport(hive: Hive, path: string): RegKey | null {
  const parts = path.split('\\');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length > 0 && parts[0] === '') parts.shift();
  let k: RegKey | null = hive.root();
  for (const p of parts) {
    k = k.subkey(p);
    if (!k) return null;
  }
  return k;
}

interface Frame {
  key: RegKey;
  path: string;
  depth: number;
  up: Frame | null;
}

/** Export `key` and everything below it. */
export async function exportReg(key: RegKey, sink: Sink, opts: ExportOptions = {}): Promise<void> {
  const out = new OutBuf(sink);
  let prefix = opts.prefix;
  if (prefix !== undefined && prefix.endsWith('\\')) prefix = prefix.slice(0, -1);
  const prefixBytes = prefix === undefined ? null : Buffer.from(prefix, 'utf8');
  const warn = opts.warn ?? (() => {});
  const maxDepth = opts.maxDepth !== undefined && opts.maxDepth >= 0 ? opts.maxDepth : Infinity;
  const stack: Frame[] = [{ key, path: opts.path ?? (key.isRoot ? '\\' : key.path()), depth: 0, up: null }];
  // Every frame is a distinct key node on the current path (loops are refused): bounded.
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (f.depth >= maxDepth) continue;
    out.latin1('[');
    if (prefixBytes) out.bytes(prefixBytes);
    out.perl(f.path);
    out.latin1(']\n');
    writeValues(out, f, opts, warn);
    out.latin1('\n');
    if (out.full) await out.flush();
    const children = readChildren(f, opts, warn);
    for (let i = children.length - 1; i >= 0; i--) {
      const c = children[i];
      stack.push({ key: c, path: f.path === '\\' ? `\\${c.name}` : `${f.path}\\${c.name}`, depth: f.depth + 1, up: f });
    }
  }
  await out.flush();
}

function readChildren(f: Frame, opts: ExportOptions, warn: (m: string) => void): RegKey[] {
  const { key } = f;
  let children: RegKey[];
  if (!opts.unsafe) children = key.subkeys();
  else {
    let offs: number[];
    try {
      offs = key.subkeyOffsets();
    } catch (e) {
      warn(`${f.path}: ${message(e)}`);
      offs = [];
      if (key.nk.subkeyCount > 0) {
        try {
          offs = collectSubkeys(key.hive.cells, key.nk.subkeysListOffset, `key ${f.path}`).keys;
        } catch {
          warn(`could not get children of ${f.path}`);
        }
      }
    }
    children = [];
    for (const o of offs) {
      try {
        children.push(key.hive.keyAt(o, key, `subkey of ${f.path}`));
      } catch (e) {
        warn(`skipping a subkey of ${f.path}: ${message(e)}`);
      }
    }
  }
  if (children.length > 0) {
    if (f.depth + 1 > REGISTRY_LIMITS.maxKeyDepth) {
      throw new GuestkitError('LOOP', `${key.hive.name}: ${f.path}: keys nested deeper than ${REGISTRY_LIMITS.maxKeyDepth} levels`);
    }
    for (const c of children) {
      for (let a: Frame | null = f; a; a = a.up) {
        if (a.key.offset === c.offset) {
          throw new GuestkitError('LOOP', `${key.hive.name}: ${f.path}: subkey ${JSON.stringify(c.name)} is one of its own ancestors (the key tree loops)`);
        }
      }
    }
    children.sort((a, b) => compareCodePoints(a.name, b.name));
  }
  return children;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function writeValues(out: OutBuf, f: Frame, opts: ExportOptions, warn: (m: string) => void): void {
  const key = f.key;
  if (key.nk.valueCount === 0) return;
  let vals: { name: string; type: number; data: Uint8Array }[] = [];
  if (!opts.unsafe) {
    for (const v of key.values()) vals.push({ name: v.name, type: v.type, data: v.data() });
  } else {
    let list: RegValue[] = [];
    try {
      list = key.values();
    } catch (e) {
      warn(`failed to read node values at ${f.path}: ${message(e)}`);
    }
    for (const v of list) {
      try {
        vals.push({ name: v.name, type: v.type, data: v.data() });
      } catch (e) {
        warn(`skipping unreadable value of key: ${v.name} in ${f.path}: ${message(e)}`);
      }
    }
  }
  if (vals.length > 1) vals = vals.sort((a, b) => compareCodePoints(a.name, b.name));
  for (const v of vals) {
    if (v.name === '') out.latin1('@=');
    else {
      out.latin1('"');
      out.perl(v.name.replace(/\\/g, '\\\\').replace(/"/g, '\\"'));
      out.latin1('"=');
    }
    const t = v.type >>> 0;
    if (t === REG_DWORD && v.data.length === 4) {
      const n = new DataView(v.data.buffer, v.data.byteOffset, 4).getUint32(0, true);
      out.latin1(`dword:${n.toString(16).padStart(8, '0')}\n`);
    } else if (opts.unsafePrintableStrings && (t === REG_SZ || t === REG_EXPAND_SZ)) {
      let s = perlDecodeUtf16le(v.data);
      s = s.replace(/\0(\n?)$/, '$1');
      s = s.replace(/"/g, '\\"');
      out.perl(`str(${t.toString(16)}):"${s}"\n`);
    } else {
      out.latin1(`hex(${t.toString(16)}):`);
      out.hexList(v.data);
      out.latin1('\n');
    }
  }
}

/**
 * Perl's Encode::decode("utf16le", ...) with the default check: a trailing odd byte is dropped,
 * an unpaired surrogate becomes U+FFFD.
 */
export function perlDecodeUtf16le(d: Uint8Array): string {
  const n = d.length & ~1;
  let s = '';
  const parts: string[] = [];
  for (let i = 0; i < n; i += 2) {
    const c = d[i] | (d[i + 1] << 8);
    if (c >= 0xd800 && c <= 0xdbff) {
      const lo = i + 2 < n ? d[i + 2] | (d[i + 3] << 8) : -1;
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        s += String.fromCharCode(c, lo);
        i += 2;
      } else s += '\ufffd';
    } else if (c >= 0xdc00 && c <= 0xdfff) s += '\ufffd';
    else s += String.fromCharCode(c);
    if (s.length > 4096) {
      parts.push(s);
      s = '';
    }
  }
  parts.push(s);
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// A single value, as `hivexsh` prints it for `cd PATH` + `lsval NAME` (hivexget)

/**
 * Find a key as hivexsh's `cd` does: components separated by "\" (empty ones skipped), "." and
 * ".." understood; a path starting with "\\" is refused (a sign of double escaping).
 */
export function lookupForValue(hive: Hive, path: string): RegKey {
  if (path.startsWith('\\\\')) {
    throw new GuestkitError('USAGE', `${path}: \\ characters in path are doubled - are you escaping the path parameter correctly?`);
  }
  let k = hive.root();
  for (const p of path.split('\\')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      k = k.parent() ?? k;
      continue;
    }
    const c = k.subkey(p);
    if (!c) throw new GuestkitError('NOT_FOUND', `${path}: subkey '${p}' not found`);
    k = c;
  }
  return k;
}

/** The value's data as hivexsh `lsval NAME` prints it. `@` names the default value. */
export function formatValueAlone(v: RegValue): Uint8Array {
  const data = v.data();
  const t = v.type >>> 0;
  switch (t) {
    case REG_SZ:
    case REG_EXPAND_SZ:
    case REG_LINK:
      return Buffer.from(decodeString(data) + '\n', 'utf8');
    case REG_DWORD:
    case REG_DWORD_BIG_ENDIAN:
      // hivex_value_dword returns -1 for short data, and hivexsh prints it.
      return Buffer.from(`${decodeDword(data, t) ?? -1}\n`, 'latin1');
    case REG_QWORD:
      return Buffer.from(`${decodeQword(data) ?? -1}\n`, 'latin1');
    case REG_MULTI_SZ:
      return Buffer.from(decodeMultiString(data).map((s) => s + '\n').join(''), 'utf8');
    default:
      return Buffer.from(data);
  }
}

/** The value named `name` ("@" or "" for the default value) as hivexsh looks it up. */
export function lookupValue(key: RegKey, name: string): RegValue | null {
  return key.value(name === '@' ? '' : name);
}

// ---------------------------------------------------------------------------------------------
// Import

export interface RegSetValue {
  name: string;
  type: number;
  data: Uint8Array;
}

export type RegImportOp =
  | { op: 'deleteKey'; path: string; line: number }
  | { op: 'mergeKey'; path: string; line: number; set: RegSetValue[]; del: string[] };

const ENCODINGS: Record<string, (s: string) => Uint8Array> = {
  'utf-16le': (s) => Buffer.from(s, 'utf16le'),
  'utf-16be': (s) => Buffer.from(s, 'utf16le').swap16(),
  'utf-8': (s) => Buffer.from(s, 'utf8'),
  'iso-8859-1': (s) => Buffer.from(s.replace(/[^\0-\xff]/gu, '?'), 'latin1'),
  ascii: (s) => Buffer.from(s.replace(/[^\0-\x7f]/gu, '?'), 'latin1'),
};
const ENCODING_ALIASES: Record<string, string> = {
  'utf-16le': 'utf-16le',
  utf16le: 'utf-16le',
  'ucs-2le': 'utf-16le',
  'utf-16be': 'utf-16be',
  utf16be: 'utf-16be',
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'iso-8859-1': 'iso-8859-1',
  'iso8859-1': 'iso-8859-1',
  latin1: 'iso-8859-1',
  'latin-1': 'iso-8859-1',
  ascii: 'ascii',
  'us-ascii': 'ascii',
};

/** The string encoder for an --encoding name (Perl Encode names, case-insensitive). */
export function stringEncoder(name = 'utf-16le'): (s: string) => Uint8Array {
  const canon = ENCODING_ALIASES[name.toLowerCase()];
  if (!canon) {
    throw new GuestkitError('USAGE', `unknown encoding '${name}' (use utf-16le, utf-16be, utf-8, latin1 or ascii)`);
  }
  return ENCODINGS[canon];
}

/** Decode a .reg file: UTF-16LE/BE with a BOM, else UTF-8 (a UTF-8 BOM is dropped). */
export function decodeRegFile(b: Uint8Array): string {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return Buffer.from(b.subarray(2)).toString('utf16le');
  // An odd trailing byte is dropped, as the UTF-16LE branch's toString does (swap16 would throw).
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return Buffer.from(b.subarray(2, b.length - (b.length % 2))).swap16().toString('utf16le');
  const s = Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8');
  return s.startsWith('\ufeff') ? s.slice(1) : s;
}

/** Regedit.pm's _parse_quoted_string: [string, rest] or null without a closing quote. */
function parseQuoted(s: string): [string, string] | null {
  if (s[0] !== '"') return null;
  let out = '';
  let i = 1;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '"') break;
    if (c === '\\') {
      i++;
      out += s[i] ?? '';
    } else out += c;
  }
  if (i >= s.length) return null;
  return [out, s.slice(i + 1)];
}

/** pack("H*", digits) after removing commas and white space, as Perl does it. */
function hexDigits(s: string): Uint8Array {
  const d = s.replace(/[,\s]/g, '');
  const out = new Uint8Array((d.length + 1) >> 1);
  for (let i = 0; i < d.length; i++) {
    const c = d.charCodeAt(i);
    const nib = /[A-Za-z]/.test(d[i]) ? (c + 9) & 0xf : c & 0xf;
    out[i >> 1] |= i % 2 === 0 ? nib << 4 : nib;
  }
  return out;
}

function parseValue(name: string, s: string, enc: (s: string) => Uint8Array): RegSetValue | null {
  let m: RegExpMatchArray | null;
  const typeOf = (h: string): number | null => {
    const t = parseInt(h, 16);
    return t > 0xffffffff ? null : t;
  };
  if ((m = /^dword:([0-9A-Fa-f]{8})$/.exec(s))) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, parseInt(m[1], 16), true);
    return { name, type: REG_DWORD, data: b };
  }
  if ((m = /^hex:(.*)$/s.exec(s))) return { name, type: 3, data: hexDigits(m[1]) };
  if ((m = /^hex\(([0-9A-Fa-f]+)\):(.*)$/s.exec(s))) {
    const t = typeOf(m[1]);
    return t === null ? null : { name, type: t, data: hexDigits(m[2]) };
  }
  let str: RegExpMatchArray | null = null;
  let type = REG_SZ;
  if ((m = /^str:(".*")$/s.exec(s))) str = m;
  else if ((m = /^str\(([0-9A-Fa-f]+)\):(".*")$/s.exec(s))) {
    const t = typeOf(m[1]);
    if (t === null) return null;
    type = t;
    str = [m[0], m[2]];
  } else if ((m = /^(".*")$/s.exec(s))) str = m;
  if (!str) return null;
  const q = parseQuoted(str[1]);
  if (!q) return null;
  return { name, type, data: enc(q[0] + '\0') };
}

/**
 * Parse .reg text into operations, as Regedit.pm's reg_import reads it. `file` names the input
 * in errors; `encoding` is the encoding of string values (default UTF-16LE).
 */
export function parseRegText(text: string, opts: { file?: string; encoding?: string } = {}): RegImportOp[] {
  const file = opts.file ?? '.reg input';
  const enc = stringEncoder(opts.encoding);
  const lines = text.split('\n');
  const ops: RegImportOp[] = [];
  let state: 'outer' | 'inner' = 'outer';
  let cur: Extract<RegImportOp, { op: 'mergeKey' }> | null = null;
  let lineno = 0;
  const err = (what: string, line: string) =>
    new GuestkitError('CORRUPT', `${file}: line ${lineno}: ${what} near ${JSON.stringify(line.length > 80 ? line.slice(0, 80) + '...' : line)}`);
  for (let i = 0; i < lines.length; i++) {
    if (i === lines.length - 1 && lines[i] === '') break;
    let line = lines[i];
    lineno++;
    line = line.replace(/\r$/, '');
    // Continuation lines: a trailing backslash (spaces allowed after it) joins the next line.
    while (/\\\s*$/.test(line)) {
      line = line.replace(/\\\s*$/, '');
      if (i + 1 >= lines.length || (i + 1 === lines.length - 1 && lines[i + 1] === '')) break;
      line += lines[++i].replace(/\r$/, '');
      lineno++;
    }
    if (state === 'outer') {
      if (/^\s*(;.*)?$/.test(line)) continue;
      if (/Windows Registry Editor Version/.test(line)) continue;
      if (/^REGEDIT/.test(line)) continue;
      let m: RegExpMatchArray | null;
      if ((m = /^\[-(.*)\]\s*$/.exec(line))) ops.push({ op: 'deleteKey', path: m[1], line: lineno });
      else if ((m = /^\[(.*)\]\s*$/.exec(line))) {
        cur = { op: 'mergeKey', path: m[1], line: lineno, set: [], del: [] };
        state = 'inner';
      } else throw err('unexpected text', line);
    } else {
      if (/^(".*)=-\s*$/.test(line)) {
        const q = parseQuoted(line);
        if (!q) throw err('parse error', line);
        cur!.del.push(q[0]);
      } else if (/^@=-\s*$/.test(line)) cur!.del.push('');
      else if (/^".*"=/.test(line)) {
        const q = parseQuoted(line);
        if (!q || q[1][0] !== '=') throw err('parse error', line);
        const v = parseValue(q[0], q[1].slice(1), enc);
        if (!v) throw err('parse error', line);
        cur!.set.push(v);
      } else if (line.startsWith('@=')) {
        const v = parseValue('', line.slice(2), enc);
        if (!v) throw err('parse error', line);
        cur!.set.push(v);
      } else if (/^\s*(;.*)?$/.test(line)) {
        ops.push(cur!);
        cur = null;
        state = 'outer';
      } else throw err('unexpected text', line);
    }
  }
  if (state === 'inner' && cur) ops.push(cur);
  return ops;
}

/** Case-insensitive membership, for the names a merge deletes. */
export function nameIn(name: string, list: string[]): boolean {
  return list.some((x) => x.length === name.length && compareNames(x, name) === 0);
}

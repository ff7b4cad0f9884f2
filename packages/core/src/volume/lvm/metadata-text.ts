// The LVM2 text metadata format (lvm2 libdm/libdm-config.c; lvm.conf(5) "SYNTAX"): nested
// `name { ... }` sections, `key = value` assignments whose values are strings ("..." with
// backslash escapes, or '...'), integers, floats, or [lists, of, values]; '#' comments.

import { GuestkitError } from '../../errors.js';
import { LIMITS } from '../../limits.js';

export type ConfigValue = string | number | ConfigValue[];

export class ConfigSection {
  /** Keys and subsections in file order. */
  readonly entries = new Map<string, ConfigValue | ConfigSection>();
  constructor(readonly name: string, readonly path: string) {}

  section(key: string): ConfigSection | undefined {
    const v = this.entries.get(key);
    return v instanceof ConfigSection ? v : undefined;
  }

  sections(): ConfigSection[] {
    return [...this.entries.values()].filter((v): v is ConfigSection => v instanceof ConfigSection);
  }

  value(key: string): ConfigValue | undefined {
    const v = this.entries.get(key);
    return v instanceof ConfigSection ? undefined : v;
  }
}

/** Parse metadata text. `what` names it in errors ("metadata on /dev/sda1"). */
export function parseConfig(text: string, what: string): ConfigSection {
  if (text.length > LIMITS.maxMetadata) {
    throw new GuestkitError('LIMIT', `${what}: ${text.length} bytes of metadata text exceed the limit of ${LIMITS.maxMetadata}`);
  }
  let i = 0;
  let line = 1;
  const fail = (d: string): never => {
    throw new GuestkitError('CORRUPT', `${what}: line ${line}: ${d}`);
  };

  const skip = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        line++;
        i++;
      } else if (c === 32 || c === 9 || c === 13) i++;
      else if (c === 35 /* # */) {
        while (i < text.length && text.charCodeAt(i) !== 10) i++;
      } else return;
    }
  };

  const identifier = (): string => {
    const m = /^[A-Za-z0-9_+.\-/]+/.exec(text.slice(i, i + 1024));
    if (!m) return fail(i >= text.length ? 'unexpected end of text' : `unexpected character ${JSON.stringify(text[i])}`);
    i += m[0].length;
    return m[0];
  };

  const string = (): string => {
    const q = text[i++];
    let out = '';
    for (;;) {
      if (i >= text.length) return fail('unterminated string (truncated?)');
      const c = text[i++];
      if (c === q) return out;
      if (c === '\n') line++;
      if (c === '\\' && q === '"') {
        if (i >= text.length) return fail('unterminated string');
        out += text[i++];
      } else out += c;
    }
  };

  const value = (depth: number): ConfigValue => {
    skip();
    const c = text[i];
    if (c === '"' || c === "'") return string();
    if (c === '[') {
      if (depth > 0) fail('nested lists');
      i++;
      const list: ConfigValue[] = [];
      for (;;) {
        skip();
        if (text[i] === ']') {
          i++;
          return list;
        }
        // Lists longer than LIMITS.lvmMaxListItems are refused (a VG's stripes/raids lists are small).
        if (list.length >= LIMITS.lvmMaxListItems) fail(`a list of more than ${LIMITS.lvmMaxListItems} items`);
        list.push(value(depth + 1));
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== ']') fail(`expected "," or "]" in a list, found ${i >= text.length ? 'the end' : JSON.stringify(text[i])}`);
      }
    }
    const m = /^[-+]?(?:0x[0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)/.exec(text.slice(i, i + 64));
    if (!m) return fail(i >= text.length ? 'the text ends where a value should be (truncated?)' : `unexpected character ${JSON.stringify(text[i])} in a value`);
    i += m[0].length;
    const n = Number(m[0]);
    if (!Number.isFinite(n)) fail(`bad number ${m[0]}`);
    if (Number.isInteger(n) && !Number.isSafeInteger(n)) fail(`number ${m[0]} is too large`);
    return n;
  };

  const body = (sec: ConfigSection, depth: number, top: boolean) => {
    if (depth > LIMITS.maxTreeDepth) fail(`sections nested deeper than ${LIMITS.maxTreeDepth}`);
    for (;;) {
      skip();
      if (i >= text.length) {
        if (!top) fail(`section "${sec.path}" is not closed (truncated?)`);
        return;
      }
      if (text[i] === '}') {
        if (top) fail('"}" without a section');
        i++;
        return;
      }
      const key = identifier();
      skip();
      if (i >= text.length) fail(`the text ends after "${key}"${top ? '' : ` in section "${sec.path}"`} (truncated?)`);
      if (text[i] === '{') {
        i++;
        const sub = new ConfigSection(key, sec.path ? `${sec.path}/${key}` : key);
        body(sub, depth + 1, false);
        sec.entries.set(key, sub);
      } else if (text[i] === '=') {
        i++;
        sec.entries.set(key, value(0));
      } else {
        fail(`expected "=" or "{" after "${key}", found ${i >= text.length ? 'the end' : JSON.stringify(text[i])}`);
      }
    }
  };

  const root = new ConfigSection('', '');
  body(root, 0, true);
  return root;
}

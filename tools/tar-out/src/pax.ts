// POSIX pax extended header records (IEEE Std 1003.1, pax "Extended Header" format):
// "LEN KEY=VALUE\n" where LEN counts the whole record in bytes, in decimal, itself included.
// Values are bytes: xattr values (SCHILY.xattr.NAME, as GNU tar and star write them) may
// be binary, which tar-stream's string-only pax encoder cannot carry.

export function paxRecord(key: string, value: Uint8Array | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), v, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

export function paxHeader(records: [string, Uint8Array | string][]): Buffer {
  return Buffer.concat(records.map(([k, v]) => paxRecord(k, v)));
}

/** True when a name fits a ustar header as is: ASCII, no NUL. (Length is checked by the caller.) */
export function isPlainAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x01-\x7f]*$/.test(s);
}

/** Octal field of `width` bytes: digits, then NUL (POSIX ustar). */
function octal(buf: Buffer, off: number, width: number, value: number): void {
  const s = value.toString(8).padStart(width - 1, '0');
  buf.write(s.slice(-(width - 1)), off, 'ascii');
  buf[off + width - 1] = 0;
}

/**
 * The three pieces of a pax extended header ('x') entry: its ustar header block, the records,
 * and the zero padding to a 512-byte boundary (POSIX pax "pax Header Block").
 */
export function paxEntryBlocks(records: Buffer, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  h.write('./PaxHeaders/entry', 0, 'ascii'); // name (ignored by readers)
  octal(h, 100, 8, 0o644); // mode
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, records.length); // size
  octal(h, 136, 12, Math.max(0, Math.min(mtime, 0o77777777777))); // mtime
  h.fill(0x20, 148, 156); // checksum, computed with spaces
  h[156] = 'x'.charCodeAt(0); // typeflag: pax extended header
  h.write('ustar\u000000', 257, 'latin1'); // magic "ustar\0", version "00"
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  const pad = (512 - (records.length % 512)) % 512;
  return Buffer.concat([h, records, Buffer.alloc(pad)]);
}

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

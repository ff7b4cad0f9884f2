// Guest inspection parsers: dpkg status, rpm header blobs, rpm Berkeley DB (hash) and ndb
// Packages databases, os-release and the other release files, fstab.

import { canonicalMountpoint, parseFstab, parseMountSpec } from '@guestkit/core';
import {
  applicationOfHeader,
  bdbHeaderBlobs,
  checkTests,
  ndbHeaderBlobs,
  parseDpkgStatus,
  parseRpmHeader,
  type TreeAccess,
} from '@guestkit/inspect';
import { guarded } from '../lib/walk.js';

const text = (d: Uint8Array) => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('utf8');

export function fuzzDpkg(data: Uint8Array): void {
  guarded(() => parseDpkgStatus(text(data), () => {}));
}

function header(blob: Uint8Array): void {
  const h = guarded(() => parseRpmHeader(blob, 'fuzz rpm header'));
  if (h) guarded(() => applicationOfHeader(h));
}

export function fuzzRpmHeader(data: Uint8Array): void {
  header(data);
}

/** At most this many header blobs of a database are parsed per input. */
const MAX_BLOBS = 64;

export function fuzzBdb(data: Uint8Array): void {
  for (const b of (guarded(() => bdbHeaderBlobs(data, 'fuzz Packages')) ?? []).slice(0, MAX_BLOBS)) header(b);
}

export function fuzzNdb(data: Uint8Array): void {
  // As the inspector reads it: a damaged blob leaves its package out (onBadBlob).
  for (const b of (guarded(() => ndbHeaderBlobs(data, 'fuzz Packages.db', () => {})) ?? []).slice(0, MAX_BLOBS)) header(b);
}

/**
 * os-release and every other release file inspection reads (lsb-release, redhat-release,
 * debian_version, ...): a tree in which every file has the input as its content.
 */
export function fuzzOsRelease(data: Uint8Array): void {
  const s = text(data);
  const lines = s.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const tree = {
    isFile: () => true,
    isDir: () => false,
    isSymlink: () => false,
    size: () => data.length,
    readFile: () => data,
    readHead: (_p: string, n: number) => data.subarray(0, n),
    readText: () => s,
    readLines: () => lines.slice(),
    readdir: () => [],
  } as unknown as TreeAccess;
  guarded(() => checkTests(tree, {}));
}

export function fuzzFstab(data: Uint8Array): void {
  const r = guarded(() => parseFstab(text(data)));
  for (const e of r?.entries.slice(0, 256) ?? []) {
    guarded(() => canonicalMountpoint(e.file));
    guarded(() => parseMountSpec(`${e.spec}:${e.file}:${e.options.join(',')}:${e.vfstype}`));
  }
}

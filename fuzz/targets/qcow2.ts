// qcow2: the input is a qcow2 file. It is written to a private folder in /dev/shm (the
// qcow2 reader opens host files by name), opened with its backing chain followed under the
// usual rules (the folder holds nothing else), then read as `guestkit cat`/`qemu-img convert`
// would: map() walks every L1 and L2 entry, reads go through data, zero and compressed
// clusters. Internal snapshots are listed and opened too.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { listSnapshots, openImage, type BlockDevice } from '@guestkit/core';
import { guarded } from '../lib/walk.js';

let dir: string | undefined;
function scratch(): string {
  if (!dir) {
    const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    dir = mkdtempSync(join(base, 'guestkit-fuzz-qcow2-'));
    const d = dir;
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  return join(dir, 'image.qcow2');
}

/** Bytes read from one device per input. */
const READ_BUDGET = 4 << 20;

function readDevice(dev: BlockDevice): void {
  const map = guarded(() => dev.map()) ?? [];
  const buf = new Uint8Array(64 << 10);
  let budget = READ_BUDGET;
  for (let pos = 0; pos < Math.min(dev.size, 1 << 20) && budget > 0; pos += buf.length) {
    if (guarded(() => dev.pread(buf, pos)) === undefined) break;
    budget -= buf.length;
  }
  for (const e of map.slice(0, 64)) {
    if (budget <= 0) break;
    if (guarded(() => dev.pread(buf, e.start)) === undefined) continue;
    budget -= buf.length;
  }
  // Unaligned reads across cluster boundaries.
  if (dev.size > 3) guarded(() => dev.pread(new Uint8Array(3 * 512 + 7), Math.floor(dev.size / 3)));
}

export function fuzzQcow2(data: Uint8Array): void {
  const path = scratch();
  writeFileSync(path, data);
  try {
    readImage(path);
  } finally {
    // libFuzzer ends the process with exit(), which skips the 'exit' handler: do not leave the
    // last input in /dev/shm.
    rmSync(path, { force: true });
  }
}

function readImage(path: string): void {
  const dev = guarded(() => openImage(path, { format: 'qcow2' }));
  if (dev) {
    try {
      readDevice(dev);
    } finally {
      dev.close();
    }
  }
  const snaps = guarded(() => listSnapshots(path, { format: 'qcow2' })) ?? [];
  for (const s of snaps.slice(0, 4)) {
    const sdev = guarded(() => openImage(path, { format: 'qcow2', snapshot: s.id }));
    if (!sdev) continue;
    try {
      readDevice(sdev);
    } finally {
      sdev.close();
    }
  }
}

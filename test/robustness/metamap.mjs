// Where the metadata of an image is: run the clean image through our own readers (walk.mjs)
// while every host read of the image file is traced (node:fs readSync, which RawFile and the
// qcow2 host file use). A sector read while no file content was being read is metadata; one
// read while file content was (extent leaves, resident/inline data, qcow2 L2 tables...) is
// metadata unless its bytes are file content. Flips aimed at these sectors hit superblocks,
// group descriptors, inode tables, directory blocks, MFT records, AG headers, btree nodes.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { runImage } from './walk.mjs';

const realOpen = fs.openSync;
const realRead = fs.readSync;
const realClose = fs.closeSync;
let active = null;

function install() {
  fs.openSync = function (path, ...rest) {
    const fd = realOpen.call(this, path, ...rest);
    if (active && String(path) === active.path) active.fds.add(fd);
    return fd;
  };
  fs.closeSync = function (fd) {
    if (active) active.fds.delete(fd);
    return realClose.call(this, fd);
  };
  fs.readSync = function (fd, buffer, offset, length, position) {
    const n = realRead.call(this, fd, buffer, offset, length, position);
    if (active && active.fds.has(fd) && typeof position === 'number') active.reads.push([position, n, active.phase]);
    return n;
  };
  syncBuiltinESMExports();
}

function uninstall() {
  fs.openSync = realOpen;
  fs.readSync = realRead;
  fs.closeSync = realClose;
  syncBuiltinESMExports();
}

const SECTOR = 512;
const hashOf = (b) => createHash('sha1').update(b).digest('base64');

/**
 * Metadata sectors of the clean image at `path`: { all, open } (sector numbers, sorted), plus
 * the clean run's summary. `open` are the sectors read before the first directory walk.
 */
export function metadataSectors(core, family, path) {
  const dataHashes = new Set();
  active = { path, fds: new Set(), reads: [], phase: 'open' };
  install();
  let summary;
  try {
    summary = runImage(core, family, path, {
      phase(p) {
        active.phase = p;
      },
      data(b) {
        for (let o = 0; o + SECTOR <= b.length; o += SECTOR) dataHashes.add(hashOf(b.subarray(o, o + SECTOR)));
      },
    });
  } finally {
    uninstall();
  }
  const { reads } = active;
  active = null;
  const fd = realOpen(path, 'r');
  const all = new Set();
  const open = new Set();
  const sec = Buffer.alloc(SECTOR);
  try {
    for (const [pos, len, phase] of reads) {
      for (let s = Math.floor(pos / SECTOR); s * SECTOR < pos + len; s++) {
        if (all.has(s)) continue;
        if (phase === 'data') {
          sec.fill(0);
          realRead(fd, sec, 0, SECTOR, s * SECTOR);
          if (dataHashes.has(hashOf(sec))) continue;
        }
        all.add(s);
        if (phase === 'open') open.add(s);
      }
    }
  } finally {
    realClose(fd);
  }
  const sort = (s) => [...s].sort((a, b) => a - b);
  return { all: sort(all), open: sort(open), summary };
}

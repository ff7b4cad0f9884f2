// Bad partition tables for the error paths: small disks partitioned by sfdisk, then damaged by
// patching bytes (the only hand-made bytes, as the brief allows for bad input):
//   gpt-bad-primary.raw  primary GPT header CRC broken: readable through the backup (warning)
//   gpt-bad-entries.raw  primary partition entry array CRC broken: readable through the backup
//   gpt-bad-both.raw     primary and backup headers broken: CORRUPT
//   gpt-past-end.raw     partition 2 ends past the disk, CRCs recomputed so the table is valid
//   mbr-past-end.raw     MBR partition 2 ends past the disk
//   mbr-ebr-loop.raw     the second EBR links back to the first: LOOP
//   mbr-logical-past-end.raw  logical partition 6 ends past the disk
//   pmbr-garbage.raw     protective MBR (0xEE) over pseudo-random bytes: no GPT header anywhere
//   garbage.raw          pseudo-random bytes (no partition table at all)
// ids.json gives the offsets that were patched.

import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openSync, readSync, writeSync, closeSync, writeFileSync, rmSync } from 'node:fs';
import { run } from '../lib.mjs';

const MiB = 1024 * 1024;

function sfdisk(path, sizeMiB, script) {
  rmSync(path, { force: true });
  run('truncate', ['-s', `${sizeMiB}M`, path]);
  run('sfdisk', ['--no-reread', '--no-tell-kernel', path], { input: script });
  return JSON.parse(run('sfdisk', ['--json', path])).partitiontable;
}

function patch(path, fn) {
  const fd = openSync(path, 'r+');
  const io = {
    read(pos, len) {
      const b = Buffer.alloc(len);
      readSync(fd, b, 0, len, pos);
      return b;
    },
    write(pos, b) {
      writeSync(fd, b, 0, b.length, pos);
    },
  };
  try {
    fn(io);
  } finally {
    closeSync(fd);
  }
}

let crcTable;
function crc32(buf) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const x of buf) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Deterministic pseudo-random bytes (SHA-256 in counter mode). */
function noise(len, seed) {
  const out = Buffer.alloc(len);
  for (let i = 0, n = 0; i < len; n++) {
    const h = createHash('sha256').update(`${seed}:${n}`).digest();
    h.copy(out, i);
    i += h.length;
  }
  return out;
}

/** Rewrite a GPT header's entry-array CRC and header CRC after its entries changed. */
function refreshGpt(io, headerLba) {
  const h = io.read(headerLba * 512, 512);
  const entLba = Number(h.readBigUInt64LE(72));
  const n = h.readUInt32LE(80);
  const es = h.readUInt32LE(84);
  const entries = io.read(entLba * 512, n * es);
  h.writeUInt32LE(crc32(entries), 88);
  const size = h.readUInt32LE(12);
  h.writeUInt32LE(0, 16);
  h.writeUInt32LE(crc32(h.subarray(0, size)), 16);
  io.write(headerLba * 512, h);
}

export default {
  name: 'part-bad',
  inputs: [],
  tools: ['sfdisk'],
  async build({ out }) {
    const t = (n) => join(out, n);
    const ids = {};
    const gptScript = 'label: gpt\nlabel-id: BADB0000-0000-4000-8000-000000000001\nsize=2MiB, type=linux, name="one"\nsize=2MiB, type=linux, name="two"\n';
    const gptSectors = 8 * MiB / 512;

    sfdisk(t('gpt-bad-primary.raw'), 8, gptScript);
    patch(t('gpt-bad-primary.raw'), (io) => io.write(512 + 56, Buffer.from([0xff]))); // DiskGUID byte: header CRC no longer matches

    sfdisk(t('gpt-bad-entries.raw'), 8, gptScript);
    patch(t('gpt-bad-entries.raw'), (io) => io.write(1024 + 56, Buffer.from('X', 'utf16le'))); // name of entry 1: array CRC no longer matches

    sfdisk(t('gpt-bad-both.raw'), 8, gptScript);
    patch(t('gpt-bad-both.raw'), (io) => {
      io.write(512 + 56, Buffer.from([0xff]));
      io.write((gptSectors - 1) * 512 + 56, Buffer.from([0xff]));
    });

    sfdisk(t('gpt-past-end.raw'), 8, gptScript);
    patch(t('gpt-past-end.raw'), (io) => {
      // Entry 2's EndingLBA far past the end, in both entry arrays, CRCs made valid again.
      for (const headerLba of [1, gptSectors - 1]) {
        const h = io.read(headerLba * 512, 512);
        const entLba = Number(h.readBigUInt64LE(72));
        const end = Buffer.alloc(8);
        end.writeBigUInt64LE(BigInt(gptSectors + 1000));
        io.write(entLba * 512 + 128 + 40, end);
        refreshGpt(io, headerLba);
      }
    });

    const mbrScript = 'label: dos\nlabel-id: 0xbad00001\nsize=1MiB, type=83\nsize=1MiB, type=83\ntype=5\nsize=1MiB, type=83\nsize=1MiB, type=83\nsize=1MiB, type=83\n';
    const mbrTable = sfdisk(t('mbr-past-end.raw'), 16, mbrScript);
    patch(t('mbr-past-end.raw'), (io) => {
      const size = Buffer.alloc(4);
      size.writeUInt32LE(16 * MiB / 512); // partition 2 is as large as the disk but starts later
      io.write(0x1be + 16 + 12, size);
    });

    sfdisk(t('mbr-ebr-loop.raw'), 16, mbrScript);
    const ext = mbrTable.partitions.find((p) => p.type === '5');
    const logicals = mbrTable.partitions.filter((p) => Number(p.node.match(/(\d+)$/)[1]) >= 5);
    // The EBR of logical partition 6 sits just before it (sfdisk leaves a 1 MiB gap); its link
    // record (slot 2) is pointed back at the first EBR, at the start of the extended partition.
    const ebr6 = (logicals[1].start - 2048) * 512;
    patch(t('mbr-ebr-loop.raw'), (io) => {
      const sector = io.read(ebr6, 512);
      if (sector[0x1fe] !== 0x55 || sector[0x1ff] !== 0xaa || sector[0x1be + 16 + 4] !== 0x05) {
        throw new Error(`mbr-ebr-loop: no EBR with a link at ${ebr6}`);
      }
      sector.writeUInt32LE(0, 0x1be + 16 + 8); // link StartingLBA: relative to the extended partition
      io.write(ebr6, sector);
    });
    ids.ebrLoop = { extendedStart: ext.start, ebr6Sector: ebr6 / 512 };

    sfdisk(t('mbr-logical-past-end.raw'), 16, mbrScript);
    patch(t('mbr-logical-past-end.raw'), (io) => {
      const sector = io.read(ebr6, 512);
      sector.writeUInt32LE(16 * MiB / 512, 0x1be + 12); // logical 6's size: the whole disk
      io.write(ebr6, sector);
    });

    const pmbr = noise(4 * MiB, 'pmbr-garbage');
    pmbr.fill(0, 0x1be, 0x1fe);
    pmbr[0x1be + 4] = 0xee;
    pmbr.writeUInt32LE(1, 0x1be + 8);
    pmbr.writeUInt32LE(4 * MiB / 512 - 1, 0x1be + 12);
    pmbr[0x1fe] = 0x55;
    pmbr[0x1ff] = 0xaa;
    writeFileSync(t('pmbr-garbage.raw'), pmbr);

    const garbage = noise(4 * MiB, 'garbage');
    garbage[0x1fe] = 0; // no MBR signature: nothing recognisable
    writeFileSync(t('garbage.raw'), garbage);

    writeFileSync(t('ids.json'), JSON.stringify(ids, null, 2) + '\n');
  },
};

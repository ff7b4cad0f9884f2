// One mutant's workload, shared by the bit-flip campaign (bitflip.mjs, core from dist/) and the
// seeded test (bitflip.test.ts, core from TypeScript sources): open the image as its family
// says, walk every directory, stat every entry, read every file, link and xattr. Everything is
// bounded here too (entries, depth, bytes read), so a hang is the parser's, not the walker's.
//
// `core` is the @guestkit/core module; `hooks.phase(name)` is told when file contents are being
// read ('data') and when metadata is ('meta'), so the campaign can tell metadata blocks apart.

/** Walker bounds: far above what the robust-* images hold. */
export const WALK = { maxEntries: 20_000, maxDepth: 64, maxFileBytes: 64 << 20, chunk: 4096, stride: 32 << 10 };

/** Families: what a mutant of each is opened as. */
export const FAMILIES = {
  ext2: { kind: 'fs', fstype: 'ext2' },
  ext3: { kind: 'fs', fstype: 'ext3' },
  ext4: { kind: 'fs', fstype: 'ext4' },
  fat12: { kind: 'fs', fstype: 'vfat' },
  fat16: { kind: 'fs', fstype: 'vfat' },
  fat32: { kind: 'fs', fstype: 'vfat' },
  ntfs: { kind: 'fs', fstype: 'ntfs' },
  'xfs-v4': { kind: 'fs', fstype: 'xfs' },
  'xfs-v5': { kind: 'fs', fstype: 'xfs' },
  btrfs: { kind: 'fs', fstype: 'btrfs' },
  qcow2: { kind: 'image' },
  mbr: { kind: 'disk' },
  gpt: { kind: 'disk' },
  lvm: { kind: 'disk' },
};

const noHooks = { phase() {}, data() {} };


function openFs(core, dev, fstype) {
  switch (fstype) {
    case 'ext2': case 'ext3': case 'ext4': return core.openExt(dev, {});
    case 'vfat': return core.openFat(dev, {});
    case 'ntfs': return core.openNtfs(dev, {});
    case 'xfs': return core.openXfs(dev, {});
    case 'btrfs': return core.openBtrfs(dev, {});
    default: throw new Error(`walk: unknown fstype ${fstype}`);
  }
}

/** Walk a filesystem: every entry stat'ed, every file read, links and xattrs. Returns counts. */
export function walkFs(core, fs, hooks = noHooks, errors = [], opts = {}) {
  const stride = opts.full ? WALK.chunk : WALK.stride;
  const maxEntries = opts.maxEntries ?? WALK.maxEntries;
  const guard = (f) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof core.GuestkitError)) throw e;
      errors.push(e);
    }
  };
  const buf = new Uint8Array(WALK.chunk);
  const seen = new Set();
  let entries = 0;
  let bytes = 0;
  hooks.phase('meta');
  guard(() => fs.statfs());
  const visit = (ino, depth) => {
    if (seen.has(ino) || depth > WALK.maxDepth) return;
    seen.add(ino);
    // Each directory is finished (entries stat'ed, looked up, read) before its subdirectories
    // are entered, as ls -lR, find and the guest view's walk do.
    const subdirs = [];
    guard(() => {
      for (const e of fs.readdir(ino)) {
        if (++entries > maxEntries) return;
        guard(() => {
          const st = fs.stat(e.ino);
          for (const n of fs.listxattr(e.ino)) fs.getxattr(e.ino, n);
          if (fs.lookup(ino, e.name) === null) return;
          if (e.type === 'dir') subdirs.push(e.ino);
          else if (e.type === 'symlink') fs.readlink(e.ino);
          else if (e.type === 'file') {
            hooks.phase('data');
            try {
              // A 4 KiB read every 32 KiB: every region of the block map / extent tree /
              // run list is resolved, at an eighth of the cost of reading everything
              // (opts.full: everything, as cat does).
              for (let pos = 0; pos < Math.min(st.size, WALK.maxFileBytes); pos += stride) {
                const n = fs.read(e.ino, buf, pos);
                if (n === 0) break;
                hooks.data(buf.subarray(0, n));
                bytes += n;
              }
            } finally {
              hooks.phase('meta');
            }
          }
        });
      }
    });
    for (const d of subdirs) visit(d, depth + 1);
  };
  guard(() => fs.stat(fs.rootIno));
  visit(fs.rootIno, 0);
  return { entries, bytes, errors };
}

/** Read a whole block device (the qcow2 family): map, then every byte. */
function readDevice(dev, hooks) {
  dev.map();
  const buf = new Uint8Array(1 << 20);
  hooks.phase('data');
  try {
    for (let pos = 0; pos < dev.size; pos += buf.length) {
      const n = dev.pread(buf, pos);
      hooks.data(buf.subarray(0, n));
      if (n === 0) break;
    }
  } finally {
    hooks.phase('meta');
  }
  return dev.size;
}

/**
 * Run one image of `family` at `path` through its readers. Returns a summary; GuestkitErrors
 * are collected in `errors` (a GuestkitError at open ends the run); anything else is thrown.
 */
export function runImage(core, family, path, hooks = noHooks) {
  const f = FAMILIES[family];
  const errors = [];
  const summary = { entries: 0, bytes: 0, filesystems: 0, errors };
  try {
    if (f.kind === 'fs') {
      const dev = new core.RawFile(path);
      try {
        const fs = openFs(core, dev, f.fstype);
        summary.filesystems = 1;
        const r = walkFs(core, fs, hooks, errors);
        summary.entries = r.entries;
        summary.bytes = r.bytes;
      } finally {
        dev.close();
      }
    } else if (f.kind === 'image') {
      const dev = core.openImage(path, {});
      try {
        summary.bytes = readDevice(dev, hooks);
      } finally {
        dev.close();
      }
    } else {
      // A partitioned disk or LVM PV: partitions, LVs, probes, then each filesystem's walk.
      const set = core.DiskSet.open([{ path }]);
      try {
        set.devices();
        for (const fe of set.filesystems()) {
          try {
            const fs = set.openFilesystem(fe.device.name);
            summary.filesystems++;
            const r = walkFs(core, fs, hooks, errors);
            summary.entries += r.entries;
            summary.bytes += r.bytes;
          } catch (e) {
            if (!(e instanceof core.GuestkitError)) throw e;
            errors.push(e);
          }
        }
      } finally {
        set.close();
      }
    }
  } catch (e) {
    if (!(e instanceof core.GuestkitError)) throw e;
    errors.push(e);
  }
  return summary;
}

/** Mulberry32: a small deterministic PRNG (seeded runs give the same mutants everywhere). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` mutants (offset, bit) drawn from metadata sectors: a quarter from those read at open. */
export function drawMutants(meta, n, seed) {
  const rnd = prng(seed);
  const out = [];
  for (let i = 0; i < n; i++) {
    const pool = rnd() < 0.25 && meta.open.length ? meta.open : meta.all;
    const sector = pool[Math.floor(rnd() * pool.length)];
    out.push({ offset: sector * 512 + Math.floor(rnd() * 512), bit: Math.floor(rnd() * 8) });
  }
  return out;
}

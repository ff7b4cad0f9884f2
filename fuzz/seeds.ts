// Seed corpora, made on demand from the images built by images/ (recipe fuzz-seeds and a few
// others) and from ../shared/samples, read in place. Nothing here is committed: the seeds are
// written to the cache folder (default ~/.cache/guestkit/fuzz/seeds/<target>/).

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { bdbHeaderBlobs } from '@guestkit/inspect';
import { encodeSparseImage } from './lib/sparse-image.js';

/** The repository (run.mjs sets GUESTKIT_FUZZ_ROOT for the bundled build, whose __dirname is elsewhere). */
export const ROOT = process.env.GUESTKIT_FUZZ_ROOT ?? resolve(__dirname, '..');
const IMAGES = join(ROOT, 'images', 'out');
const SAMPLES = resolve(ROOT, '..', 'shared', 'samples');

/** Seeds larger than this are left out (the finding rule is about 1 MiB inputs). */
export const MAX_SEED = 1 << 20;

export function fuzzCacheDir(): string {
  const base = process.env.GUESTKIT_FUZZ_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/tmp', '.cache'), 'guestkit', 'fuzz');
  mkdirSync(base, { recursive: true });
  return base;
}

/** Build the image recipes the seeds come from, if missing. */
export function ensureSeedImages(recipes = ['fuzz-seeds', 'reg-hives', 'phony-rpmdb', 'lvm-images', 'inspect-ndb']): void {
  const missing = recipes.filter((r) => !existsSync(join(IMAGES, r, '.complete')));
  if (missing.length) execFileSync('node', [join(ROOT, 'images', 'build.mjs'), ...missing], { stdio: 'inherit' });
}

const img = (recipe: string, file: string) => join(IMAGES, recipe, file);
const read = (p: string) => (existsSync(p) ? new Uint8Array(readFileSync(p)) : null);
/** Sparse seeds above this leave out their largest runs (file data), keeping the metadata. */
const SPARSE_BUDGET = 256 << 10;
const sparse = (p: string, budget = MAX_SEED) => {
  const b = read(p);
  return b ? encodeSparseImage(b, budget) : null;
};
const samples = (dir: string, filter: (f: string) => boolean = () => true) => {
  const d = join(SAMPLES, dir);
  return existsSync(d) ? readdirSync(d).filter(filter).sort().map((f) => join(d, f)) : [];
};
const txt = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

/** The metadata text of an LVM PV image: the NUL-terminated text holding "contents = ...". */
function lvmTextOf(p: string): Uint8Array | null {
  const b = read(p);
  if (!b) return null;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const i = buf.indexOf('contents = "Text Format Volume Group"');
  if (i < 0) return null;
  let s = i;
  while (s > 0 && buf[s - 1] !== 0) s--;
  const e = buf.indexOf(0, i);
  return new Uint8Array(buf.subarray(s, e < 0 ? buf.length : e));
}

function rpmBlobs(): Uint8Array[] {
  const db = read(img('phony-rpmdb', 'bdb4k/Packages'));
  if (!db) return [];
  try {
    return bdbHeaderBlobs(db);
  } catch {
    return [];
  }
}

const OS_RELEASE = [
  'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n',
  'NAME="Fedora Linux"\nVERSION="39 (Server Edition)"\nID=fedora\nVERSION_ID=39\nPRETTY_NAME="Fedora Linux 39 (Server Edition)"\n',
  "NAME='openSUSE Tumbleweed'\nID=\"opensuse-tumbleweed\"\nID_LIKE=\"opensuse suse\"\nVERSION_ID=\"20231120\"\nPRETTY_NAME=\"openSUSE Tumbleweed\"\nBUILD_ID=rolling\n",
  'NAME=NeoKylin\nVERSION_ID=V7Update6\nID=neokylin\nPRETTY_NAME="NeoKylin Linux"\n',
  'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\nDISTRIB_DESCRIPTION="Ubuntu 22.04.3 LTS"\n',
  'Red Hat Enterprise Linux Server release 7.9 (Maipo)\n',
  'CentOS Linux release 8.5.2111\n',
  'bookworm/sid\n',
];

const FSTAB = [
  '# /etc/fstab\nUUID=0a1b2c3d-0000-4000-8000-000000000001 / ext4 errors=remount-ro 0 1\nLABEL=boot /boot ext2 defaults 0 2\n/dev/mapper/vg-swap none swap sw 0 0\n',
  'PARTUUID=f0000009-01 /mnt/with\\040space vfat utf8,umask=022 0 0\n/dev/sda2\t/home\txfs\tdefaults,nofail\n tmpfs /tmp tmpfs size=10%\n',
  '/dev/disk/by-id/ata-x-part1 /srv btrfs subvol=@srv,compress=zstd 0 0\n//server/share /net cifs credentials=/root/c 0 0\n',
];

/** The seed inputs of one target. */
export function seedInputs(target: string): Uint8Array[] {
  const fs = (...files: string[]) => files.map((f) => sparse(img('fuzz-seeds', f)));
  let list: (Uint8Array | null)[];
  switch (target) {
    case 'qcow2':
      list = ['v2-512.qcow2', 'v3-4k.qcow2', 'v3-64k.qcow2', 'zlib-4k.qcow2', 'zstd-4k.qcow2', 'extl2-16k.qcow2'].map((f) => read(img('fuzz-seeds', f)));
      list.push(...samples('libyal/libqcow').map(read));
      break;
    case 'partitions':
      list = fs('gpt.img', 'mbr.img');
      break;
    case 'lvm':
      list = ['lvm-a.raw', 'lvm-b.raw', 'lvm-c.raw'].map((f) => sparse(img('lvm-images', f), SPARSE_BUDGET));
      break;
    case 'lvm-text':
      list = ['lvm-a.raw', 'lvm-b.raw', 'lvm-c.raw'].map((f) => lvmTextOf(img('lvm-images', f)));
      break;
    case 'ext':
      list = fs('ext2.img', 'ext4.img');
      for (const p of samples('e2fsprogs', (f) => f.endsWith('.image.gz'))) {
        try {
          list.push(encodeSparseImage(new Uint8Array(gunzipSync(readFileSync(p))), SPARSE_BUDGET));
        } catch {
          /* a sample that does not decompress is no seed */
        }
      }
      break;
    case 'fat':
      list = fs('fat12.img', 'fat32.img');
      break;
    case 'ntfs':
      list = fs('ntfs.img');
      break;
    case 'xfs':
      list = fs('xfs.img');
      break;
    case 'btrfs':
      list = fs('btrfs.img');
      break;
    case 'regf':
      list = ['software.hive', 'system.hive', 'fixtures.hive'].map((f) => read(img('reg-hives', f)));
      list.push(...samples('libguestfs', (f) => f === 'minimal-hive').map(read));
      list.push(...samples('libyal/libregf').map(read));
      break;
    case 'reg-import':
      list = samples('guestfs-tools/phony-guests', (f) => f.endsWith('.reg')).map(read);
      for (const f of ['types.reg', 'unicode.reg', 'deep.reg']) list.push(read(img('reg-hives', `reg/${f}`)));
      break;
    case 'dpkg':
      list = samples('guestfs-tools/phony-guests', (f) => f === 'debian-packages').map(read);
      break;
    case 'rpm-header':
      list = rpmBlobs().slice(0, 8);
      break;
    case 'bdb':
      list = ['bdb4k/Packages', 'bdb512/Packages'].map((f) => read(img('phony-rpmdb', f)));
      break;
    case 'ndb':
      // Written by rpm's own ndb backend (images/recipes/inspect-ndb.mjs): fresh, after an erase
      // and a later install (freed slot, moved blobs), 300 packages over two slot pages.
      list = ['fresh/Packages.db', 'Packages.db', 'many/Packages.db'].map((f) => read(img('inspect-ndb', f)));
      break;
    case 'os-release':
      list = OS_RELEASE.map(txt);
      break;
    case 'fstab':
      list = FSTAB.map(txt);
      break;
    default:
      throw new Error(`no seeds for target ${target}`);
  }
  return list.filter((b): b is Uint8Array => b !== null && b.length > 0 && b.length <= MAX_SEED);
}

/** Write a target's seeds to <cache>/seeds/<target>/ (file names are content hashes). */
export function writeSeeds(target: string): string {
  const dir = join(fuzzCacheDir(), 'seeds', target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const s of seedInputs(target)) writeFileSync(join(dir, createHash('sha1').update(s).digest('hex')), s);
  return dir;
}

/** Inputs of a corpus folder (regression corpus or jazzer's working corpus). */
export function corpusInputs(dir: string): { name: string; data: Uint8Array }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.') && !f.endsWith('.md') && statSync(join(dir, f)).isFile())
    .sort()
    .map((f) => ({ name: f, data: new Uint8Array(readFileSync(join(dir, f))) }));
}

// Helpers for image recipes: running real tools, laying partitions into a disk file,
// and the cache key.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Bump to rebuild everything (the builder itself changed meaning). */
const BUILDER_VERSION = '1';

export function log(msg) {
  process.stderr.write(`images: ${msg}\n`);
}

export function cacheRoot() {
  return process.env.GUESTKIT_IMAGE_CACHE || join(homedir(), '.cache', 'guestkit', 'images');
}

function hashFile(h, path) {
  h.update(path.slice(here.length));
  h.update(readFileSync(path));
}

function toolVersion(tool) {
  const r = spawnSync('sh', ['-c', `dpkg -S "$(command -v ${tool})" 2>/dev/null | cut -d: -f1 | head -1 | xargs -r dpkg-query -W -f='\${Package}=\${Version}'`], { encoding: 'utf8' });
  return r.stdout.trim() || tool;
}

/** Cache key: builder version, lib.mjs, the recipe file, the files it lists in `inputs`, tool versions, deps' keys. */
export function recipeHash(r, recipes, seen = new Set()) {
  const h = createHash('sha256');
  h.update(BUILDER_VERSION);
  hashFile(h, join(here, 'lib.mjs'));
  hashFile(h, r.file);
  for (const f of r.inputs ?? []) {
    const p = join(here, f);
    if (existsSync(p) && statSync(p).isDirectory()) {
      for (const g of readdirSync(p, { recursive: true }).map(String).sort()) {
        const q = join(p, g);
        if (statSync(q).isFile()) hashFile(h, q);
      }
    } else hashFile(h, p);
  }
  for (const t of r.tools ?? []) h.update(toolVersion(t));
  for (const d of r.deps ?? []) {
    if (seen.has(d)) throw new Error(`recipe dependency loop at ${d}`);
    seen.add(d);
    h.update(recipeHash(recipes.get(d), recipes, seen));
  }
  return h.digest('hex').slice(0, 16);
}

/** Run a tool; throws with its stderr on failure. Returns stdout. */
export function run(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: opts.encoding ?? 'utf8', stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 30, ...opts });
  } catch (e) {
    const err = e.stderr ? e.stderr.toString() : '';
    throw new Error(`${cmd} ${args.join(' ')}: ${err.trim() || e.message}`);
  }
}

/** Run a shell snippet (for pipes). */
export function sh(script, opts = {}) {
  return run('bash', ['-euo', 'pipefail', '-c', script], opts);
}

/** Environment for libguestfs here: TCG only (KVM crashes on this machine). */
export function guestfsEnv() {
  return { ...process.env, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };
}

/** Run a guestfish script (one appliance launch for all of it). */
export function guestfish(args, script, opts = {}) {
  return run('guestfish', args, { input: script, env: guestfsEnv(), ...opts });
}

/**
 * Make a partitioned disk: `sfdisk` writes the table, then each partition's filesystem image
 * (made separately with mke2fs -d, mkfs.fat, ...) is copied to its offset with dd.
 * parts: [{ sizeMiB, type, name?, image? }]; label: 'gpt' | 'dos'; sectorSize 512 or 4096.
 */
export function makePartitionedDisk(path, { label = 'gpt', sizeMiB, parts, sectorSize = 512, extra = '' }) {
  run('truncate', ['-s', `${sizeMiB}M`, path]);
  const lines = [`label: ${label}`, `sector-size: ${sectorSize}`];
  if (extra) lines.push(extra);
  for (const p of parts) {
    const f = [];
    if (p.start !== undefined) f.push(`start=${p.start}`);
    if (p.sizeMiB !== undefined) f.push(`size=${p.sizeMiB}MiB`);
    if (p.type) f.push(`type=${p.type}`);
    if (p.name) f.push(`name="${p.name}"`);
    if (p.bootable) f.push('bootable');
    lines.push(f.join(', '));
  }
  run('sfdisk', ['--no-reread', '--no-tell-kernel', path], { input: lines.join('\n') + '\n' });
  const table = JSON.parse(run('sfdisk', ['--json', path])).partitiontable;
  const ss = table.sectorsize ?? sectorSize;
  parts.forEach((p, i) => {
    if (!p.image) return;
    const tp = table.partitions[i];
    run('dd', [`if=${p.image}`, `of=${path}`, 'bs=1M', `seek=${tp.start * ss}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
  });
  return table;
}

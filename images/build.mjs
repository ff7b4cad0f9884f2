#!/usr/bin/env node
// Builds the test images with real tools (qemu-img, sfdisk, mke2fs -d, mkfs.fat + mtools,
// mkntfs, mkfs.xfs, mkfs.btrfs, guestfish...). Each recipe in recipes/*.mjs is cached by a
// hash of its own source, the shared library, the fixture generators it names, and the
// versions of the tools it uses: a rebuilt machine or a changed recipe rebuilds it, anything
// else is reused from the cache ($GUESTKIT_IMAGE_CACHE, default ~/.cache/guestkit/images).
// Outputs appear under images/out/<recipe>/ (a symlink into the cache); they are git-ignored.
//
//   node images/build.mjs            build every recipe (except `explicit: true` ones)
//   node images/build.mjs NAME...    build these (and what they depend on)
//   node images/build.mjs --list     list recipes with their cache state

import { readdirSync, existsSync, mkdirSync, rmSync, renameSync, symlinkSync, lstatSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { recipeHash, cacheRoot, log } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outRoot = join(here, 'out');

async function loadRecipes() {
  const recipes = new Map();
  for (const f of readdirSync(join(here, 'recipes')).sort()) {
    if (!f.endsWith('.mjs')) continue;
    const file = join(here, 'recipes', f);
    const mod = await import(pathToFileURL(file).href);
    const r = mod.default;
    if (!r || !r.name || typeof r.build !== 'function') throw new Error(`${f}: recipe must export default { name, build }`);
    recipes.set(r.name, { ...r, file });
  }
  return recipes;
}

async function buildOne(r, recipes, done) {
  if (done.has(r.name)) return;
  for (const d of r.deps ?? []) {
    const dep = recipes.get(d);
    if (!dep) throw new Error(`${r.name}: unknown dependency ${d}`);
    await buildOne(dep, recipes, done);
  }
  const hash = recipeHash(r, recipes);
  const cached = join(cacheRoot(), `${r.name}-${hash}`);
  if (!existsSync(join(cached, '.complete'))) {
    const tmp = `${cached}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const t0 = Date.now();
    log(`building ${r.name} (${hash})`);
    try {
      await r.build({ out: tmp, dep: (name) => join(outRoot, name), name: r.name });
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(`recipe ${r.name} failed: ${e.message}`);
    }
    writeFileSync(join(tmp, '.complete'), `${new Date().toISOString()}\n`);
    rmSync(cached, { recursive: true, force: true });
    renameSync(tmp, cached);
    log(`built ${r.name} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  mkdirSync(outRoot, { recursive: true });
  const link = join(outRoot, r.name);
  let current = null;
  try {
    if (lstatSync(link).isSymbolicLink()) current = readlinkSync(link);
    else rmSync(link, { recursive: true, force: true });
  } catch {}
  if (current !== cached) {
    rmSync(link, { force: true });
    symlinkSync(cached, link);
  }
  done.add(r.name);
}

const args = process.argv.slice(2);
const recipes = await loadRecipes();
if (args[0] === '--list') {
  for (const r of recipes.values()) {
    const hash = recipeHash(r, recipes);
    const ok = existsSync(join(cacheRoot(), `${r.name}-${hash}`, '.complete'));
    console.log(`${r.name.padEnd(28)} ${hash} ${ok ? 'cached' : 'to build'}`);
  }
  process.exit(0);
}
// Recipes marked `explicit` (benchmark-only, large) are built only when named.
const names = args.length ? args : [...recipes.values()].filter((r) => !r.explicit).map((r) => r.name);
const done = new Set();
let failed = 0;
for (const n of names) {
  const r = recipes.get(n);
  if (!r) {
    console.error(`images: no recipe named ${n}`);
    process.exit(2);
  }
  try {
    await buildOne(r, recipes, done);
  } catch (e) {
    console.error(`images: ${e.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);

#!/usr/bin/env node
// Bit-flip campaign (issue 7): for every family (ext2/3/4, FAT12/16/32, NTFS, XFS v4/v5, btrfs,
// qcow2, MBR, GPT, LVM), find the metadata sectors of its clean image by tracing our own
// readers over it (metamap.mjs), then open + walk + read mutants that each flip one bit of one
// metadata sector. A finding is anything but a clean result or GuestkitErrors:
//   exception  another exception type (TypeError, RangeError...)
//   hang       no answer within 2 s, confirmed by a second try with 20 s (a loaded machine)
//   alloc      one allocation larger than the image file (Uint8Array/ArrayBuffer/Buffer)
//   oom        the worker (512 MiB heap limit) ran out of memory
// Findings are fixed in the parsers and kept in regressions.json as (family, offset, bit),
// which bitflip.test.ts replays in the normal test suite. Writes ROBUSTNESS.md's `corpora`
// campaign table (with --write).
//
//   node test/robustness/bitflip.mjs [--mutants 1000] [--seed 7] [--only ext4,ntfs] [--workers 2] [--write]
// Needs the build (imports packages/core/dist).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { mkdtempSync, rmSync, openSync, readSync, writeSync, closeSync, statSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const coreDist = pathToFileURL(join(root, 'packages/core/dist/index.js')).href;

// ---------------------------------------------------------------- worker
async function worker() {
  const { family, src, limit } = workerData;
  installAllocGuard(limit);
  const { runImage } = await import('./walk.mjs');
  const core = await import(coreDist);
  core.setWarningSink(() => {});
  const dir = mkdtempSync(join(tmpdir(), 'guestkit-bitflip-'));
  const copy = join(dir, 'image');
  execFileSync('cp', ['--sparse=always', src, copy]);
  const fd = openSync(copy, 'r+');
  const b = Buffer.alloc(1);
  parentPort.on('message', (m) => {
    if (m.exit) {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }
    readSync(fd, b, 0, 1, m.offset);
    const orig = b[0];
    b[0] = orig ^ (1 << m.bit);
    writeSync(fd, b, 0, 1, m.offset);
    globalThis.__allocFinding = null;
    let res;
    const t0 = performance.now();
    try {
      const s = runImage(core, family, copy);
      const codes = [...new Set(s.errors.map((e) => e.code))];
      res = { ok: true, entries: s.entries, errors: s.errors.length, codes, first: s.errors[0]?.message };
    } catch (e) {
      res = { ok: false, kind: 'exception', message: `${e?.name}: ${e?.message}`, stack: String(e?.stack ?? e).split('\n').slice(0, 6).join('\n') };
    }
    if (globalThis.__allocFinding && res.ok) res = { ok: false, kind: 'alloc', ...globalThis.__allocFinding };
    res.ms = performance.now() - t0;
    b[0] = orig;
    writeSync(fd, b, 0, 1, m.offset);
    parentPort.postMessage({ i: m.i, ...res });
  });
  parentPort.postMessage({ ready: true });
}

/** Any single allocation larger than `limit` bytes is a finding (recorded, then allowed). */
function installAllocGuard(limit) {
  const check = (n) => {
    if (typeof n === 'number' && n > limit && !globalThis.__allocFinding) {
      globalThis.__allocFinding = { message: `allocation of ${n} bytes (image: ${limit})`, stack: new Error().stack.split('\n').slice(2, 7).join('\n') };
    }
  };
  for (const name of ['Uint8Array', 'ArrayBuffer', 'Uint16Array', 'Uint32Array', 'BigUint64Array']) {
    const T = globalThis[name];
    const per = T.BYTES_PER_ELEMENT ?? 1;
    globalThis[name] = new Proxy(T, {
      construct(t, args, nt) {
        if (typeof args[0] === 'number') check(args[0] * per);
        return Reflect.construct(t, args, nt);
      },
    });
  }
  for (const f of ['alloc', 'allocUnsafe', 'allocUnsafeSlow']) {
    const orig = Buffer[f];
    Buffer[f] = function (n, ...rest) {
      check(n);
      return orig.call(this, n, ...rest);
    };
  }
}

// ---------------------------------------------------------------- main
function args() {
  const a = process.argv.slice(2);
  const o = { mutants: 1000, seed: 7, only: null, workers: 2, write: false, timeout: 2000 };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--mutants') o.mutants = Number(a[++i]);
    else if (a[i] === '--seed') o.seed = Number(a[++i]);
    else if (a[i] === '--only') o.only = a[++i].split(',');
    else if (a[i] === '--workers') o.workers = Number(a[++i]);
    else if (a[i] === '--write') o.write = true;
    else throw new Error(`bitflip: unknown option ${a[i]}`);
  }
  return o;
}

/** Seed of one family's run: the campaign seed mixed with the family name. */
export function familySeed(seed, family) {
  let h = seed >>> 0;
  for (const c of family) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h;
}

class Pool {
  constructor(n, family, src, limit) {
    Object.assign(this, { n, family, src, limit });
    this.workers = [];
  }
  async spawn() {
    const w = new Worker(fileURLToPath(import.meta.url), {
      workerData: { family: this.family, src: this.src, limit: this.limit },
      resourceLimits: { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 64 },
    });
    await new Promise((res, rej) => {
      w.once('message', (m) => (m.ready ? res() : rej(new Error('worker did not start'))));
      w.once('error', rej);
    });
    return w;
  }
  /** Run one mutant on worker `w` with a timeout; resolves to [result, worker still usable]. */
  run(w, m, timeout) {
    return new Promise((resolve) => {
      const done = (r, alive) => {
        clearTimeout(t);
        w.off('message', onMsg);
        w.off('error', onErr);
        resolve([r, alive]);
      };
      const onMsg = (r) => r.i === m.i && done(r, true);
      const onErr = (e) => done({ i: m.i, ok: false, kind: e?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'oom' : 'exception', message: String(e?.message ?? e) }, false);
      const t = setTimeout(() => done({ i: m.i, ok: false, kind: 'hang', message: `no answer within ${timeout} ms` }, false), timeout);
      w.on('message', onMsg);
      w.on('error', onErr);
      w.postMessage(m);
    });
  }
  async runAll(mutants, timeout, onResult) {
    let next = 0;
    const lane = async () => {
      let w = await this.spawn();
      while (next < mutants.length) {
        const m = mutants[next++];
        let [r, alive] = await this.run(w, m, timeout);
        if (!alive) {
          await w.terminate();
          w = await this.spawn();
          if (r.kind === 'hang') {
            // Confirm on a loaded machine (wall time is what a worker can be held to; this one
            // had a load of 18 on 2 cores): a second try with ten times the time.
            [r, alive] = await this.run(w, m, timeout * 10);
            if (!alive) {
              await w.terminate();
              w = await this.spawn();
            } else if (r.ok) r = { ...r, slow: true };
          }
        }
        onResult(m, r);
      }
      w.postMessage({ exit: true });
    };
    await Promise.all(Array.from({ length: this.n }, lane));
  }
}

async function main() {
  const o = args();
  const { metadataSectors } = await import('./metamap.mjs');
  const { drawMutants, FAMILIES } = await import('./walk.mjs');
  const { CAMPAIGN_IMAGES } = await import('./images.mjs');
  const core = await import(coreDist);
  core.setWarningSink(() => {});
  const regressionsFile = join(here, 'regressions.json');
  const regressions = existsSync(regressionsFile) ? JSON.parse(readFileSync(regressionsFile, 'utf8')) : [];
  const rows = [];
  const allFindings = [];
  const t0 = Date.now();
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  for (const family of Object.keys(FAMILIES)) {
    if (o.only && !o.only.includes(family)) continue;
    const [recipe, file] = CAMPAIGN_IMAGES[family];
    const src = join(root, 'images', 'out', recipe, file);
    if (!existsSync(src)) execFileSync('node', [join(root, 'images', 'build.mjs'), recipe], { stdio: 'inherit' });
    const size = statSync(src).size;
    const meta = metadataSectors(core, family, src);
    if (meta.summary.errors.length && !['mbr', 'gpt', 'lvm'].includes(family)) {
      throw new Error(`${family}: the clean image ${src} gives errors: ${meta.summary.errors[0].message}`);
    }
    const mutants = drawMutants(meta, o.mutants, familySeed(o.seed, family)).map((m, i) => ({ ...m, i }));
    // Regression cases of this family first (fixed = they now pass).
    const regs = regressions.filter((r) => r.family === family).map((r, k) => ({ offset: r.offset, bit: r.bit, i: -1 - k, regression: r }));
    const stats = { open: 0, walkedWithErrors: 0, clean: 0, slow: 0, findings: [], regsFixed: 0, regs: regs.length, ms: [] };
    const pool = new Pool(o.workers, family, src, size);
    const f0 = Date.now();
    await pool.runAll([...regs, ...mutants], o.timeout, (m, r) => {
      if (m.regression) {
        if (r.ok) stats.regsFixed++;
        else allFindings.push({ family, recipe, file, offset: m.offset, bit: m.bit, kind: r.kind, message: r.message, regression: true });
        return;
      }
      if (r.ms !== undefined) stats.ms.push(r.ms);
      if (!r.ok) {
        const f = { family, recipe, file, offset: m.offset, bit: m.bit, kind: r.kind, message: r.message, stack: r.stack };
        stats.findings.push(f);
        allFindings.push(f);
        process.stderr.write(`FINDING ${family} offset=${m.offset} bit=${m.bit} ${r.kind}: ${r.message}\n${r.stack ?? ''}\n`);
        return;
      }
      if (r.slow) stats.slow++;
      if (r.errors === 0) stats.clean++;
      else if (r.entries === 0) stats.open++;
      else stats.walkedWithErrors++;
    });
    stats.ms.sort((a, b) => a - b);
    const p = (q) => (stats.ms.length ? stats.ms[Math.min(stats.ms.length - 1, Math.floor(q * stats.ms.length))].toFixed(1) : '-');
    rows.push({ family, recipe, file, metaSectors: meta.all.length, openSectors: meta.open.length, mutants: mutants.length, ...stats, p50: p(0.5), max: p(1), secs: ((Date.now() - f0) / 1000).toFixed(0) });
    console.log(`${family}: ${mutants.length} mutants over ${meta.all.length} metadata sectors: ${stats.clean} clean, ${stats.walkedWithErrors} walked with GuestkitErrors, ${stats.open} refused at open, ${stats.findings.length} findings, ${stats.slow} slow; regressions ${stats.regsFixed}/${stats.regs} pass; p50 ${p(0.5)} ms, max ${p(1)} ms (${((Date.now() - f0) / 1000).toFixed(0)} s)`);
  }
  clearInterval(rssTimer);
  writeFileSync(join(tmpdir(), 'guestkit-bitflip-findings.json'), JSON.stringify(allFindings, null, 1));
  console.log(`${allFindings.length} findings (${join(tmpdir(), 'guestkit-bitflip-findings.json')}); ${((Date.now() - t0) / 1000).toFixed(0)} s; main-thread peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  if (o.write) {
    const { writeSectionIn } = await import(pathToFileURL(join(root, 'bench', 'section.mjs')).href);
    writeSectionIn(join(root, 'ROBUSTNESS.md'), 'corpora', `${CORPORA_INTRO}\n\n${corporaSection(rows, o, regressions)}`);
    writeFileSync(join(tmpdir(), 'guestkit-bitflip-rows.json'), JSON.stringify(rows));
  }
  process.exitCode = allFindings.length ? 1 : 0;
}

/** The first part of ROBUSTNESS.md's corpora section: the corpora test (corpora.test.ts). */
export const CORPORA_INTRO = [
  '## Corrupt corpora and mutation campaigns',
  '',
  '### Corrupt corpora',
  '',
  'test/robustness/corpora.test.ts, in the normal test suite (packages/core/test/ext-samples.test.ts',
  'compares the clean ones with debugfs and fls):',
  '- every image under ../shared/samples/e2fsprogs (the folder is listed: 21 gzip images and',
  '  j_recover_csum3_64bit.image.bz2; 8 clean by their expect.1, 14 corrupt) is opened as the tools',
  '  open it (DiskSet, probe, filesystem), every directory walked and every file read whole (`cat`),',
  '  and listed by `guestkit ls -lR` (except f_h_normal and f_many_subdirs, 47,724 and 65,000',
  '  entries: the same code, minutes on a loaded CI): under 10 s of CPU each, GuestkitErrors only,',
  '  each error one `guestkit:` line; the clean ones with no error at all and exit status 0;',
  '- every regipy hive (13, corrupted_system_hive included): every key, value and value datum,',
  '  GuestkitErrors only, under 10 s;',
  '- libyal structures (ext superblock, inodes, directory block; NTFS volume header, MFT entries,',
  '  attribute list; qcow2 header) through their parsers as they are, truncated at 256 lengths and',
  '  with 300 bit flips each; every 1 KiB record of libfsntfs\'s real $MFT. (libyal\'s LVM cuts are',
  '  24-40 bytes without the sector their checksums cover: the lvm family of the campaign covers',
  '  labels and metadata areas.) Findings: none.',
].join('\n');

export function corporaSection(rows, o, regressions) {
  const total = rows.reduce((s, r) => s + r.mutants, 0);
  const lines = [
    '### Bit-flip campaign',
    '',
    `Written by \`node test/robustness/bitflip.mjs --write\` (seed ${o.seed}, ${o.mutants} mutants per family, ${total} in all;`,
    'bitflip.test.ts replays 40 seeded mutants per family and every kept regression case in the',
    'normal test suite). Metadata sectors are found by tracing our own readers over the clean',
    'image (test/robustness/metamap.mjs): every sector read while no file content was read, plus',
    'those read during file reads whose bytes are not file content (extent and indirect blocks,',
    'resident/inline data, qcow2 L2 tables). A quarter of the flips hit the sectors read at open',
    '(superblocks, boot sectors, headers, labels). Each mutant is opened as its family says (fs',
    'families by type, qcow2 as an image read whole, mbr/gpt/lvm through DiskSet: partitions, LVs,',
    'probes, then every filesystem), walked (statfs, readdir, stat, lookup, readlink, xattrs) and',
    'its files read (4 KiB every 32 KiB, so every part of each block map is resolved), in a worker',
    `with a 512 MiB heap limit and a ${o.timeout} ms wall-time bound (a timeout is retried once with ten`,
    'times the time before it counts as a hang: "slow" are those that needed it on this 2-core',
    'machine running at a load of about 18); any single allocation larger than the image file is a',
    'finding. "No error" counts',
    'mutants whose flip changed nothing a reader checks (a name, a time, an unused slot); mbr, gpt',
    'and lvm images hold partitions and LVs guestkit reports as unreadable even when clean (swap,',
    'LV snapshots), so their mutants all end with some GuestkitError.',
    '',
    '| family | image | metadata sectors | mutants | no error | walked with GuestkitErrors | refused at open | slow | findings | p50 ms | max ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.family} | ${r.recipe}/${r.file} | ${r.metaSectors} | ${r.mutants} | ${r.clean} | ${r.walkedWithErrors} | ${r.open} | ${r.slow} | ${r.findings.length} | ${r.p50} | ${r.max} |`);
  }
  lines.push('', `Findings: ${rows.reduce((s, r) => s + r.findings.length, 0)}. Fixed, and kept as regression cases in test/robustness/regressions.json`,
    '(family, offset, bit: the mutation, not a copy of the image), replayed by bitflip.test.ts:');
  for (const r of regressions) lines.push(`- ${r.family} offset ${r.offset} bit ${r.bit}: ${r.finding}. Fix: ${r.fix}.`);
  return lines.join('\n');
}

if (!isMainThread) await worker();
else if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

// Driver of make-goldens-read-tools.sh: runs virt-cat / virt-ls / virt-df for every case of
// test/parity/{cat,ls,df}.cases.json and writes test/goldens/<tool>/<case>.{out,rc,err}.
// Placeholders in arguments: @sample, @sample-qcow2, @guest (image paths relative to the
// checkout, so virt-df's display names are stable) and @uri (libvirt test driver URI over
// test/parity/df-libvirt.xml.in, written to a temporary folder).

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.chdir(ROOT);

const TOOLS = { cat: 'virt-cat', ls: 'virt-ls', df: 'virt-df' };
/** Placeholders → image paths, and the images whose bytes are not reproducible (see the file). */
const IMAGE_LIST = JSON.parse(readFileSync(join(ROOT, 'test/parity/images.json'), 'utf8'));
export const IMAGES = IMAGE_LIST.images;
const UNREPRODUCIBLE_BYTES = new Set(IMAGE_LIST.unreproducibleBytes);
/** Outputs larger than this are stored as a sha256 and size, not verbatim. */
const MAX_VERBATIM = 64 * 1024;

const tmp = mkdtempSync(join(tmpdir(), 'gk-goldens-'));
const xml = join(tmp, 'custom.xml');
writeFileSync(xml, readFileSync('test/parity/df-libvirt.xml.in', 'utf8').replaceAll('@ROOT@', ROOT));
const URI = `test://${xml}`;

function expand(a) {
  if (a === '@uri') return URI;
  return IMAGES[a] ?? a;
}

/** libfaketime, for cases with a fixed "now" (`faketime`: --time-relative, --time-days). */
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1', '/usr/lib64/faketime/libfaketime.so.1']
  .find((f) => existsSync(f));

/**
 * The environment that freezes the wall clock of a virt-* tool at `when` ("YYYY-MM-DD
 * hh:mm:ss", UTC here): libfaketime preloaded, monotonic clocks left alone (libguestfs's
 * timeouts), and the programs libguestfs runs (qemu, supermin, qemu-img) not faked, so the
 * appliance boots as usual. virt-ls reads the clock in its own process (time(NULL)), which
 * is all --time-relative and --time-days use.
 */
function fakeTimeEnv(when) {
  if (!LIBFAKETIME) throw new Error('libfaketime not found: apt-get install faketime');
  return {
    ...process.env, LD_PRELOAD: LIBFAKETIME, FAKETIME: when, FAKETIME_DONT_FAKE_MONOTONIC: '1',
    FAKETIME_SKIP_CMDS: 'qemu-system-x86_64,qemu-kvm,qemu-img,supermin,supermin5,passt',
  };
}

function runOne(tool, c) {
  return new Promise((resolvePromise) => {
    const args = c.args.map(expand);
    const before = Math.floor(Date.now() / 1000);
    const env = c.faketime ? fakeTimeEnv(c.faketime) : process.env;
    const p = spawn(TOOLS[tool], args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const out = [];
    const err = [];
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => err.push(d));
    p.on('close', (code) => {
      const after = Math.floor(Date.now() / 1000);
      resolvePromise({ out: Buffer.concat(out), err: Buffer.concat(err).toString(), code, before, after, args });
    });
  });
}

const argv = process.argv.slice(2);
// --missing: only the cases that have no golden yet (an interrupted run goes on).
const missingOnly = argv.includes('--missing');
const only = argv.filter((a) => a !== '--missing');
const toolFilter = only.filter((a) => a in TOOLS);
const caseFilter = only.filter((a) => !(a in TOOLS));
/** Appliances at once: TCG is CPU-bound and the machine is shared. */
const JOBS = Number(process.env.GOLDEN_JOBS ?? 2);
const jobs = [];
for (const tool of Object.keys(TOOLS)) {
  if (toolFilter.length && !toolFilter.includes(tool)) continue;
  const cases = JSON.parse(readFileSync(`test/parity/${tool}.cases.json`, 'utf8'));
  for (const c of cases) {
    if (caseFilter.length && !caseFilter.includes(c.name)) continue;
    if (missingOnly && existsSync(`test/goldens/${tool}/${c.name}.rc`)) continue;
    jobs.push({ tool, c });
  }
}

for (const tool of Object.keys(TOOLS)) {
  const dir = `test/goldens/${tool}`;
  mkdirSync(dir, { recursive: true });
  const sums = Object.values(IMAGES).filter((f) => existsSync(f) && !UNREPRODUCIBLE_BYTES.has(f))
    .map((f) => `${createHash('sha256').update(readFileSync(f)).digest('hex')}  ${f}`);
  writeFileSync(join(dir, 'IMAGES.sha256'), sums.join('\n') + '\n');
}

let next = 0;
async function worker() {
  while (next < jobs.length) {
    const { tool, c } = jobs[next++];
    const t0 = Date.now();
    const r = await runOne(tool, c);
    const base = join('test/goldens', tool, c.name);
    for (const ext of ['.out', '.out.sha256', '.clock']) rmSync(base + ext, { force: true });
    if (r.out.length > MAX_VERBATIM) {
      writeFileSync(`${base}.out.sha256`, `${createHash('sha256').update(r.out).digest('hex')} ${r.out.length}\n`);
    } else {
      writeFileSync(`${base}.out`, r.out);
    }
    writeFileSync(`${base}.rc`, `${r.code}\n`);
    writeFileSync(`${base}.err`, r.err.replaceAll(ROOT, '@ROOT@').replaceAll(tmp, '@TMP@'));
    if (c.clock) writeFileSync(`${base}.clock`, `${r.before} ${r.after}\n`);
    process.stderr.write(`${tool}/${c.name}: rc=${r.code} ${r.out.length} bytes in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  }
}
await Promise.all(Array.from({ length: JOBS }, () => worker()));
rmSync(tmp, { recursive: true, force: true });

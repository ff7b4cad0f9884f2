// Bounds by design (issue 7): limits from packages/core/src/limits.ts tested at the limit (works)
// and one past it (GuestkitError; LIMIT, or LOOP for symlinks as Linux's ELOOP). Large limits
// (10,000,000 directory entries) are lowered for the test: the parsers read LIMITS at each
// use, so a test can set one to what its image holds. Limits tested elsewhere are listed in
// ROBUSTNESS.md's `limits` section with their tests.
import { describe, it, expect, afterEach } from 'vitest';
import {
  LIMITS, GuestkitError, DiskSet, parseConfig, GuestView, applyMountSpecs, parseMountSpec, allocFromDisk, parseFstab, openExt, openXfs, XfsFilesystem, RawFile, type LimitName,
} from '@guestkit/core';
import { interpretVg } from '@guestkit/core/volume/lvm/vg-metadata';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureImage } from '../helpers/images.js';
// @ts-expect-error plain .mjs recipe module
import { ROBUST_LIMITS } from '../../images/recipes/robust-limits.mjs';
// @ts-expect-error plain .mjs recipe module
import { LVM_STACK } from '../../images/recipes/robust-lvm-stack.mjs';

const mutable = LIMITS as unknown as Record<LimitName, number>;
const saved = { ...LIMITS };
afterEach(() => Object.assign(mutable, saved));

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GuestkitError);
    return (e as GuestkitError).code;
  }
  return 'ok';
}

function view(): GuestView {
  const disks = DiskSet.open([{ path: ensureImage('robust-limits', 'limits.ext4') }]);
  const v = new GuestView();
  applyMountSpecs(v, disks, [parseMountSpec('/dev/sda:/')]);
  return v;
}

describe('limits at the limit and one past', () => {
  it(`maxAlloc: allocFromDisk of exactly the limit works, one byte more is LIMIT`, () => {
    expect(allocFromDisk(1024, 'test', 1024)).toHaveLength(1024);
    expect(codeOf(() => allocFromDisk(1025, 'test', 1024))).toBe('LIMIT');
    expect(codeOf(() => allocFromDisk(-1, 'test', 1024))).toBe('CORRUPT');
    expect(codeOf(() => allocFromDisk(2 ** 53, 'test', LIMITS.maxAlloc))).toBe('CORRUPT');
  });

  it(`maxAlloc: GuestView.readFile of more than LIMITS.maxAlloc bytes at once is LIMIT (use a stream)`, () => {
    const v = view();
    mutable.maxAlloc = 21; // /target holds 21 bytes
    expect(Buffer.from(v.readFile('/target')).toString()).toBe('the end of the chain\n');
    mutable.maxAlloc = 20;
    expect(codeOf(() => v.readFile('/target'))).toBe('LIMIT');
  });

  it(`maxSymlinks (${LIMITS.maxSymlinks}, Linux's MAXSYMLINKS): a chain of 40 resolves, 41 is LOOP (ELOOP)`, () => {
    const v = view();
    const end = v.resolve('/target');
    const r40 = v.resolve('/chain40/l0', { follow: true });
    expect(r40.ino).toBe(end.ino);
    expect(codeOf(() => v.resolve('/chain41/l0', { follow: true }))).toBe('LOOP');
    // Not following the last component: the link itself.
    expect(v.resolve('/chain41/l0', { follow: false }).ino).not.toBe(end.ino);
  });

  it(`maxDirEntries: a ${ROBUST_LIMITS.dirEntries}-entry directory reads at the limit, is LIMIT one below (ext reader and guest view)`, () => {
    const fs = openExt(new RawFile(ensureImage('robust-limits', 'limits.ext4')));
    const v = view();
    const dir = v.resolve('/dir300').ino;
    mutable.maxDirEntries = ROBUST_LIMITS.dirEntries;
    expect([...fs.readdir(dir)]).toHaveLength(ROBUST_LIMITS.dirEntries);
    expect(v.readdir('/dir300')).toHaveLength(ROBUST_LIMITS.dirEntries);
    mutable.maxDirEntries = ROBUST_LIMITS.dirEntries - 1;
    expect(codeOf(() => [...fs.readdir(dir)])).toBe('LIMIT');
    expect(codeOf(() => v.readdir('/dir300'))).toBe('LIMIT');
  });

  it(`xfsMaxAgHeaders: statfs of an XFS with exactly the limit of allocation groups reads their AGF/AGI, one group more is LIMIT`, () => {
    // robust-fs's v5 XFS (mkfs.xfs: 4 AGs, finobt, so statfs reads every AGF and AGI as the
    // kernel's mount does). A fresh filesystem for each limit: the AG counts are cached.
    const img = ensureImage('robust-fs', 'xfs-v5.img');
    const fs = openXfs(new RawFile(img)) as XfsFilesystem;
    const agcount = fs.sb.sb_agcount;
    expect(agcount).toBe(4);
    const whole = fs.statfs();
    mutable.xfsMaxAgHeaders = agcount;
    expect(openXfs(new RawFile(img)).statfs()).toEqual(whole);
    mutable.xfsMaxAgHeaders = agcount - 1;
    expect(codeOf(() => openXfs(new RawFile(img)).statfs())).toBe('LIMIT');
  });

  it(`maxFstabEntries / maxFstabLine: the entry past the limit and an over-long line are skipped with a note`, () => {
    const lines = Array.from({ length: LIMITS.maxFstabEntries + 1 }, (_, i) => `/dev/sd${i} /m${i} ext4 defaults 0 0`);
    const r = parseFstab(lines.join('\n'));
    expect(r.entries).toHaveLength(LIMITS.maxFstabEntries);
    expect(r.skipped.map((s) => s[1])).toContain(`more than ${LIMITS.maxFstabEntries} entries`);
    const long = `/dev/sda1 /${'x'.repeat(LIMITS.maxFstabLine)} ext4 defaults 0 0`;
    expect(parseFstab(long).entries).toHaveLength(0);
    const atLimit = `/dev/sda1 /x ext4 defaults 0 0`.padEnd(LIMITS.maxFstabLine, ' ');
    expect(parseFstab(atLimit).entries).toHaveLength(1);
  });

  it(`maxTreeDepth: LVM metadata sections nested ${LIMITS.maxTreeDepth} deep parse, one deeper is refused`, () => {
    const nested = (n: number) => `${'s {\n'.repeat(n)}x = 1\n${'}\n'.repeat(n)}`;
    let sec = parseConfig(nested(LIMITS.maxTreeDepth), 'test metadata');
    for (let k = 0; k < LIMITS.maxTreeDepth; k++) sec = sec.section('s')!;
    expect(sec.value('x')).toBe(1);
    expect(codeOf(() => parseConfig(nested(LIMITS.maxTreeDepth + 1), 'test metadata'))).toBe('CORRUPT');
  });

  it(`lvmMaxListItems: a list of exactly the limit parses, one item more is refused`, () => {
    mutable.lvmMaxListItems = 1000;
    const list = (n: number) => `stripes = [${Array.from({ length: n }, (_, k) => `"pv${k}", ${k}`).join(', ')}]\n`;
    expect(parseConfig(list(500), 'test metadata').value('stripes')).toHaveLength(1000);
    expect(codeOf(() => parseConfig(list(501), 'test metadata'))).toBe('CORRUPT');
  });

  it(`maxWalkDepth: a walk descends to exactly the limit and reports LIMIT for what lies deeper`, () => {
    const v = view();
    const walk = () => {
      const errors: [string, string][] = [];
      const dirs = [...v.walk('/', { onError: (p, e) => errors.push([p, e.code]) })].filter((e) => e.type === 'dir');
      return { dirs, errors };
    };
    const all = walk();
    expect(all.errors).toEqual([]);
    // Levels of open directories: the root's listing is level 1, a directory at depth d opens level d + 1.
    const deepest = Math.max(...all.dirs.map((e) => e.depth));
    expect(deepest).toBeGreaterThanOrEqual(1);
    mutable.maxWalkDepth = deepest + 1;
    expect(walk()).toEqual(all);
    mutable.maxWalkDepth = deepest;
    const cut = walk();
    const deepestDirs = all.dirs.filter((e) => e.depth === deepest).map((e) => e.path).sort();
    expect(cut.errors.map(([p]) => p).sort()).toEqual(deepestDirs);
    expect(cut.errors.every(([, c]) => c === 'LIMIT')).toBe(true);
    // listTree (ls -R) keeps the same limit: the same errors, and the same paths as the walk.
    const listed = () => {
      const errors: [string, string][] = [];
      const paths = v.listTree('/', '', (p, e) => errors.push([p, e.code])).sort();
      return { paths, errors: errors.sort() };
    };
    const walked = () => {
      const errors: [string, string][] = [];
      const paths = [...v.walk('/', { sort: false, onError: (p, e) => errors.push([p, e.code]) })].map((e) => e.path.slice(1)).sort();
      return { paths, errors: errors.sort() };
    };
    expect(listed().errors).toHaveLength(cut.errors.length);
    expect(listed()).toEqual(walked());
    mutable.maxWalkDepth = deepest + 1;
    expect(listed()).toEqual({ paths: walked().paths, errors: [] });
  });

  it(`lvmMaxAreas / lvmMaxSegments: a VG with exactly the limit of PVs and of segments per LV is read, one more is LIMIT`, () => {
    // Metadata text in the layout LVM2 writes (vgcfgbackup), with n PVs and one LV of n segments.
    const vgText = (n: number) => `vg0 {
id = "vg-id"
seqno = 1
format = "lvm2"
status = ["RESIZEABLE", "READ", "WRITE"]
flags = []
extent_size = 8192
max_lv = 0
max_pv = 0
metadata_copies = 0
physical_volumes {
${Array.from({ length: n }, (_, k) => `pv${k} {\nid = "pv-id-${k}"\ndevice = "/dev/sd${k}"\nstatus = ["ALLOCATABLE"]\nflags = []\ndev_size = 20480\npe_start = 2048\npe_count = 2\n}`).join('\n')}
}
logical_volumes {
lv0 {
id = "lv-id"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
segment_count = ${n}
${Array.from({ length: n }, (_, k) => `segment${k + 1} {\nstart_extent = ${k}\nextent_count = 1\ntype = "striped"\nstripe_count = 1\nstripes = ["pv${k}", 0]\n}`).join('\n')}
}
}
}
`;
    mutable.lvmMaxAreas = 3;
    mutable.lvmMaxSegments = 3;
    const vg = interpretVg(parseConfig(vgText(3), 'test metadata'), 'test metadata');
    expect(vg.pvs).toHaveLength(3);
    expect(vg.lvs[0].segments).toHaveLength(3);
    expect(codeOf(() => interpretVg(parseConfig(vgText(4), 'test metadata'), 'test metadata'))).toBe('LIMIT');
    mutable.lvmMaxAreas = 4;
    expect(codeOf(() => interpretVg(parseConfig(vgText(4), 'test metadata'), 'test metadata'))).toBe('LIMIT');
    mutable.lvmMaxSegments = 4;
    expect(interpretVg(parseConfig(vgText(4), 'test metadata'), 'test metadata').lvs[0].segments).toHaveLength(4);
  });

  it(`lvmMaxLvDepth: LVs that LVM stacked two deep (a pvmove under way) read at a limit of 2, are LIMIT at 1`, () => {
    // robust-lvm-stack: three PVs copied while `pvmove /dev/sda /dev/sdc` ran (real LVM
    // metadata, see the recipe): lin → pvmove0, r → r_rimage_0 → pvmove0, m → m_mimage_0 →
    // pvmove0, and pvmove0 a mirror over PV areas (source sda, destination sdc).
    const dir = ensureImage('robust-lvm-stack');
    const oracle = JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8')) as {
      checksums: Record<string, string>;
      lvs: { name: string; segtype: string; devices: string }[];
    };
    // LVM's own listing of that state.
    const lvm = Object.fromEntries(oracle.lvs.map((l) => [l.name.replace(/[[\]]/g, ''), l]));
    expect(lvm.lin.devices).toMatch(/^pvmove0\(\d+\)$/);
    expect(lvm.r_rimage_0.devices).toMatch(/^pvmove0\(\d+\)$/);
    expect(lvm.m_mimage_0.devices).toMatch(/^pvmove0\(\d+\)$/);
    expect(lvm.pvmove0.segtype).toBe('mirror');
    expect(lvm.pvmove0.devices).toMatch(/^\/dev\/sda\(\d+\),\/dev\/sdc\(\d+\)$/);
    const lvs = () => {
      const disks = DiskSet.open(LVM_STACK.disks.map((f: string) => ({ path: join(dir, f) })));
      return Object.fromEntries(disks.lvs().map((d) => [d.logicalVolume!.lv, d]));
    };
    const sha = (d: { dev: { size: number; pread(b: Uint8Array, p: number): number } }) => {
      const h = createHash('sha256');
      const buf = Buffer.alloc(1 << 20);
      for (let pos = 0; pos < d.dev.size; pos += buf.length) {
        const n = d.dev.pread(buf.subarray(0, Math.min(buf.length, d.dev.size - pos)), pos);
        h.update(buf.subarray(0, n));
      }
      return h.digest('hex');
    };
    const depth = LVM_STACK.depth as Record<string, number>;
    expect(Math.max(...Object.values(depth))).toBe(2);
    for (const limit of [LIMITS.lvmMaxLvDepth, 2, 1, 0]) {
      mutable.lvmMaxLvDepth = limit;
      const got = lvs();
      expect(Object.keys(got).sort()).toEqual(['lin', 'm', 'r']);
      for (const [name, d] of Object.entries(got)) {
        if (depth[name] <= limit) {
          // At or under the limit: the bytes checksum-device gave in the appliance.
          expect(d.logicalVolume!.error, `${name} at ${limit}`).toBeUndefined();
          expect(sha(d), name).toBe(oracle.checksums[name]);
        } else {
          expect(d.logicalVolume!.error?.code, `${name} at ${limit}`).toBe('LIMIT');
          expect(d.logicalVolume!.error?.message).toMatch(new RegExp(`stacked ${limit + 1} deep \\(${name} → .*\\) exceed the limit of ${limit}$`));
          expect(codeOf(() => d.dev.pread(new Uint8Array(512), 0))).toBe('LIMIT');
        }
      }
    }
  });
});

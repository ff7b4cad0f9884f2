// LVM2: physical volumes → volume groups → logical volumes, read-only and without
// device-mapper. PV labels are found on the candidate devices (label.ts), each metadata area's
// committed text is read (metadata-area.ts) and parsed (metadata-text.ts, vg-metadata.ts); a VG
// is assembled from its PVs by UUID across all candidates using the copy with the highest
// seqno; each LV becomes a SegmentedDevice (segments.ts) mapping its extents onto the PVs as
// dm-linear/dm-stripe would.
//
// Supported segment types: striped (linear is striped with one stripe), mirror and raid1 (read
// from the first leg whose PVs are all present), zero and error. A stripe or a leg is a PV
// area or another LV, as LVM's reader resolves the name: during a pvmove the moved LVs lie on
// pvmove0, a mirror over PV areas read from its first leg (the source) only. LVs stacked more
// than LIMITS.lvmMaxLvDepth deep fail with LIMIT. Others (thin, thin-pool,
// snapshot, cache, writecache, vdo, integrity, raid0/4/5/6/10...) are listed but reading them
// fails with UNSUPPORTED naming the segment type. An LV that needs a PV that was not found
// fails every read with NOT_FOUND naming that PV's UUID; the VG's other LVs work.
//
// UUIDs are given in LVM's text form with dashes (as in the metadata and `lvs -o lv_uuid`);
// libguestfs's pvuuid/vguuid/lvuuid print the same 32 characters without dashes
// (compactLvmId()). Listed LVs are the public ones, as libguestfs lists them: VISIBLE in the
// status, and not a pool (thin-pool, cache-pool, vdo-pool).
//
// Problems (a corrupt label, metadata area or text; duplicate PVs; a VG that cannot be
// assembled) do not stop the scan: each is reported through warn() and in `problems`, and what
// depends on it is left out, as LVM does. Pass { strict: true } to throw the first one instead.

import { LIMITS } from '../../limits.js';
import type { BlockDevice } from '../../block/device.js';
import { GuestkitError } from '../../errors.js';
import { warn } from '../../warn.js';
import { readPvLabel, type PvLabel } from './label.js';
import { readMdaHeader, readMetadataText } from './metadata-area.js';
import { parseConfig } from './metadata-text.js';
import { interpretVg, type AreaMeta, type LvMeta, type PvMeta, type SegmentMeta, type VgMeta } from './vg-metadata.js';
import { ErrorDevice, SegmentedDevice, type Segment } from './segments.js';

export { compactLvmId, formatLvmId, calcCrc, readPvLabel, type PvLabel } from './label.js';
export { parseConfig, ConfigSection } from './metadata-text.js';
export { SegmentedDevice, ErrorDevice, type Segment, type SegmentArea, type SegmentMapping } from './segments.js';
export type { VgMeta, LvMeta, PvMeta, SegmentMeta } from './vg-metadata.js';

/** LVM's sector unit for pe_start, extent_size, dev_size, stripe_size. */
const SECTOR = 512;
/** Segment types whose LVs are pools, which libguestfs does not list. */
const POOL_TYPES = new Set(['thin-pool', 'cache-pool', 'vdo-pool']);

export interface PhysicalVolumeCandidate {
  /** Device name, e.g. /dev/sda2. */
  name: string;
  dev: BlockDevice;
}

export interface LogicalVolume {
  vg: string;
  lv: string;
  /** /dev/VG/LV */
  name: string;
  /** The LV's contents. Reads fail (NOT_FOUND / UNSUPPORTED / CORRUPT) when it cannot be read. */
  dev: BlockDevice;
  /** LVM text form, with dashes. */
  uuid?: string;
  /** Size in bytes (extents × extent size). */
  size: number;
  /** Segment types, in order, as `lvs -o segtype` names them ("linear" for one stripe, "striped", "raid1", "thin"...). */
  segmentTypes: string[];
  /** The LV's status flags from the metadata (READ, WRITE, VISIBLE...). */
  status: string[];
  /** Why reading fails, when it does (the same error the device throws). */
  error?: GuestkitError;
}

export interface VolumeGroup {
  name: string;
  uuid: string;
  /** PV device names (present PVs only). */
  pvs: string[];
  lvs: LogicalVolume[];
  /** Metadata sequence number used (the highest found on the PVs). */
  seqno: number;
  /** Extent size in bytes. */
  extentSize: number;
  /** Extents of all PVs in the metadata (present or not). */
  extentCount: number;
  /** Extents not allocated to any LV. */
  freeExtents: number;
  /** UUIDs of PVs named in the metadata but not found among the candidates. */
  missingPvs: string[];
  /** Device whose metadata copy was used. */
  metadataFrom: string;
}

export interface PhysicalVolume {
  name: string;
  dev: BlockDevice;
  uuid: string;
  label: PvLabel;
  /** VG this PV belongs to, when its metadata (or another PV's) says so. */
  vg?: string;
}

export interface LvmScan {
  vgs: VolumeGroup[];
  lvs: LogicalVolume[];
  /** PV device name → PV UUID */
  pvs: Map<string, string>;
  physicalVolumes: PhysicalVolume[];
  /** What was wrong and skipped (each also reported through warn()). */
  problems: GuestkitError[];
}

export interface LvmScanOptions {
  /** Throw the first problem instead of skipping what it affects. */
  strict?: boolean;
}

interface MetadataCopy {
  vg: VgMeta;
  from: string;
}

/** Find PV labels on the candidates, assemble VGs from their metadata, and expose LVs. */
export function scanLvm(candidates: PhysicalVolumeCandidate[], opts: LvmScanOptions = {}): LvmScan {
  const problems: GuestkitError[] = [];
  const problem = (e: unknown) => {
    if (!(e instanceof GuestkitError)) throw e;
    if (opts.strict) throw e;
    problems.push(e);
    warn(e.message);
  };

  // 1. Labels.
  const pvs: PhysicalVolume[] = [];
  const byUuid = new Map<string, PhysicalVolume>();
  for (const c of candidates) {
    let label: PvLabel | null;
    try {
      label = readPvLabel(c.dev, c.name);
    } catch (e) {
      problem(e);
      continue;
    }
    if (!label) continue;
    const have = byUuid.get(label.pvUuid);
    if (have) {
      problem(new GuestkitError('CORRUPT', `LVM: ${c.name} has the same PV UUID ${label.pvUuid} as ${have.name}; using ${have.name}`));
      continue;
    }
    const pv: PhysicalVolume = { name: c.name, dev: c.dev, uuid: label.pvUuid, label };
    pvs.push(pv);
    byUuid.set(pv.uuid, pv);
  }

  // 2. Metadata copies, per VG UUID.
  const copies = new Map<string, MetadataCopy[]>();
  for (const pv of pvs) {
    pv.label.metadataAreas.forEach((area, i) => {
      const what = `LVM metadata area ${i + 1} of PV ${pv.name}`;
      try {
        const mda = readMdaHeader(pv.dev, area, `${what}: mda_header`);
        const text = readMetadataText(pv.dev, mda, what);
        if (text === null) return;
        const vg = interpretVg(parseConfig(text, `${what}: metadata text`), `${what}: metadata text`);
        if (!copies.has(vg.uuid)) copies.set(vg.uuid, []);
        copies.get(vg.uuid)!.push({ vg, from: pv.name });
      } catch (e) {
        problem(e);
      }
    });
  }

  // 3. Assemble each VG from its newest metadata.
  const vgs: VolumeGroup[] = [];
  const names = new Set<string>();
  for (const list of copies.values()) {
    const best = list.reduce((a, b) => (b.vg.seqno > a.vg.seqno ? b : a));
    const meta = best.vg;
    if (names.has(meta.name)) {
      problem(new GuestkitError('CORRUPT', `LVM: two volume groups are named ${meta.name}; ignoring the one with UUID ${meta.uuid}`));
      continue;
    }
    names.add(meta.name);
    try {
      vgs.push(assemble(meta, best.from, byUuid));
    } catch (e) {
      problem(e);
    }
  }
  vgs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  return {
    vgs,
    lvs: vgs.flatMap((v) => v.lvs),
    pvs: new Map(pvs.map((p) => [p.name, p.uuid])),
    physicalVolumes: pvs,
    problems,
  };
}

interface Built {
  dev: BlockDevice;
  /** UUIDs of missing PVs it needs. */
  missing: Set<string>;
  error?: GuestkitError;
  /** LVs below it in its deepest chain of LVs on LVs (0: it lies on PVs only). */
  height: number;
}

function assemble(meta: VgMeta, from: string, byUuid: Map<string, PhysicalVolume>): VolumeGroup {
  const extentBytes = meta.extentSize * SECTOR;
  const pvByKey = new Map<string, PvMeta>(meta.pvs.map((p) => [p.key, p]));
  const present = new Map<string, PhysicalVolume>();
  const missing: string[] = [];
  for (const p of meta.pvs) {
    const pv = byUuid.get(p.uuid);
    if (pv) {
      present.set(p.key, pv);
      pv.vg = meta.name;
    } else missing.push(p.uuid);
  }
  const lvByName = new Map<string, LvMeta>(meta.lvs.map((l) => [l.name, l]));
  const sectorSize = present.values().next().value?.dev.sectorSize ?? 512;

  const built = new Map<string, Built>();
  // LVs on LVs (mirror legs, raid images, an LV being moved on pvmove0): a loop is LOOP; a
  // chain with more than LIMITS.lvmMaxLvDepth LVs below its top one (read here, at each use)
  // is LIMIT. A built LV remembers its height, so the depth is checked the same whichever LV
  // of the VG reached a shared one (pvmove0) first.
  const tooDeep = (stack: string[], name: string, height: number) => {
    if (stack.length + height <= LIMITS.lvmMaxLvDepth) return;
    throw new GuestkitError(
      'LIMIT',
      `LVM volume group ${meta.name}: logical volumes stacked ${stack.length + height} deep (${[...stack, name].join(' → ')}${height ? ' → …' : ''}) exceed the limit of ${LIMITS.lvmMaxLvDepth}`,
    );
  };
  const build = (name: string, stack: string[]): Built => {
    const done = built.get(name);
    if (done) {
      tooDeep(stack, name, done.height);
      return done;
    }
    const lv = lvByName.get(name);
    const devName = `/dev/${meta.name}/${name}`;
    if (!lv) throw new GuestkitError('CORRUPT', `LVM volume group ${meta.name}: ${stack[stack.length - 1]} refers to a logical volume ${name} that does not exist`);
    if (stack.includes(name)) {
      throw new GuestkitError('LOOP', `LVM volume group ${meta.name}: logical volumes refer to each other in a loop (${[...stack, name].join(' → ')})`);
    }
    tooDeep(stack, name, 0);
    const size = lv.extentCount * extentBytes;
    const need = new Set<string>();
    let height = 0;
    const fail = (e: GuestkitError): Built => {
      const b = { dev: new ErrorDevice(size, devName, e), missing: need, error: e, height };
      built.set(name, b);
      return b;
    };
    const unsupported = (type: string, note = '') =>
      fail(new GuestkitError('UNSUPPORTED', `${devName}: segment type ${type}${note} is not supported (guestkit reads linear, striped, mirror and raid1 LVs)`));

    /**
     * `count` extents of one area (a stripe, a leg) from extent a.start of a PV or of another
     * LV: where they are, or the missing PVs they need, or why they cannot be read.
     */
    const area = (a: AreaMeta, count: number, where: string, path: string[]): { dev: BlockDevice; offset: number } | { missing: Set<string> } | GuestkitError => {
      if (a.kind === 'lv') {
        const sub = lvByName.get(a.lv);
        if (sub && a.start + count > sub.extentCount) {
          return new GuestkitError('CORRUPT', `${where} uses extents ${a.start}-${a.start + count - 1} of ${a.lv}, which has ${sub.extentCount}`);
        }
        const b = build(a.lv, path);
        height = Math.max(height, b.height + 1);
        if (b.missing.size) return { missing: b.missing };
        if (b.error) return b.error;
        return { dev: b.dev, offset: a.start * extentBytes };
      }
      const pm = pvByKey.get(a.pv);
      if (!pm) return new GuestkitError('CORRUPT', `${where} is on ${a.pv}, which is neither in physical_volumes nor a logical volume`);
      if (a.start + count > pm.peCount) {
        return new GuestkitError('CORRUPT', `${where} uses extents ${a.start}-${a.start + count - 1} of ${a.pv}, which has ${pm.peCount}`);
      }
      const pv = present.get(a.pv);
      if (!pv) return { missing: new Set([pm.uuid]) };
      const offset = pm.peStart * SECTOR + a.start * extentBytes;
      if (offset + count * extentBytes > pv.dev.size) {
        return new GuestkitError(
          'CORRUPT',
          `${where} (extents ${a.start}-${a.start + count - 1} of ${a.pv}) ends at byte ${offset + count * extentBytes}, past the end of the PV ${pv.name} (${pv.dev.size} bytes)`,
        );
      }
      return { dev: pv.dev, offset };
    };

    const segs: Segment[] = [];
    for (const s of lv.segments) {
      const where = `${devName} ${s.name}`;
      const start = s.startExtent * extentBytes;
      const length = s.extentCount * extentBytes;
      if (s.type === 'striped' || s.type === 'linear') {
        const n = s.areas.length;
        if (s.extentCount % n !== 0) return fail(new GuestkitError('CORRUPT', `${where}: ${s.extentCount} extents cannot be split into ${n} stripes`));
        const per = s.extentCount / n;
        const areas = [];
        for (const [i, a] of s.areas.entries()) {
          const r = area(a, per, `${where}: stripe ${i}`, [...stack, name]);
          if (r instanceof GuestkitError) return fail(r);
          if ('missing' in r) {
            for (const u of r.missing) need.add(u);
            continue;
          }
          areas.push(r);
        }
        if (need.size) continue;
        const stripeSize = (s.stripeSize ?? 0) * SECTOR;
        if (n > 1 && (!(stripeSize > 0) || (per * extentBytes) % stripeSize !== 0)) {
          return fail(new GuestkitError('CORRUPT', `${where}: stripe_size ${s.stripeSize} does not divide the stripes`));
        }
        segs.push({ start, length, mapping: { kind: 'striped', areas, stripeSize } });
      } else if (s.type === 'mirror' || s.type === 'raid1') {
        // The first leg that can be read entirely; otherwise the first leg's problem. Legs are
        // LVs (mirror images, raid images) or, for pvmove0, PV areas; while a pvmove runs only
        // its first leg (the source) holds all the data.
        let chosen: { dev: BlockDevice; offset: number } | undefined;
        let first: ReturnType<typeof area> | undefined;
        const legs = lv.status.includes('PVMOVE') ? s.areas.slice(0, 1) : s.areas;
        for (const [i, a] of legs.entries()) {
          // mirror legs give their own start extent; raid images line up with the LV.
          const r = area(a.kind === 'lv' && s.type !== 'mirror' ? { ...a, start: s.startExtent } : a, s.extentCount, `${where}: leg ${i}`, [...stack, name]);
          first ??= r;
          if (!(r instanceof GuestkitError) && !('missing' in r)) {
            chosen = r;
            break;
          }
        }
        if (!chosen) {
          if (!first) return fail(new GuestkitError('CORRUPT', `${where}: ${s.type} segment without legs`));
          if (first instanceof GuestkitError) return fail(first);
          if ('missing' in first) for (const u of first.missing) need.add(u);
          continue;
        }
        segs.push({ start, length, mapping: { kind: 'striped', areas: [chosen], stripeSize: 0 } });
      } else if (s.type === 'zero') {
        segs.push({ start, length, mapping: { kind: 'zero' } });
      } else if (s.type === 'error') {
        segs.push({ start, length, mapping: { kind: 'error', error: new GuestkitError('IO', `${devName}: reading an LVM "error" segment (${s.name})`) } });
      } else if (s.type === 'snapshot') {
        return unsupported('snapshot', ` (a snapshot of ${meta.name}/${s.origin ?? '?'})`);
      } else {
        return unsupported(s.type);
      }
    }
    if (need.size) {
      const list = [...need].map((u) => {
        const pm = meta.pvs.find((p) => p.uuid === u);
        return `${u}${pm ? ` (${pm.key}${pm.device ? `, last seen as ${pm.device}` : ''})` : ''}`;
      });
      const e = new GuestkitError(
        'NOT_FOUND',
        `${devName}: needs physical volume ${list.join(' and ')}, which was not found: volume group ${meta.name} is partial`,
      );
      const b = { dev: new ErrorDevice(size, devName, e), missing: need, error: e, height };
      built.set(name, b);
      return b;
    }
    let dev: BlockDevice;
    try {
      dev = new SegmentedDevice(segs, devName, sectorSize);
    } catch (e) {
      if (e instanceof GuestkitError) return fail(e);
      throw e;
    }
    const b = { dev, missing: need, height };
    built.set(name, b);
    return b;
  };

  const lvs: LogicalVolume[] = [];
  for (const l of meta.lvs) {
    if (!l.visible || l.segments.some((s) => POOL_TYPES.has(s.type))) continue;
    // A snapshot is stored as a visible "snapshotN" LV with a snapshot segment naming its
    // hidden COW LV; LVM shows it under the COW LV's name and UUID.
    const cowName = l.segments.find((s) => s.type === 'snapshot')?.cowStore;
    const cow = cowName !== undefined ? lvByName.get(cowName) : undefined;
    const shownName = cow ? cow.name : l.name;
    const devName = `/dev/${meta.name}/${shownName}`;
    let b: Built;
    try {
      b = build(l.name, []);
    } catch (e) {
      if (!(e instanceof GuestkitError)) throw e;
      b = { dev: new ErrorDevice(l.extentCount * extentBytes, devName, e), missing: new Set(), error: e, height: 0 };
    }
    if (cow && b.error) {
      const e = new GuestkitError(b.error.code, b.error.message.replace(`/dev/${meta.name}/${l.name}`, devName));
      b = { dev: new ErrorDevice(l.extentCount * extentBytes, devName, e), missing: b.missing, error: e, height: b.height };
    }
    lvs.push({
      vg: meta.name,
      lv: shownName,
      name: devName,
      dev: b.dev,
      uuid: cow ? cow.uuid : l.uuid,
      size: l.extentCount * extentBytes,
      segmentTypes: l.segments.map((s) => (s.type === 'striped' && s.areas.length === 1 ? 'linear' : s.type)),
      status: l.status,
      error: b.error,
    });
  }
  if (new Set(lvs.map((l) => l.name)).size !== lvs.length) {
    throw new GuestkitError('CORRUPT', `LVM volume group ${meta.name}: two logical volumes have the same name`);
  }

  const extentCount = meta.pvs.reduce((n, p) => n + p.peCount, 0);
  let allocated = 0;
  for (const l of meta.lvs) for (const s of l.segments) if (s.type === 'striped' || s.type === 'linear') allocated += s.extentCount;
  return {
    name: meta.name,
    uuid: meta.uuid,
    pvs: [...present.values()].map((p) => p.name),
    lvs,
    seqno: meta.seqno,
    extentSize: extentBytes,
    extentCount,
    freeExtents: Math.max(0, extentCount - allocated),
    missingPvs: missing,
    metadataFrom: from,
  };
}

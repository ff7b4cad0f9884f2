// The volume group described by parsed LVM2 text metadata (lvm2 lib/format_text/import_vsn1.c:
// the VG section with physical_volumes and logical_volumes; each LV's segmentN sections with
// their type-specific fields, lib/*/…_text_import).

import { LIMITS } from '../../limits.js';
import { GuestkitError } from '../../errors.js';
import { ConfigSection, type ConfigValue } from './metadata-text.js';

export interface PvMeta {
  /** Key in physical_volumes ("pv0"), which segments refer to. */
  key: string;
  uuid: string;
  /** Device name LVM last saw it on (a hint only). */
  device?: string;
  status: string[];
  flags: string[];
  /** dev_size, sectors. */
  devSize?: number;
  /** pe_start, sectors. */
  peStart: number;
  peCount: number;
}

export type AreaMeta = { kind: 'pv'; pv: string; start: number } | { kind: 'lv'; lv: string; start: number };

export interface SegmentMeta {
  /** Section name ("segment1"), for messages. */
  name: string;
  startExtent: number;
  extentCount: number;
  type: string;
  /** striped: stripe_size in sectors. */
  stripeSize?: number;
  /** striped: the stripes; mirror: the legs; raid: the data images. */
  areas: AreaMeta[];
  /** raid: the metadata sub-LVs (rmeta), when present. */
  metaAreas: AreaMeta[];
  /** snapshot: the origin and COW LVs. */
  origin?: string;
  cowStore?: string;
}

export interface LvMeta {
  name: string;
  uuid: string;
  status: string[];
  flags: string[];
  visible: boolean;
  segments: SegmentMeta[];
  extentCount: number;
}

export interface VgMeta {
  name: string;
  uuid: string;
  seqno: number;
  /** extent_size, sectors. */
  extentSize: number;
  status: string[];
  flags: string[];
  tags: string[];
  pvs: PvMeta[];
  lvs: LvMeta[];
}

export function interpretVg(root: ConfigSection, what: string): VgMeta {
  // The VG is the top-level section with an id and a seqno (the others are plain keys).
  const vgs = root.sections().filter((s) => s.value('id') !== undefined && s.value('seqno') !== undefined);
  if (vgs.length === 0) throw new GuestkitError('CORRUPT', `${what}: no volume group section in the metadata`);
  if (vgs.length > 1) throw new GuestkitError('CORRUPT', `${what}: ${vgs.length} volume group sections in one metadata text`);
  const vg = vgs[0];
  const at = `${what}: volume group ${vg.name}`;
  const extentSize = int(vg, 'extent_size', at);
  if (extentSize <= 0) throw new GuestkitError('CORRUPT', `${at}: extent_size is ${extentSize}`);

  const pvs: PvMeta[] = [];
  for (const p of vg.section('physical_volumes')?.sections() ?? []) {
    const pat = `${at}: physical volume ${p.name}`;
    if (pvs.length >= LIMITS.lvmMaxAreas) throw new GuestkitError('LIMIT', `${at}: more than ${LIMITS.lvmMaxAreas} physical volumes`);
    pvs.push({
      key: p.name,
      uuid: str(p, 'id', pat),
      device: optStr(p, 'device', pat),
      status: strList(p, 'status', pat),
      flags: strList(p, 'flags', pat),
      devSize: optInt(p, 'dev_size', pat),
      peStart: int(p, 'pe_start', pat),
      peCount: int(p, 'pe_count', pat),
    });
  }

  const lvs: LvMeta[] = [];
  for (const l of vg.section('logical_volumes')?.sections() ?? []) {
    const lat = `${at}: logical volume ${l.name}`;
    const status = strList(l, 'status', lat);
    const segSecs = l.sections().filter((s) => /^segment\d+$/.test(s.name));
    const declared = optInt(l, 'segment_count', lat);
    if (declared !== undefined && declared !== segSecs.length) {
      throw new GuestkitError('CORRUPT', `${lat}: segment_count is ${declared} but there are ${segSecs.length} segment sections`);
    }
    if (segSecs.length > LIMITS.lvmMaxSegments) throw new GuestkitError('LIMIT', `${lat}: more than ${LIMITS.lvmMaxSegments} segments`);
    const segments = segSecs.map((s) => segment(s, `${lat}: ${s.name}`)).sort((a, b) => a.startExtent - b.startExtent);
    let next = 0;
    for (const s of segments) {
      if (s.startExtent !== next) {
        throw new GuestkitError('CORRUPT', `${lat}: ${s.name} starts at extent ${s.startExtent}, expected ${next}`);
      }
      next += s.extentCount;
    }
    lvs.push({
      name: l.name,
      uuid: str(l, 'id', lat),
      status,
      flags: strList(l, 'flags', lat),
      visible: status.includes('VISIBLE'),
      segments,
      extentCount: next,
    });
  }

  // An area names a PV key or an LV, whichever list the segment's key suggests: LVM's reader
  // (text_import_areas) looks the name up among the PVs first, then among the LVs. So a
  // striped segment can lie on an LV (an LV being moved lies on pvmove0) and a mirror can
  // have PV legs (pvmove0 itself).
  const pvKeys = new Set(pvs.map((p) => p.key));
  const lvNames = new Set(lvs.map((l) => l.name));
  for (const l of lvs) {
    for (const seg of l.segments) {
      seg.areas = seg.areas.map((a) => {
        const name = a.kind === 'pv' ? a.pv : a.lv;
        if (pvKeys.has(name)) return a.kind === 'pv' ? a : { kind: 'pv', pv: name, start: a.start };
        if (lvNames.has(name)) return a.kind === 'lv' ? a : { kind: 'lv', lv: name, start: a.start };
        return a;
      });
    }
  }

  return {
    name: vg.name,
    uuid: str(vg, 'id', at),
    seqno: int(vg, 'seqno', at),
    extentSize,
    status: strList(vg, 'status', at),
    flags: strList(vg, 'flags', at),
    tags: strList(vg, 'tags', at),
    pvs,
    lvs,
  };
}

function segment(s: ConfigSection, at: string): SegmentMeta {
  const type = str(s, 'type', at);
  const seg: SegmentMeta = {
    name: s.name,
    startExtent: int(s, 'start_extent', at),
    extentCount: int(s, 'extent_count', at),
    type,
    areas: [],
    metaAreas: [],
  };
  if (seg.extentCount <= 0) throw new GuestkitError('CORRUPT', `${at}: extent_count is ${seg.extentCount}`);
  if (type === 'striped' || type === 'linear') {
    const count = int(s, 'stripe_count', at);
    seg.areas = pairs(s, 'stripes', at, 'pv');
    if (seg.areas.length !== count) throw new GuestkitError('CORRUPT', `${at}: stripe_count is ${count} but stripes lists ${seg.areas.length}`);
    if (count > 1) seg.stripeSize = int(s, 'stripe_size', at);
  } else if (type === 'mirror') {
    seg.areas = pairs(s, 'mirrors', at, 'lv');
  } else if (type.startsWith('raid')) {
    const list = strListOf(s, 'raids', at);
    const count = optInt(s, 'device_count', at) ?? list.length;
    if (list.length === 2 * count) {
      // rmeta, rimage pairs
      for (let i = 0; i < list.length; i += 2) {
        seg.metaAreas.push({ kind: 'lv', lv: list[i], start: 0 });
        seg.areas.push({ kind: 'lv', lv: list[i + 1], start: 0 });
      }
    } else if (list.length === count) {
      seg.areas = list.map((lv) => ({ kind: 'lv' as const, lv, start: 0 }));
    } else {
      throw new GuestkitError('CORRUPT', `${at}: device_count is ${count} but raids lists ${list.length} volumes`);
    }
    if (type === 'raid0' || type === 'raid0_meta') seg.stripeSize = int(s, 'stripe_size', at);
  } else if (type === 'snapshot') {
    seg.origin = optStr(s, 'origin', at);
    seg.cowStore = optStr(s, 'cow_store', at);
  }
  return seg;
}

// ---- typed field access ----------------------------------------------------------------

function need(s: ConfigSection, key: string, at: string): ConfigValue {
  const v = s.value(key);
  if (v === undefined) throw new GuestkitError('CORRUPT', `${at}: no "${key}"`);
  return v;
}

function int(s: ConfigSection, key: string, at: string): number {
  const v = need(s, key, at);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new GuestkitError('CORRUPT', `${at}: "${key}" is not a non-negative integer (${JSON.stringify(v)})`);
  }
  return v;
}

function optInt(s: ConfigSection, key: string, at: string): number | undefined {
  return s.value(key) === undefined ? undefined : int(s, key, at);
}

function str(s: ConfigSection, key: string, at: string): string {
  const v = need(s, key, at);
  if (typeof v !== 'string') throw new GuestkitError('CORRUPT', `${at}: "${key}" is not a string`);
  return v;
}

function optStr(s: ConfigSection, key: string, at: string): string | undefined {
  return s.value(key) === undefined ? undefined : str(s, key, at);
}

function strListOf(s: ConfigSection, key: string, at: string): string[] {
  const v = need(s, key, at);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new GuestkitError('CORRUPT', `${at}: "${key}" is not a list of strings`);
  }
  if (v.length > LIMITS.lvmMaxAreas * 2) throw new GuestkitError('LIMIT', `${at}: "${key}" lists more than ${LIMITS.lvmMaxAreas * 2} items`);
  return v as string[];
}

function strList(s: ConfigSection, key: string, at: string): string[] {
  return s.value(key) === undefined ? [] : strListOf(s, key, at);
}

/** ["name", extent, "name", extent, ...] */
function pairs(s: ConfigSection, key: string, at: string, kind: 'pv' | 'lv'): AreaMeta[] {
  const v = need(s, key, at);
  if (!Array.isArray(v) || v.length % 2 !== 0) throw new GuestkitError('CORRUPT', `${at}: "${key}" is not a list of name, extent pairs`);
  if (v.length > LIMITS.lvmMaxAreas * 2) throw new GuestkitError('LIMIT', `${at}: "${key}" lists more than ${LIMITS.lvmMaxAreas} areas`);
  const out: AreaMeta[] = [];
  for (let i = 0; i < v.length; i += 2) {
    const name = v[i];
    const start = v[i + 1];
    if (typeof name !== 'string' || typeof start !== 'number' || !Number.isSafeInteger(start) || start < 0) {
      throw new GuestkitError('CORRUPT', `${at}: "${key}" item ${i / 2} is not a name and an extent`);
    }
    out.push(kind === 'pv' ? { kind, pv: name, start } : { kind, lv: name, start });
  }
  return out;
}

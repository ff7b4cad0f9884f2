// -d DOMAIN [-c URI]: the disks of a libvirt domain, from `virsh -c URI dumpxml DOMAIN`
// (works with libvirt's test driver, test:///ABSOLUTE/PATH/custom.xml, without a daemon).
// As libguestfs's add-domain reads it (lib/libvirt-domain.c): every <devices><disk> with a
// type; type='file' → <source file>, type='block' → <source dev>; the format is
// <driver type>. We take device='disk' only (not CD-ROMs or floppies, which are not the
// guest's disks) and say which disks we leave out (network, volume). Always read-only.

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { XMLParser as XMLParserType } from 'fast-xml-parser';
import { GuestkitError, warn } from '@guestkit/core';

export interface LibvirtDisk {
  path: string;
  /** <driver type='qcow2'/>; undefined: detect. */
  format?: string;
  /** <target dev='vda'/> */
  target?: string;
  readonly: boolean;
}

export interface LibvirtDomain {
  name: string;
  uuid?: string;
  disks: LibvirtDisk[];
}

/** Longest domain XML accepted from virsh. */
const MAX_XML = 16 * 1024 * 1024;

function virsh(uri: string | undefined, args: string[]): string {
  const full = [...(uri ? ['-c', uri] : []), ...args];
  const r = spawnSync('virsh', full, { encoding: 'utf8', maxBuffer: MAX_XML, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new GuestkitError('EXTERNAL', code === 'ENOENT'
      ? 'virsh not found: -d needs libvirt-clients (virsh) installed'
      : `virsh ${full.join(' ')}: ${r.error.message}`);
  }
  if (r.status !== 0) {
    const msg = (r.stderr || '').split('\n').map((l) => l.trim()).filter(Boolean).join(' ').replace(/^error:\s*/, '');
    throw new GuestkitError('EXTERNAL', `virsh ${full.join(' ')}: ${msg || `exit status ${r.status}`}`);
  }
  return r.stdout;
}

/** The libvirt URI in force: -c, else $LIBVIRT_DEFAULT_URI, else virsh's default. */
export function libvirtUri(connect?: string): string | undefined {
  return connect ?? process.env.LIBVIRT_DEFAULT_URI ?? undefined;
}

/** Domain XML as virsh dumpxml prints it. */
export function dumpDomainXml(name: string, uri?: string): string {
  return virsh(uri, ['dumpxml', '--domain', name]);
}

/** Names of all domains (running or not), as `virsh list --all --name`. */
export function listDomains(uri?: string): string[] {
  return virsh(uri, ['list', '--all', '--name']).split('\n').map((l) => l.trim()).filter(Boolean);
}

/** fast-xml-parser, loaded on first use (its CommonJS build: one file) so tools run without -d do not pay for it. */
let XMLParserCtor: typeof XMLParserType | undefined;
function xmlParser(): typeof XMLParserType {
  XMLParserCtor ??= (createRequire(import.meta.url)('fast-xml-parser') as { XMLParser: typeof XMLParserType }).XMLParser;
  return XMLParserCtor;
}

type XmlNode = Record<string, unknown>;
const nodes = (x: unknown): XmlNode[] =>
  x === undefined || x === null ? [] : (Array.isArray(x) ? x : [x]).map((v) => (typeof v === 'object' && v !== null ? (v as XmlNode) : {}));

/** Parse a <domain> document into its name, UUID and disks. */
export function parseDomainXml(xml: string, what = 'domain XML'): LibvirtDomain {
  let doc: Record<string, unknown>;
  try {
    const parser = new (xmlParser())({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, parseAttributeValue: false, processEntities: true });
    doc = parser.parse(xml) as Record<string, unknown>;
  } catch (e) {
    throw new GuestkitError('CORRUPT', `${what}: not XML (${(e as Error).message})`);
  }
  const dom = doc.domain as Record<string, unknown> | undefined;
  if (!dom || typeof dom !== 'object') throw new GuestkitError('CORRUPT', `${what}: no <domain> element`);
  const text = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : v && typeof v === 'object' && '#text' in v ? String((v as Record<string, unknown>)['#text']) : undefined;
  const name = text(dom.name);
  if (!name) throw new GuestkitError('CORRUPT', `${what}: <domain> has no <name>`);
  const disks: LibvirtDisk[] = [];
  for (const devices of nodes(dom.devices)) {
    for (const d of nodes(devices.disk)) {
      const type = d['@type'] as string | undefined;
      const device = (d['@device'] as string | undefined) ?? 'disk';
      if (!type) continue; // libguestfs: no type attribute, skip it
      const source = nodes(d.source)[0];
      const target = nodes(d.target)[0]?.['@dev'] as string | undefined;
      if (device !== 'disk') continue;
      let path: string | undefined;
      if (type === 'file') path = source?.['@file'] as string | undefined;
      else if (type === 'block') path = source?.['@dev'] as string | undefined;
      else {
        warn(`domain ${name}: disk ${target ?? '?'} of type '${type}' is not supported (only file and block disks); skipped`);
        continue;
      }
      if (!path) continue; // e.g. an empty drive
      const driver = nodes(d.driver)[0];
      const format = driver?.['@type'] as string | undefined;
      disks.push({ path, format, target, readonly: d.readonly !== undefined });
    }
  }
  return { name, uuid: text(dom.uuid)?.trim(), disks };
}

/** The domain's disks, from virsh. */
export function domainDisks(name: string, uri?: string): LibvirtDomain {
  const dom = parseDomainXml(dumpDomainXml(name, uri), `domain ${name}`);
  if (dom.disks.length === 0) throw new GuestkitError('NOT_FOUND', `domain ${name} has no disks guestkit can read`);
  return dom;
}

// Helpers for the inspector tests: inspecting an image, comparing inspector XML.
import { DiskSet } from '@guestkit/core';
import { inspectGuest, inspectorXml, type InspectOptions } from '@guestkit/inspect';

/** Whitespace between elements removed. */
export const norm = (s: string) => s.replace(/>\s+</g, '><').trim();

/**
 * The <application> entries with whitespace normalised, sorted by name then content:
 * libguestfs sorts applications by name with qsort (not stable), so same-name packages
 * (fedora's two gpg-pubkey) come in glibc's arbitrary order in its output.
 */
export function canonApps(xml: string): string {
  const m = /<applications>([\s\S]*)<\/applications>/.exec(xml);
  if (!m) return '';
  const apps = norm(m[1]).split('<application>').slice(1);
  const name = (a: string) => /<name>([^<]*)<\/name>/.exec(a)?.[1] ?? '';
  return apps.sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : a < b ? -1 : a > b ? 1 : 0)).join('\n');
}

/**
 * The XML with each <applications> block's <application> entries sorted as text (whitespace
 * kept): equal to another XML exactly but for the order of applications. For documents with
 * several operating systems (canonApps spans them all).
 */
export function sortAppsPerOs(xml: string): string {
  return xml.replace(/<applications>([\s\S]*?)<\/applications>/g, (_m, body: string) => {
    const apps = body.split(/(?=\n\s*<application>)/).filter((x) => x.trim() !== '');
    return `<applications>${apps.sort().join('')}</applications>`;
  });
}

/** Inspect one raw image with @guestkit/inspect: the OSes, virt-inspector's XML, the warnings. */
export async function inspectImage(path: string, opts: InspectOptions = {}, format = 'raw') {
  const warnings: string[] = [];
  const disks = DiskSet.open([{ path, format }]);
  try {
    const oses = await inspectGuest(disks, { warn: (m) => warnings.push(m), ...opts });
    return { oses, xml: inspectorXml(oses), warnings };
  } finally {
    disks.close();
  }
}

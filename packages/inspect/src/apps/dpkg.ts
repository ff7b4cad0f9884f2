// /var/lib/dpkg/status (deb-control(5) paragraphs), read as libguestfs's list_applications_deb
// does: installed packages only, Version split into epoch:version-release, Source without its
// "(version)", Description's first line as summary and its continuation lines as description.

import type { Application } from '../types.js';

/** libguestfs's MAX_DPKG_STATUS_SIZE. */
export const MAX_DPKG_STATUS = 50 * 1000 * 1000;
/** lines longer than libguestfs's fgets buffer (1024) are read in pieces there; we cap paragraphs instead. */
export const MAX_DPKG_PACKAGES = 1_000_000;

export function parseDpkgStatus(text: string, warn?: (m: string) => void): Application[] {
  const apps: Application[] = [];
  let name: string | undefined, version: string | undefined, release: string | undefined;
  let arch: string | undefined, url: string | undefined, source: string | undefined;
  let summary: string | undefined, description: string | undefined;
  let epoch = 0;
  let installed = false;
  let inDescription = false;
  const flush = () => {
    if (installed && name && version !== undefined && epoch >= 0 && apps.length < MAX_DPKG_PACKAGES) {
      apps.push(clean({ name, epoch, version, release, arch, url, sourcePackage: source, summary, description }));
    } else if (name && version === undefined && installed) {
      warn?.(`dpkg status: package ${name} has no Version: skipped`);
    }
    name = version = release = arch = url = source = summary = description = undefined;
    installed = false;
    inDescription = false;
    epoch = 0;
  };
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith(' ') && inDescription) {
      description = description === undefined ? line.slice(1) : `${description}\n${line.slice(1)}`;
      continue;
    }
    inDescription = false;
    if (line.startsWith('Package: ')) name = line.slice(9);
    else if (line.startsWith('Status: ')) installed = line.slice(8).includes('installed');
    else if (line.startsWith('Version: ')) {
      let v = line.slice(9);
      const colon = v.indexOf(':');
      if (colon >= 0) {
        const e = v.slice(0, colon);
        epoch = /^\d+$/.test(e) && Number(e) <= 0x7fffffff ? Number(e) : -1;
        v = v.slice(colon + 1);
      } else epoch = 0;
      const dash = v.indexOf('-');
      if (dash >= 0) {
        release = v.slice(dash + 1);
        v = v.slice(0, dash);
      } else release = undefined;
      version = v;
    } else if (line.startsWith('Architecture: ')) arch = line.slice(14);
    else if (line.startsWith('Homepage: ')) url = line.slice(10);
    else if (line.startsWith('Source: ')) {
      const s = line.slice(8);
      const sp = s.indexOf(' ');
      source = sp >= 0 ? s.slice(0, sp) : s;
    } else if (line.startsWith('Description: ')) {
      summary = line.slice(13);
      description = undefined;
      inDescription = true;
    } else if (line === '') flush();
  }
  // libguestfs adds a package only at a blank line: a last paragraph without one is dropped.
  return apps;
}

/** Drop empty strings (virt-inspector prints only non-empty fields). */
export function clean(a: Application): Application {
  const out: Application = { name: a.name, epoch: a.epoch };
  for (const [k, v] of Object.entries(a) as [keyof Application, unknown][]) {
    if (k === 'name' || k === 'epoch') continue;
    if (typeof v === 'string' && v !== '') (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

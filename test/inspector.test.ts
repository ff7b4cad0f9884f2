// guestkit inspector on libguestfs's phony guests (built by images/recipes/phony-*.mjs):
// the XML equals virt-inspector's expected output shipped with guestfs-tools
// (../shared/samples/guestfs-tools/expected-*.img.xml) element for element.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { DiskSet, setWarningSink } from '@guestkit/core';
import { inspectGuest, inspectorXml, inspectorJson } from '@guestkit/inspect';
import { ensureImage, sample } from './helpers/images.js';

/** Normalise whitespace between elements (the expected files are libxml2-indented like ours). */
const norm = (s: string) => s.replace(/>\s+</g, '><').trim();

async function inspectImage(path: string, opts = {}) {
  const warnings: string[] = [];
  const disks = DiskSet.open([{ path, format: 'raw' }]);
  try {
    const oses = await inspectGuest(disks, { warn: (m) => warnings.push(m), ...opts });
    return { oses, xml: inspectorXml(oses), warnings };
  } finally {
    disks.close();
  }
}

describe('inspector on the phony Linux guests (no LVM)', () => {
  let dir: string;
  beforeAll(() => {
    dir = ensureImage('phony-linux');
  });
  for (const name of ['ubuntu', 'archlinux', 'coreos']) {
    it(`${name}: XML equals virt-inspector's expected-${name}.img.xml`, async () => {
      const { xml, warnings } = await inspectImage(`${dir}/${name}.img`);
      const expected = readFileSync(sample(`guestfs-tools/expected-${name}.img.xml`), 'utf8');
      expect(norm(xml)).toBe(norm(expected));
      expect(xml).toBe(expected); // byte for byte, indentation included
      expect(warnings).toEqual([]);
    });
  }
  it('--no-applications leaves the element out; JSON carries the same facts', async () => {
    const { oses, xml } = await inspectImage(`${dir}/ubuntu.img`, { applications: false });
    expect(xml).not.toContain('<applications');
    const j = inspectorJson(oses) as { operatingsystems: Record<string, unknown>[] };
    expect(j.operatingsystems[0]).toMatchObject({ root: '/dev/sda2', distro: 'ubuntu', major_version: 10, minor_version: 10, osinfo: 'ubuntu10.10', hostname: 'ubuntu.invalid' });
  });
});

describe('inspector on the phony LVM guests (fedora rpmdb.sqlite, debian)', () => {
  let dir: string;
  beforeAll(() => {
    dir = ensureImage('phony-lvm');
  });
  for (const name of ['fedora', 'debian']) {
    it(`${name}: XML equals virt-inspector's expected-${name}.img.xml`, async () => {
      const { xml, warnings } = await inspectImage(`${dir}/${name}.img`);
      const expected = readFileSync(sample(`guestfs-tools/expected-${name}.img.xml`), 'utf8');
      expect(norm(xml)).toBe(norm(expected));
      expect(warnings).toEqual([]);
    });
  }
});
void setWarningSink;

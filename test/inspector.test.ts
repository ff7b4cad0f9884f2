import { createHash } from 'node:crypto';
// guestkit inspector on libguestfs's phony guests (built by images/recipes/phony-*.mjs):
// the XML equals virt-inspector's expected output shipped with guestfs-tools
// (../shared/samples/guestfs-tools/expected-*.img.xml) element for element.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { setWarningSink } from '@guestkit/core';
import { inspectorJson } from '@guestkit/inspect';
import { ensureImage, sample, GUESTKIT, ROOT } from './helpers/images.js';
import { canonApps, norm, inspectImage } from './helpers/inspector.js';



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
      // Same-name packages (fedora's two gpg-pubkey) are in qsort's arbitrary order in the
      // golden: compare the applications as a group sorted by name then content, the rest as is.
      const cut = (s: string) => s.replace(/<applications>[\s\S]*<\/applications>/, '<applications/>');
      expect(norm(cut(xml))).toBe(norm(cut(expected)));
      expect(canonApps(xml)).toBe(canonApps(expected));
      expect(warnings).toEqual([]);
    });
  }
});
void setWarningSink;

describe('guestkit inspector (CLI)', () => {
  const run = (args: string[]) => spawnSync(GUESTKIT, args, { encoding: 'utf8' });
  let img: string;
  beforeAll(() => {
    img = ensureImage('phony-linux', 'archlinux.img');
  });
  it('prints the XML; it validates against virt-inspector.rng', () => {
    const r = run(['inspector', '--format', 'raw', '-a', img]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(readFileSync(sample('guestfs-tools/expected-archlinux.img.xml'), 'utf8'));
    const v = spawnSync('xmllint', ['--noout', '--relaxng', sample('guestfs-tools/virt-inspector.rng'), '-'], { input: r.stdout, encoding: 'utf8' });
    expect(v.stderr).toContain('- validates');
    expect(v.status).toBe(0);
  });
  it('--xpath queries the XML with libxml2', () => {
    const r = run(['inspector', '--format', 'raw', '-a', img, '--xpath', 'string(//application/name)']);
    expect(r.stdout).toBe('test-package\n');
  });
  it('--json: the same facts, valid per docs/inspector.schema.json required fields', () => {
    const r = run(['inspector', '--format', 'raw', '-a', img, '--json', '--no-applications']);
    const j = JSON.parse(r.stdout);
    expect(j.operatingsystems).toEqual([{
      root: '/dev/sda1', name: 'linux', arch: 'x86_64', distro: 'archlinux', major_version: 0, minor_version: 0,
      package_format: 'pacman', package_management: 'pacman', hostname: 'archlinux.test', osinfo: 'archlinux', firmware: 'bios',
      mountpoints: [{ dev: '/dev/sda1', mountpoint: '/' }],
      filesystems: [{ dev: '/dev/sda1', type: 'ext4', uuid: '01234567-0123-0123-0123-012345678902' }],
    }]);
  });
  it('a file that is no disk with an OS: one line, exit 1; no -a: usage, exit 2', () => {
    const r = run(['inspector', '-a', sample('guestfs-tools/phony-guests/debian-packages'), '--format', 'raw']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^guestkit: [^\n]+\n$/);
    const u = run(['inspector']);
    expect(u.status).toBe(2);
  });
  it('the committed virt-inspector golden digest (test/parity/make-inspector-goldens.sh) equals our output', () => {
    const golden = join(ROOT, 'test/goldens/inspector/archlinux.xml.sha256');
    if (!existsSync(golden)) throw new Error('missing golden: run test/parity/make-inspector-goldens.sh');
    const ours = createHash('sha256').update(run(['inspector', '--format', 'raw', '-a', img]).stdout).digest('hex');
    expect(ours).toBe(readFileSync(golden, 'utf8').trim());
  });
});

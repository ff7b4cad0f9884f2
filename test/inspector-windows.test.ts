// guestkit inspector on libguestfs's phony Windows guest (images/recipes/phony-windows.mjs:
// mkntfs + ntfs-3g, hives merged by hivexregedit from guestfs-tools' .reg files): the XML is
// virt-inspector's expected-windows.img.xml byte for byte, and a guest whose SOFTWARE hive
// is cut short still reports what SYSTEM and the file system give, with a warning; on a GPT
// disk the drive letter comes from the partition GUID.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { inspectorJson, pngGeometry } from '@guestkit/inspect';
import { ensureImage, sample, GUESTKIT, ROOT } from './helpers/images.js';
import { inspectImage } from './helpers/inspector.js';


describe('inspector on the phony Windows guest', () => {
  let dir: string;
  beforeAll(() => {
    dir = ensureImage('phony-windows');
  });

  it("XML equals virt-inspector's expected-windows.img.xml", async () => {
    const { xml, warnings } = await inspectImage(`${dir}/windows.img`);
    expect(xml).toBe(readFileSync(sample('guestfs-tools/expected-windows.img.xml'), 'utf8'));
    expect(warnings).toEqual([]);
  });

  it('CLI: XML validates against virt-inspector.rng; --json has the same facts', () => {
    const r = spawnSync(GUESTKIT, ['inspector', '--format', 'raw', '-a', `${dir}/windows.img`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(readFileSync(sample('guestfs-tools/expected-windows.img.xml'), 'utf8'));
    const v = spawnSync('xmllint', ['--noout', '--relaxng', sample('guestfs-tools/virt-inspector.rng'), '-'], { input: r.stdout, encoding: 'utf8' });
    expect(v.stderr).toContain('- validates');
    const j = spawnSync(GUESTKIT, ['inspector', '--json', '--format', 'raw', '-a', `${dir}/windows.img`], { encoding: 'utf8' });
    expect(j.status).toBe(0);
    const os = JSON.parse(j.stdout).operatingsystems[0];
    expect(os).toMatchObject({
      root: '/dev/sda2', name: 'windows', arch: 'i386', distro: 'windows', major_version: 6, minor_version: 1,
      product_variant: 'Client', windows_systemroot: '/Windows', windows_current_control_set: 'ControlSet001',
      hostname: 'windows.invalid', osinfo: 'win7',
    });
    expect(os.drive_mappings).toEqual([{ name: 'C', dev: '/dev/sda2' }]);
    expect(os.firmware).toBe('bios'); // MBR, no EFI system partition
    expect(os.applications.map((a: { name: string }) => a.name)).toEqual(['test1', 'test2', 'test3', 'test4']);
  });

  it('GPT disk: MountedDevices "DMIO:ID:" + partition GUID maps C: to that partition', async () => {
    const { oses, warnings } = await inspectImage(`${dir}/windows-gpt.img`);
    expect(warnings).toEqual([]);
    expect(oses).toHaveLength(1);
    expect(oses[0]).toMatchObject({ root: '/dev/sda1', productName: 'Microsoft Windows 7 Phony Edition', hostname: 'windows.invalid', firmware: 'bios' });
    expect(oses[0].driveMappings).toEqual([{ name: 'C', device: '/dev/sda1' }]);
    expect(oses[0].applications!.map((a) => a.name)).toEqual(['test1', 'test2', 'test3', 'test4']);
  });

  it('a truncated SOFTWARE hive: one warning, SYSTEM facts and drive letters still reported', async () => {
    const { oses, xml, warnings } = await inspectImage(`${dir}/windows-badhive.img`);
    expect(oses).toHaveLength(1);
    const os = oses[0];
    expect(os).toMatchObject({
      root: '/dev/sda1', type: 'windows', distro: 'windows', arch: 'i386', windowsSystemroot: '/Windows',
      windowsCurrentControlSet: 'ControlSet001', hostname: 'windows.invalid', majorVersion: 0, minorVersion: 0,
    });
    expect(os.productName).toBeUndefined();
    // The SYSTEM hive maps C: to byte offset 256 MiB of disk "1234": there is no such partition here.
    expect(os.driveMappings).toEqual([]);
    expect(os.applications).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^\/Windows\/System32\/Config\/SOFTWARE: .*truncated/);
    const v = spawnSync('xmllint', ['--noout', '--relaxng', sample('guestfs-tools/virt-inspector.rng'), '-'], { input: xml, encoding: 'utf8' });
    expect(v.stderr).toContain('- validates');
    expect((inspectorJson(oses) as { operatingsystems: unknown[] }).operatingsystems).toHaveLength(1);
  });
});

describe('firmware (JSON only: virt-inspector has no element for it)', () => {
  it('uefi on a GPT disk with an EFI system partition (phony CoreOS), not in the XML', async () => {
    const { oses, xml } = await inspectImage(ensureImage('phony-linux', 'coreos.img'), { applications: false });
    expect(oses[0].firmware).toBe('uefi');
    expect((inspectorJson(oses) as { operatingsystems: { firmware: string }[] }).operatingsystems[0].firmware).toBe('uefi');
    expect(xml).not.toContain('firmware');
  });
  it('bios on an MBR disk without one (phony Ubuntu)', async () => {
    const { oses } = await inspectImage(ensureImage('phony-linux', 'ubuntu.img'), { applications: false });
    expect(oses[0].firmware).toBe('bios');
  });
});

describe('Windows icon: explorer.exe bitmap resource (libguestfs icon_windows_7)', () => {
  let img: string;
  beforeAll(() => {
    img = `${ensureImage('phony-windows')}/windows-icon.img`;
  });

  it("XML with <icon> equals virt-inspector's (test/goldens/inspector/windows-icon.xml)", async () => {
    const { xml, oses, warnings } = await inspectImage(img, { icon: true });
    expect(xml).toBe(readFileSync(join(ROOT, 'test/goldens/inspector/windows-icon.xml'), 'utf8'));
    expect(warnings).toEqual([]);
    // wrestool -x --type=2 --name=6801 | bmptopnm | pamcut -bottom 54 | pnmtopng: the top 55 rows.
    expect(pngGeometry(Buffer.from(oses[0].icon!, 'base64'))).toEqual({ width: 48, height: 55 });
  });

  it('without wrestool on PATH there is no icon, as libguestfs built without it gives none', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const { oses, warnings } = await inspectImage(img, { icon: true, applications: false });
      expect(oses[0].icon).toBeUndefined();
      expect(warnings).toEqual([]);
    } finally {
      process.env.PATH = path;
    }
  });
});

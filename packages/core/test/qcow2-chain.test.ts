// qcow2 backing chains: --no-backing, --backing-dir, backing format probing, the depth limit,
// loops, and backing file names that must not be followed (the image is hostile input).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { cpSync, mkdirSync, realpathSync, symlinkSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { GuestkitError, openImage, type OpenOptions } from '@guestkit/core';
import { ensureImage } from '../../../test/helpers/images';
import { comparableMaps, copyImage, hashDevice, hashFile, patch, qemuImg, qemuMap, rawHeader, readAt, tmpDir, MiB, be32, removeTmpDirs } from './qcow2-helpers';

afterAll(removeTmpDirs);

function openError(path: string, opts: OpenOptions = {}): GuestkitError {
  try {
    const dev = openImage(path, opts);
    const b = new Uint8Array(dev.size);
    dev.pread(b, 0);
    dev.close();
  } catch (e) {
    expect(e).toBeInstanceOf(GuestkitError);
    return e as GuestkitError;
  }
  throw new Error(`${path}: opened and read without an error`);
}

/** A qcow2 image whose backing file name is `backing` (not checked by qemu-img: -u). */
function withBacking(path: string, backing: string, fmt = 'raw', size = '1M'): string {
  qemuImg(['create', '-q', '-f', 'qcow2', '-u', '-b', backing, '-F', fmt, path, size]);
  return path;
}

describe('qcow2 backing chain options', () => {
  let chain = '';
  beforeAll(() => {
    chain = join(ensureImage('qcow2-chain'), 'chain');
  });

  it('--no-backing reads like qemu-img on a copy whose backing file is removed (rebase -u -b "")', async () => {
    const t = tmpDir('nobacking');
    const copy = copyImage(join(chain, 'top.qcow2'), t, 'top.qcow2');
    qemuImg(['rebase', '-q', '-u', '-b', '', copy]);
    qemuImg(['convert', '-O', 'raw', copy, join(t, 'top.raw')]);
    const dev = openImage(join(chain, 'top.qcow2'), { backing: false });
    try {
      expect(await hashDevice(dev)).toBe(hashFile(join(t, 'top.raw')));
      const { ours, theirs } = comparableMaps(dev.map(), qemuMap(copy));
      expect(ours).toEqual(theirs);
      // And it differs from the whole chain.
      expect(hashFile(join(t, 'top.raw'))).not.toBe(hashFile(join(chain, '..', 'top.raw')));
    } finally {
      dev.close();
    }
  });

  it('--no-backing opens an image whose backing file would be refused', async () => {
    const t = tmpDir('nobacking2');
    const top = withBacking(join(t, 'top.qcow2'), '/etc/passwd');
    const dev = openImage(top, { backing: false });
    try {
      const b = new Uint8Array(dev.size);
      dev.pread(b, 0);
      expect(b.every((x) => x === 0)).toBe(true);
    } finally {
      dev.close();
    }
  });

  it('reads past the end of a shorter backing file are zeros', () => {
    // top is 20 MiB over mid (16 MiB) over base (12 MiB); nothing is written at 18-19 MiB... except
    // top's own data at 17-18 MiB. mid has data at 13-14 MiB, past base's end.
    const dev = openImage(join(chain, 'top.qcow2'));
    try {
      const b = new Uint8Array(MiB);
      dev.pread(b, 18 * MiB);
      expect(b.every((x) => x === 0)).toBe(true);
      dev.pread(b, 13 * MiB);
      expect(b.every((x) => x === 0x23)).toBe(true);
      const tail = dev.map().filter((e) => e.start >= 16 * MiB && !e.present);
      expect(tail.length).toBeGreaterThan(0);
      for (const e of tail) expect(e.depth).toBe(0);
    } finally {
      dev.close();
    }
  });

  it('a backing file outside the image folder ("../mid.qcow2") is refused, naming it', () => {
    const top = join(chain, 'sub', 'outside-top.qcow2');
    const e = openError(top);
    expect(e.code).toBe('REFUSED');
    const real = realpathSync(chain); // images/out/<recipe> links into the image cache
    expect(e.message).toBe(
      `${top}: backing file "../mid.qcow2" resolves to ${real}/mid.qcow2, outside ${real}/sub; refusing to follow it (allow a folder with --backing-dir)`,
    );
  });

  it('--backing-dir allows that tree, and the chain then reads like qemu-img', async () => {
    const dev = openImage(join(chain, 'sub', 'outside-top.qcow2'), { backingDirs: [chain] });
    try {
      expect(await hashDevice(dev)).toBe(hashFile(join(chain, '..', 'outside-top.raw')));
    } finally {
      dev.close();
    }
  });

  it('a relative name resolves against the folder the image was opened by, as QEMU does (a symlinked top)', () => {
    const t = tmpDir('symtop');
    symlinkSync(join(chain, 'top.qcow2'), join(t, 'top.qcow2'));
    expect(() => qemuImg(['convert', '-O', 'raw', join(t, 'top.qcow2'), join(t, 'x.raw')])).toThrow(/mid\.qcow2/);
    const e = openError(join(t, 'top.qcow2'));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toBe(`${join(t, 'top.qcow2')}: backing file "mid.qcow2": no such file (${t}/mid.qcow2)`);
  });

  it('an image without a backing format extension has its backing file probed (as qemu does)', async () => {
    const t = tmpDir('probe');
    cpSync(chain, join(t, 'chain'), { recursive: true });
    const top = join(t, 'chain', 'top.qcow2');
    // Turn the backing format extension (0xe2792aca) into an unknown one, which readers ignore.
    const h = rawHeader(top);
    const head = readAt(top, 0, 4096);
    let off = h.header_length;
    let found = false;
    while (off + 8 <= head.length) {
      const type = head.readUInt32BE(off);
      if (type === 0) break;
      if (type === 0xe2792aca) {
        patch(top, off, be32(0x7a7a7a7a));
        found = true;
        break;
      }
      off += 8 + Math.ceil(head.readUInt32BE(off + 4) / 8) * 8;
    }
    expect(found).toBe(true);
    expect(qemuImg(['info', top])).not.toMatch(/backing file format/);
    qemuImg(['convert', '-O', 'raw', top, join(t, 'top.raw')]);
    const dev = openImage(top);
    try {
      expect(await hashDevice(dev)).toBe(hashFile(join(t, 'top.raw')));
    } finally {
      dev.close();
    }
  });

  it('a backing file in a format guestkit does not read (vmdk) is UNSUPPORTED, naming it', () => {
    const t = tmpDir('vmdk');
    qemuImg(['create', '-q', '-f', 'vmdk', join(t, 'base.vmdk'), '1M']);
    const top = withBacking(join(t, 'top.qcow2'), 'base.vmdk', 'vmdk');
    const e = openError(top);
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toBe(`${top}: backing file "base.vmdk" has format 'vmdk', which guestkit does not read (raw and qcow2 are)`);
  });

  it('a missing backing file is NOT_FOUND, naming it', () => {
    const t = tmpDir('missing');
    const top = withBacking(join(t, 'top.qcow2'), 'gone.qcow2', 'qcow2');
    const e = openError(top);
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain('backing file "gone.qcow2"');
  });
});

describe('qcow2 backing chain depth and loops', () => {
  /** Build a chain of `n` backing files under one top: l0 (base) ← l1 ← ... ← l{n}; data at each level. */
  function buildChain(dir: string, n: number): string {
    qemuImg(['create', '-q', '-f', 'qcow2', join(dir, 'l0.qcow2'), '2M']);
    execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x10 0 2M', join(dir, 'l0.qcow2')]);
    for (let i = 1; i <= n; i++) {
      qemuImg(['create', '-q', '-f', 'qcow2', '-b', `l${i - 1}.qcow2`, '-F', 'qcow2', `l${i}.qcow2`], { cwd: dir });
      execFileSync('qemu-io', ['-f', 'qcow2', '-c', `write -P ${0x10 + i} ${i * 65536} 65536`, join(dir, `l${i}.qcow2`)]);
    }
    return join(dir, `l${n}.qcow2`);
  }

  it('a chain of 16 backing files (depth 16) opens and reads like qemu-img', async () => {
    const t = tmpDir('depth16');
    const top = buildChain(t, 16);
    qemuImg(['convert', '-O', 'raw', top, join(t, 'top.raw')]);
    const dev = openImage(top);
    try {
      expect(await hashDevice(dev)).toBe(hashFile(join(t, 'top.raw')));
      expect(Math.max(...dev.map().map((e) => e.depth))).toBe(16);
    } finally {
      dev.close();
    }
  });

  it('a chain 17 deep is LIMIT (LIMITS.maxBackingDepth = 16)', () => {
    const t = tmpDir('depth17');
    const top = buildChain(t, 17);
    const e = openError(top);
    expect(e.code).toBe('LIMIT');
    expect(e.message).toBe(`${t}/l1.qcow2: backing chain is deeper than 16 backing files (next: "l0.qcow2")`);
  });

  it('a chain that loops (a → b → a) is LOOP', () => {
    const t = tmpDir('loop');
    qemuImg(['create', '-q', '-f', 'qcow2', join(t, 'b.qcow2'), '1M']);
    withBacking(join(t, 'a.qcow2'), 'b.qcow2', 'qcow2');
    qemuImg(['rebase', '-q', '-u', '-b', 'a.qcow2', '-F', 'qcow2', join(t, 'b.qcow2')]);
    const e = openError(join(t, 'a.qcow2'));
    expect(e.code).toBe('LOOP');
    expect(e.message).toBe(`${t}/a.qcow2: backing chain loops: ${t}/a.qcow2 -> ${t}/b.qcow2 -> ${t}/a.qcow2`);
  });

  it('an image that is its own backing file is LOOP', () => {
    const t = tmpDir('selfloop');
    qemuImg(['create', '-q', '-f', 'qcow2', join(t, 'self.qcow2'), '1M']);
    qemuImg(['rebase', '-q', '-u', '-b', 'self.qcow2', '-F', 'qcow2', join(t, 'self.qcow2')]);
    expect(openError(join(t, 'self.qcow2')).code).toBe('LOOP');
  });

  it('a loop through a symlink (same file under another name) is LOOP', () => {
    const t = tmpDir('symloop');
    qemuImg(['create', '-q', '-f', 'qcow2', join(t, 'c.qcow2'), '1M']);
    symlinkSync('c.qcow2', join(t, 'alias.qcow2'));
    qemuImg(['rebase', '-q', '-u', '-b', 'alias.qcow2', '-F', 'qcow2', join(t, 'c.qcow2')]);
    expect(openError(join(t, 'c.qcow2')).code).toBe('LOOP');
  });
});

describe('qcow2 hostile backing file names are refused, naming the path', () => {
  const cases: [string, string, RegExp][] = [
    ['/etc/passwd', '/etc/passwd', /backing file "\/etc\/passwd" resolves to \/etc\/passwd, outside .*; refusing to follow it/],
    ['/etc/shadow', '/etc/shadow', /backing file "\/etc\/shadow" resolves to \/etc\/shadow, outside /],
    ['a device (/dev/null)', '/dev/null', /backing file "\/dev\/null" resolves to \/dev\/null, outside /],
    ['a device (/dev/zero)', '/dev/zero', /backing file "\/dev\/zero" resolves to \/dev\/zero, outside /],
    ['a json: pseudo-protocol', 'json:{"file":{"driver":"file","filename":"/etc/passwd"}}', /is a protocol string, not a file/],
    ['an nbd: URL', 'nbd:localhost:10809', /backing file "nbd:localhost:10809" is a protocol string/],
    ['an http:// URL', 'http://example.com/disk.img', /backing file "http:\/\/example.com\/disk.img" is a protocol string/],
    ['a file: protocol prefix', 'file:/etc/passwd', /is a protocol string/],
  ];
  for (const [what, name, msg] of cases) {
    it(`${what}: REFUSED`, () => {
      const t = tmpDir('hostile');
      const top = withBacking(join(t, 'top.qcow2'), name);
      const e = openError(top);
      expect(e.code).toBe('REFUSED');
      expect(e.message.startsWith(`${top}: `)).toBe(true);
      expect(e.message).toMatch(msg);
    });
  }

  it('"../x" outside the image folder: REFUSED even though it is a valid qcow2', () => {
    const t = tmpDir('dotdot');
    mkdirSync(join(t, 'a'));
    mkdirSync(join(t, 'b'));
    qemuImg(['create', '-q', '-f', 'qcow2', join(t, 'b', 'base.qcow2'), '1M']);
    const top = withBacking(join(t, 'a', 'top.qcow2'), '../b/base.qcow2', 'qcow2');
    const e = openError(top);
    expect(e.code).toBe('REFUSED');
    expect(e.message).toContain(`resolves to ${t}/b/base.qcow2, outside ${t}/a`);
  });

  it('a symlink inside the tree pointing outside it: REFUSED', () => {
    const t = tmpDir('symout');
    symlinkSync('/etc/passwd', join(t, 'base.img'));
    const top = withBacking(join(t, 'top.qcow2'), 'base.img');
    const e = openError(top);
    expect(e.code).toBe('REFUSED');
    expect(e.message).toContain(`backing file "base.img" resolves to /etc/passwd, outside ${t}`);
  });

  it('a symlink inside the tree pointing to a device: REFUSED', () => {
    const t = tmpDir('symdev');
    symlinkSync('/dev/zero', join(t, 'base.img'));
    const e = openError(withBacking(join(t, 'top.qcow2'), 'base.img'));
    expect(e.code).toBe('REFUSED');
    expect(e.message).toContain('resolves to /dev/zero, outside');
  });

  it('a device node inside the tree: REFUSED as not a regular file', () => {
    const t = tmpDir('mknod');
    try {
      execFileSync('mknod', [join(t, 'zero'), 'c', '1', '5']);
    } catch {
      return; // not root: cannot make a device node here; the /dev cases above still run
    }
    const top = withBacking(join(t, 'top.qcow2'), 'zero');
    const e = openError(top);
    expect(e.code).toBe('REFUSED');
    expect(e.message).toBe(`${top}: backing file "zero" (${t}/zero) is a character device, not a regular file; refusing to follow it`);
  });

  it('--backing-dir /dev does not make /dev/zero followable: REFUSED as not a regular file', () => {
    const t = tmpDir('devdir');
    const e = openError(withBacking(join(t, 'top.qcow2'), '/dev/zero'), { backingDirs: ['/dev'] });
    expect(e.code).toBe('REFUSED');
    expect(e.message).toContain('is a character device, not a regular file');
  });

  it('a directory as backing file: REFUSED', () => {
    const t = tmpDir('dir');
    mkdirSync(join(t, 'd'));
    const e = openError(withBacking(join(t, 'top.qcow2'), 'd'));
    expect(e.code).toBe('REFUSED');
    expect(e.message).toContain('is a directory');
  });

  it('a regular file inside the tree is followed (raw backing)', () => {
    const t = tmpDir('inside');
    writeFileSync(join(t, 'base.img'), Buffer.alloc(1 << 20, 0x5a));
    const dev = openImage(withBacking(join(t, 'top.qcow2'), 'base.img'));
    try {
      const b = new Uint8Array(16);
      dev.pread(b, 12345);
      expect([...b]).toEqual(new Array(16).fill(0x5a));
      expect(statSync(join(t, 'base.img')).size).toBe(dev.size);
    } finally {
      dev.close();
    }
  });
});

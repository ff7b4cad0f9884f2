import { describe, it, expect } from 'vitest';
import { imageSpecs, parseMountSpec, csvLine } from '@guestkit/clikit';

describe('common options as virt-* tools take them', () => {
  it('--format applies to the -a options after it, and auto resets', () => {
    expect(imageSpecs(['-a', 'x.img', '--format', 'raw', '-a', 'y.img', '--format=auto', '-a', 'z.img', '--add=w.img'])).toEqual([
      { path: 'x.img' },
      { path: 'y.img', format: 'raw' },
      { path: 'z.img' },
      { path: 'w.img' },
    ]);
  });

  it('parses -m DEV[:MOUNTPOINT[:OPTIONS[:FSTYPE]]]', () => {
    expect(parseMountSpec('/dev/sda1')).toEqual({ device: '/dev/sda1', mountpoint: '/' });
    expect(parseMountSpec('/dev/sda2:/boot')).toEqual({ device: '/dev/sda2', mountpoint: '/boot' });
    expect(parseMountSpec('/dev/sda3:/:subvol=root:btrfs')).toEqual({
      device: '/dev/sda3', mountpoint: '/', options: 'subvol=root', fstype: 'btrfs',
    });
    expect(() => parseMountSpec('/dev/sda1:boot')).toThrow(/absolute/);
  });

  it('quotes CSV fields as RFC 4180', () => {
    expect(csvLine(['a', 'b,c', 'd"e'])).toBe('a,"b,c","d""e"');
  });
});

// --blocksize applies, like --format, to the -a options after it.
import { describe, it, expect } from 'vitest';
import { blocksizes } from '../src/run.js';

describe('blocksizes', () => {
  it('follows the -a options in order; "--blocksize" alone resets', () => {
    expect(blocksizes(['-a', 'x', '--blocksize=4096', '-a', 'y', '--add=z', '--blocksize', '-ab', '--blocksize', '512', '-a', 'c'])).toEqual([
      undefined, 4096, 4096, undefined, 512,
    ]);
  });
  it('a value of --format or -d is not an image', () => {
    expect(blocksizes(['--format', 'raw', '-a', 'x', '-d', 'dom', '--blocksize=4096', '-a', 'y'])).toEqual([undefined, 4096]);
  });
  it('refuses sizes other than 512 and 4096', () => {
    expect(() => blocksizes(['--blocksize=1024', '-a', 'x'])).toThrow(/512 or 4096/);
  });
});

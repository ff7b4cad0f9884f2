// humanSize() is gnulib human_readable() with round-to-nearest, autoscale, base 1024, SI
// letters, as virt-filesystems/virt-df/virt-ls -h use it. Oracle: GNU numfmt --to=iec
// --round=nearest (the same scaling and digits) for every value that is not an exact tie, and
// gnulib's ties-to-even rule for the ties (numfmt rounds those away from zero). The goldens of
// test/parity/filesystems.test.ts check it against virt-filesystems -h itself.

import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { humanSize } from '@guestkit/clikit';

/** True when n / 1024^e sits exactly halfway between two printed values. */
function isTie(n: bigint): boolean {
  let e = 0n;
  while (n >= 1024n ** (e + 1n) && e < 8n) e++;
  if (e === 0n) return false;
  const unit = 1024n ** e;
  const scaled10 = (n * 10n) / unit;
  if (scaled10 < 100n) return ((n * 10n) % unit) * 2n === unit; // one decimal shown
  return (n % unit) * 2n === unit;
}

describe('humanSize', () => {
  it('agrees with numfmt --to=iec --round=nearest on non-tie values', () => {
    const values: number[] = [0, 1, 999, 1000, 1023, 1024, 1025, 1536, 10239, 10240, 10753, 1047552, 1048064, 1048575, 1048576];
    let x = 123456789n;
    for (let i = 0; i < 400; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
      const bits = BigInt(i % 50);
      values.push(Number(x % (2n ** bits + 1n)));
    }
    const sample = values.filter((v) => !isTie(BigInt(v)));
    const want = execFileSync('numfmt', ['--to=iec', '--round=nearest'], { input: sample.join('\n') + '\n', encoding: 'utf8' }).trim().split('\n');
    expect(sample.map(humanSize)).toEqual(want);
  });

  it('exact ties round to even, as gnulib does', () => {
    expect(humanSize(10752)).toBe('10K'); // 10.5K
    expect(humanSize(11776)).toBe('12K'); // 11.5K
    expect(humanSize(1280)).toBe('1.2K'); // 1.25K
    expect(humanSize(1792)).toBe('1.8K'); // 1.75K
    expect(humanSize(1178)).toBe('1.2K'); // 1.150...K: not a tie, nearest
    expect(humanSize(1023.5 * 1024)).toBe('1.0M'); // carried to the next unit
  });
});

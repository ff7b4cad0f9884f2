import { it } from 'vitest';
import { openImage, loadOracle } from './btrfs-helpers.js';
it('statfs diffs', () => {
  const g = '/work/main/images/out/btrfs-guestfs/';
  const cases: [string, string[], string?][] = [
    ['dup', [g + 'dup.img']], ['compress', [g + 'compress.img'], 'subvolid=5'], ['raid1', [g + 'raid1-a.img', g + 'raid1-b.img']],
    ['raid0', ['a', 'b', 'c'].map((x) => g + `raid0-${x}.img`)], ['raid10', ['a', 'b', 'c', 'd'].map((x) => g + `raid10-${x}.img`)],
    ['raid5', ['a', 'b', 'c'].map((x) => g + `raid5-${x}.img`)], ['rootdir', ['/work/main/images/out/btrfs-rootdir/btrfs.img']]];
  for (const [name, f, o] of cases) {
    const fs = openImage(f, { options: o });
    const s = fs.statfs(); const k = loadOracle(g, name).statvfs;
    console.log(`| ${name} | ${fs.profiles().data}/${fs.profiles().metadata} | ${s.blocks} / ${k.blocks} | ${s.bfree} / ${k.bfree} (${s.bfree - k.bfree}) | ${s.bavail} / ${k.bavail} (${s.bavail - k.bavail}) |`);
  }
});

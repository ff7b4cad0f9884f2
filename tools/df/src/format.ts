// virt-df's output (guestfs-tools df/output.c): the title, and one line per filesystem with
// the numbers statvfs gives, scaled to 1K blocks (or -h, or inodes), Use% from a C float.

import { humanSize, virtCsvField } from '@guestkit/clikit';
import type { StatFs } from '@guestkit/core';

export interface DfOptions {
  csv: boolean;
  human: boolean;
  inodes: boolean;
}

const lpad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);
const rpad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));

export function dfTitle(o: DfOptions): string {
  const cols = ['VirtualMachine', 'Filesystem',
    ...(o.inodes ? ['Inodes', 'IUsed', 'IFree', 'IUse%'] : [o.human ? 'Size' : '1K-blocks', 'Used', 'Available', 'Use%'])];
  if (o.csv) return cols.map(virtCsvField).join(',') + '\n';
  return `${rpad(cols[1], 36)}${lpad(cols[2], 10)} ${lpad(cols[3], 10)} ${lpad(cols[4], 10)} ${lpad(cols[5], 5)}\n`;
}

/** scale (n, from, to) as df/output.c: exact multiply or divide by the ratio. */
function scale(n: bigint, from: bigint, to: bigint): bigint {
  return from >= to ? n * (from / to) : n / (to / from);
}

/**
 * glibc's "%.1f": the exact binary value rounded to one decimal, ties to even (JS toFixed
 * breaks exact ties upwards, and a float percentage such as 37.25 is an exact tie).
 */
export function fixed1(x: number): string {
  const neg = x < 0 || Object.is(x, -0);
  const exact = Math.abs(x).toFixed(60); // every digit of the binary value
  const [int, frac] = exact.split('.');
  let tenth = Number(frac[0]);
  let whole = BigInt(int);
  const rest = frac.slice(1);
  const restCmp = /^0*$/.test(rest) ? 0 : rest[0] > '5' || (rest[0] === '5' && !/^50*$/.test(rest)) ? 1 : rest[0] === '5' ? 0.5 : -1;
  if (restCmp === 1 || (restCmp === 0.5 && tenth % 2 === 1)) {
    tenth++;
    if (tenth === 10) {
      tenth = 0;
      whole++;
    }
  }
  return `${neg ? '-' : ''}${whole}.${tenth}`;
}

export function dfLine(name: string, dev: string, st: StatFs, o: DfOptions): string {
  const big = (n: number) => BigInt(n);
  let cols: string[];
  let percent: number;
  if (!o.inodes) {
    if (!o.human) {
      cols = [
        scale(big(st.blocks), big(st.bsize), 1024n),
        scale(big(st.blocks) - big(st.bfree), big(st.bsize), 1024n),
        scale(big(st.bavail), big(st.bsize), 1024n),
      ].map(String);
    } else {
      cols = [humanSize(st.blocks * st.bsize), humanSize((st.blocks - st.bfree) * st.bsize), humanSize(st.bavail * st.bsize)];
    }
    // float percent = 100. - 100. * bfree / blocks;  (computed in double, stored in a float)
    percent = st.blocks !== 0 ? Math.fround(100 - (100 * st.bfree) / st.blocks) : 0;
  } else {
    cols = [String(st.files), String(st.files - st.ffree), String(st.ffree)];
    percent = st.files !== 0 ? Math.fround(100 - (100 * st.ffree) / st.files) : 0;
  }
  cols.push(o.csv ? fixed1(percent) : `${lpad(Math.ceil(percent).toFixed(0), 3)}%`);
  if (o.csv) return [name, dev, ...cols].map(virtCsvField).join(',') + '\n';
  const head = `${name}:${dev}`;
  const first = head.length <= 36 ? rpad(head, 36) : `${head}\n${' '.repeat(36)}`;
  return `${first}${lpad(cols[0], 10)} ${lpad(cols[1], 10)} ${lpad(cols[2], 10)} ${lpad(cols[3], 5)}\n`;
}

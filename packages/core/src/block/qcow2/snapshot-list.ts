// The text of `qemu-img snapshot -l` (QEMU 7.2, block/qapi.c bdrv_snapshot_dump and
// util/cutils.c size_to_str), for tools that list snapshots as qemu-img does.

import type { Qcow2Snapshot } from './snapshot.js';

const SIZE_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** C printf "%0.3g" of a non-negative number. */
function g3(v: number): string {
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(v));
  if (exp < -4 || exp >= 3) {
    const [m, e] = v.toExponential(2).split('e');
    const mant = m.includes('.') ? m.replace(/\.?0+$/, '') : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const s = v.toPrecision(3);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** QEMU's size_to_str: "0 B", "1.5 KiB", "977 KiB", "2 GiB". */
export function qemuSizeToStr(val: number): string {
  // frexp(val / (1000/1024)) exponent, then groups of 10 bits.
  const x = val / (1000 / 1024);
  const e = x === 0 ? 0 : Math.floor(Math.log2(x)) + 1;
  const i = Math.min(SIZE_SUFFIXES.length - 1, Math.max(0, Math.floor((e - 1) / 10)));
  return `${g3(val / 2 ** (i * 10))} ${SIZE_SUFFIXES[i]}B`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `qemu-img snapshot -l` output for a list of snapshots (dates in local time, as qemu-img prints them). */
export function formatSnapshotList(list: readonly Qcow2Snapshot[]): string {
  const lines = ['Snapshot list:', `${'ID'.padEnd(10)}${'TAG'.padEnd(17)}${'VM SIZE'.padStart(8)}${'DATE'.padStart(20)}${'VM CLOCK'.padStart(13)}${'ICOUNT'.padStart(11)}`];
  for (const s of list) {
    const d = new Date(s.date_sec * 1000);
    const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
    const secs = Math.floor(s.vm_clock_nsec / 1e9);
    const clock = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}.${String(Math.floor(s.vm_clock_nsec / 1e6) % 1000).padStart(3, '0')}`;
    const icount = s.icount === undefined ? '' : String(s.icount);
    lines.push(`${s.id.padEnd(9)} ${s.name.padEnd(16)} ${qemuSizeToStr(s.vm_state_size).padStart(8)}${date.padStart(20)}${clock.padStart(13)}${icount.padStart(11)}`);
  }
  return `${lines.join('\n')}\n`;
}

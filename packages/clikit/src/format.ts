// Small formatters shared by tools for virt-* parity: human sizes, CSV quoting.

/**
 * Human-readable size as libguestfs's `human_size` prints it (virt-df -h, virt-filesystems -h,
 * virt-ls -h): 1024-based, one decimal below 10 units... see gnulib human_readable with
 * human_autoscale|human_SI|human_base_1024 as used by guestfs-tools' utils.
 */
export function humanSize(bytes: number): string {
  // guestfs-tools uses gnulib human_readable(..., human_round_to_nearest | human_autoscale |
  // human_base_1024 | human_SI) which prints e.g. "1.0K", "10M", "512".
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return String(bytes);
  if (v < 10) {
    const r = Math.round(v * 10) / 10;
    if (r >= 10) return `${Math.round(v)}${units[u]}`;
    return `${r.toFixed(1)}${units[u]}`;
  }
  const r = Math.round(v);
  if (r >= 1024 && u < units.length - 1) return `1.0${units[u + 1]}`;
  return `${r}${units[u]}`;
}

/** CSV field as virt-* tools quote it (RFC 4180: quote when it holds , " or newline). */
export function csvField(s: string): string {
  if (/[",\n\r]/.test(s) || /^\s|\s$/.test(s)) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

export function csvLine(fields: string[]): string {
  return fields.map(csvField).join(',');
}

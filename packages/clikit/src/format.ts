// Small formatters shared by tools for virt-* parity: human sizes, CSV quoting.

/**
 * Human-readable size exactly as virt-filesystems, virt-df, virt-ls and virt-diff print it with
 * -h: gnulib human_readable(n, buf, human_round_to_nearest | human_autoscale | human_base_1024 |
 * human_SI, 1, 1) (gnulib lib/human.c). Powers of 1024 with K, M, G, T, P, E, Z, Y; one decimal
 * when the scaled value is below 10 ("1.0K", "9.9M"), none above ("10K", "512"); rounding to
 * nearest with ties to even, carried through the scaling as gnulib does ("1023.5K" is "1.0M").
 */
export function humanSize(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) return String(bytes);
  const base = 1024n;
  const letters = ['', 'K', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
  const exponentMax = letters.length - 1;
  let amt = BigInt(bytes);
  let tenths = 0;
  // 0: exact; 1: below a half-tenth; 2: exactly half a tenth; 3: above.
  let rounding = 0;
  let exponent = 0;
  let point = '';
  if (base <= amt) {
    do {
      const r10 = Number(amt % base) * 10 + tenths;
      const r2 = (r10 % 1024) * 2 + (rounding >> 1);
      amt /= base;
      tenths = Math.floor(r10 / 1024);
      rounding = r2 < 1024 ? (r2 + rounding !== 0 ? 1 : 0) : 2 + (1024 < r2 + rounding ? 1 : 0);
      exponent++;
    } while (base <= amt && exponent < exponentMax);
    if (amt < 10n) {
      if (2 < rounding + (tenths & 1)) {
        tenths++;
        rounding = 0;
        if (tenths === 10) {
          amt++;
          tenths = 0;
        }
      }
      if (amt < 10n) {
        point = `.${tenths}`;
        tenths = rounding = 0;
      }
    }
  }
  if (5 < tenths + (0 < rounding + Number(amt & 1n) ? 1 : 0)) {
    amt++;
    if (amt === base && exponent < exponentMax) {
      exponent++;
      point = '.0';
      amt = 1n;
    }
  }
  return `${amt}${point}${letters[exponent]}`;
}

/** CSV field as virt-* tools quote it (RFC 4180: quote when it holds , " or newline). */
export function csvField(s: string): string {
  if (/[",\n\r]/.test(s) || /^\s|\s$/.test(s)) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

export function csvLine(fields: string[]): string {
  return fields.map(csvField).join(',');
}

// virt-filesystems' output formats (guestfs-tools 1.48 cat/filesystems.c: write_row,
// write_row_strings, write_csv_field, do_output_end), reproduced rule for rule:
//  - text: columns padded to their widest value, 2 spaces apart unless the widths plus 2 per
//    column (all 8 possible columns counted) exceed 72, then 1 space; no trailing blanks;
//    a missing (null) or empty value prints "-"; an empty value counts as width 1, a null one
//    as 0, and a column with no width at all (nothing but nulls, no title) is left out;
//  - CSV: values separated by ",", a null or empty value as nothing, a value quoted (with ""
//    for ") when it holds a space, '"', a newline or ",".

/** One row: the displayed columns' values, null where virt-filesystems passes NULL. */
export type Row = (string | null)[];

/** Number of columns virt-filesystems 1.48 knows (NR_COLUMNS), which enters the spacing rule. */
export const NR_COLUMNS = 8;

export function formatText(rows: readonly Row[]): string {
  const width: number[] = new Array(NR_COLUMNS).fill(0);
  for (const row of rows) {
    row.forEach((v, i) => {
      if (v === null) return;
      width[i] = Math.max(width[i], v === '' ? 1 : bytes(v));
    });
  }
  const total = width.reduce((a, w) => a + w + 2, 0);
  const space = total > 72 ? 1 : 2;
  let out = '';
  for (const row of rows) {
    let pad = 0;
    for (let j = 0; j < NR_COLUMNS; j++) {
      if (width[j] === 0) continue;
      out += ' '.repeat(pad);
      const v = row[j];
      const s = v === null || v === undefined || v === '' ? '-' : v;
      out += s;
      pad = width[j] - bytes(s) + space;
    }
    out += '\n';
  }
  return out;
}

/** Widths are C strlen(): bytes of UTF-8, not characters. */
function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export function csvField(s: string): string {
  if (!/[ "\n,]/.test(s)) return s;
  return `"${s.replace(/"/g, '""')}"`;
}

export function formatCsv(rows: readonly Row[]): string {
  return rows.map((row) => row.map((v) => (v === null ? '' : csvField(v))).join(',') + '\n').join('');
}

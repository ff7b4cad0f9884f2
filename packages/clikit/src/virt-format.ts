// Output details shared by the virt-ls and virt-df formatters (sizes: humanSize in format.ts).

/**
 * A CSV field as virt-ls and virt-df write it (ls.c output_string, df/output.c
 * write_csv_field): quoted only when it holds a space, a double quote, a newline or a comma;
 * quotes inside are doubled. (Not RFC 4180's rule: a lone CR is left bare, a space is not.)
 */
export function virtCsvField(s: string): string {
  if (!/[ ",\n]/.test(s)) return s;
  return `"${s.replace(/"/g, '""')}"`;
}

// Comparison helpers for inspector XML.

/** Whitespace between elements removed. */
export const norm = (s: string) => s.replace(/>\s+</g, '><').trim();

/**
 * The <application> entries with whitespace normalised, sorted by name then content:
 * libguestfs sorts applications by name with qsort (not stable), so same-name packages
 * (fedora's two gpg-pubkey) come in glibc's arbitrary order in its output.
 */
export function canonApps(xml: string): string {
  const m = /<applications>([\s\S]*)<\/applications>/.exec(xml);
  if (!m) return '';
  const apps = norm(m[1]).split('<application>').slice(1);
  const name = (a: string) => /<name>([^<]*)<\/name>/.exec(a)?.[1] ?? '';
  return apps.sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : a < b ? -1 : a > b ? 1 : 0)).join('\n');
}

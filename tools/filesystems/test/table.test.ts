// The virt-filesystems layout rules (guestfs-tools cat/filesystems.c do_output_end and
// write_csv_field), one by one, on hand-made rows.

import { describe, it, expect } from 'vitest';
import { formatText, formatCsv, csvField } from '../src/table.js';

describe('text layout', () => {
  it('pads to the widest value, 2 spaces apart, no trailing blanks; null and "" print "-"', () => {
    expect(formatText([['Name', 'Size'], ['/dev/sda1', null], ['/dev/sda', '']])).toBe(
      'Name       Size\n/dev/sda1  -\n/dev/sda   -\n',
    );
  });

  it('1 space when the widths plus 2 per column (all 8 counted) pass 72', () => {
    const wide = 'x'.repeat(40);
    // widths 40 and 1 → 41 + 16 = 57 ≤ 72: 2 spaces
    expect(formatText([[wide, '']])).toBe(`${wide}  -\n`);
    // widths 40 and 17 → 57 + 16 = 73 > 72: 1 space
    expect(formatText([[wide, 'y'.repeat(17)]])).toBe(`${wide} ${'y'.repeat(17)}\n`);
    expect(formatText([[wide, 'y'.repeat(16)]])).toBe(`${wide}  ${'y'.repeat(16)}\n`);
  });

  it('a column of nothing but nulls disappears; an empty string keeps it', () => {
    expect(formatText([['a', null, 'b'], ['c', null, 'd']])).toBe('a  b\nc  d\n');
    expect(formatText([['a', '', 'b']])).toBe('a  -  b\n');
  });

  it('widths count UTF-8 bytes, as strlen does', () => {
    expect(formatText([['é', 'x'], ['ab', 'y']])).toBe('é  x\nab  y\n');
  });
});

describe('CSV', () => {
  it('quotes values holding a space, a quote, a newline or a comma; null and "" are empty', () => {
    expect(csvField('Data NTFS')).toBe('"Data NTFS"');
    expect(csvField('a"b')).toBe('"a""b"');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField('tab\there')).toBe('tab\there');
    expect(formatCsv([['/dev/sda1', null, '', 'x y']])).toBe('/dev/sda1,,,"x y"\n');
  });
});

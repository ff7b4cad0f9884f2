// One on-disk structure at a time, on libyal's libregf test data (../shared/samples/libyal/
// libregf: single records cut from real hives; expected values from libregf's own tests), plus
// the name rules (upcase comparison, lh hash) and the Marvin32 hash of new-format logs.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { Bytes } from '@guestkit/core';
import {
  parseBaseBlock,
  readHiveBin,
  parseKeyNode,
  parseKeyValue,
  parseKeySecurity,
  parseSubkeyList,
  parseBigData,
  decodeMultiString,
  decodeString,
  compareNames,
  compareCodePoints,
  nameHash,
  nameHint,
  upcaseName,
  marvin32,
  KEY_COMP_NAME,
  baseBlockChecksum,
} from '@guestkit/registry';
import { sample } from '../../../test/helpers/images';
import { regipy } from './helpers';

const lib = (n: string) => readFileSync(sample(`libyal/libregf/${n}`));

describe('libregf single-structure samples', () => {
  test('file header: regf 1.5 SYSTEM hive, root key at 32, checksum verified', () => {
    const bb = parseBaseBlock(lib('file_header.1'), 'file_header.1');
    expect(bb.rootCellOffset).toBe(32); // libregf regf_test_file_header.c
    expect(bb.majorVersion).toBe(1);
    expect(bb.minorVersion).toBe(5);
    expect(bb.fileName).toBe('SYSTEM');
    expect(bb.primarySequence).toBe(bb.secondarySequence);
    expect(bb.checksumValid).toBe(true);
    expect(bb.checksum).toBe(baseBlockChecksum(lib('file_header.1')));
  });

  test('hive bin header: first bin, 4096 bytes', () => {
    const buf = Buffer.concat([Buffer.alloc(4096), lib('hive_bin_header.1'), Buffer.alloc(4096)]);
    const bin = readHiveBin(buf, 4096, 8192);
    expect(bin).toEqual({ fileOffset: 4096, offset: 0, size: 4096 });
    expect(readHiveBin(buf, 4096, 6000)).toMatch(/runs past the end/);
    expect(readHiveBin(buf, 0, 8192)).toBe('no "hbin" signature');
  });

  test('named key: ASCII-compressed name of 57 characters', () => {
    const nk = parseKeyNode(new Bytes(lib('named_key.1'), 'named_key.1'));
    expect(nk.nameLength).toBe(57); // libregf regf_test_named_key.c
    expect(nk.name).toBe('CsiTool-CreateHive-{00000000-0000-0000-0000-000000000000}');
    expect(nk.flags & KEY_COMP_NAME).toBe(KEY_COMP_NAME);
  });

  test('value keys: a 12-character name with data in a cell; inline data', () => {
    const v1 = parseKeyValue(new Bytes(lib('value_key.1'), 'value_key.1'));
    expect(v1.nameLength).toBe(12); // libregf regf_test_value_key.c
    expect(v1.name).toBe('DispFileName');
    expect(v1.inline).toBe(false);
    expect(v1.dataSize).toBe(0x22);
    const v2 = parseKeyValue(new Bytes(lib('value_key.2'), 'value_key.2'));
    expect(v2.name).toBe('On');
    expect(v2.inline).toBe(true);
    expect(v2.dataSize).toBe(4);
  });

  test('security key: 160-byte descriptor', () => {
    const sk = parseKeySecurity(new Bytes(lib('security_key.1'), 'security_key.1'));
    expect(sk.descriptorSize).toBe(160); // libregf regf_test_security_key.c
    expect(sk.descriptor[0]).toBe(1); // SECURITY_DESCRIPTOR revision 1
  });

  test('sub key list: an lh of 8 elements', () => {
    const l = parseSubkeyList(new Bytes(lib('sub_key_list.1'), 'sub_key_list.1'));
    expect(l.kind).toBe('lh');
    expect(l.elements).toHaveLength(8);
    expect(l.hashes).toHaveLength(8);
  });

  test('data block key: 21 segments', () => {
    const db = parseBigData(new Bytes(lib('data_block_key.1'), 'data_block_key.1'));
    expect(db.segmentCount).toBe(21); // libregf regf_test_data_block_key.c
  });

  test('multi strings: terminated, unterminated, and junk after the terminator', () => {
    const m1 = decodeMultiString(lib('multi_string.1'));
    expect(m1[0]).toBe('System Bus Extender');
    expect(m1[1]).toMatch(/^SCSI miniport/);
    expect(decodeMultiString(lib('multi_string.2'))).toEqual(['en-US']);
    expect(decodeString(lib('multi_string.2'))).toBe('en-US');
  });

  test('truncated records are CORRUPT errors naming the structure', () => {
    expect(() => parseKeyNode(new Bytes(lib('named_key.1').subarray(0, 100), 'nk test'))).toThrow(/nk test: key name length 57 runs past the end/);
    expect(() => parseKeyValue(new Bytes(lib('value_key.1').subarray(0, 25), 'vk test'))).toThrow(/vk test: value name length 12/);
    expect(() => parseSubkeyList(new Bytes(lib('sub_key_list.1').subarray(0, 40), 'lh test'))).toThrow(/lh list of 8 elements runs past/);
    expect(() => parseKeyNode(new Bytes(lib('value_key.1'), 'x'))).toThrow(/not a key node/);
  });
});

describe('names', () => {
  test('case-insensitive comparison upcases every UTF-16 unit, as Windows does', () => {
    expect(compareNames('Software', 'SOFTWARE')).toBe(0);
    expect(compareNames('café', 'CAFÉ')).toBe(0); // hivex's ASCII-only strcasecmp says these differ
    expect(compareNames('ελληνικά', 'ΕΛΛΗΝΙΚΆ')).toBe(0);
    expect(compareNames('ß', 'SS')).not.toBe(0); // no expansion: one code unit stays one
    expect(compareNames('a', 'B')).toBeLessThan(0);
    // Lists on disk are in this order ('_' after 'A' = 0x41); exports are in code point order ('_' before 'a').
    expect(compareNames('_', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('_', 'a')).toBeLessThan(0);
    expect(compareCodePoints('\u{1F30E}', '\uFFFD')).toBeGreaterThan(0); // above the BMP sorts last
    expect(upcaseName('ab\u00e9')).toBe('AB\u00c9');
  });

  test('lh hash: H = 37 * H + upcase(c)', () => {
    let h = 0;
    for (const c of 'CONTROLSET001') h = (h * 37 + c.charCodeAt(0)) >>> 0;
    expect(nameHash('ControlSet001')).toBe(h);
    expect(nameHint('Sel')).toBe(0x006c6553);
    expect(nameHint('日本')).toBe(0);
  });
});

describe('Marvin32', () => {
  test('the hashes stored in real HvLE log entries verify', () => {
    const log = readFileSync(regipy('SYSTEM_B.LOG1'));
    const dv = new DataView(log.buffer, log.byteOffset);
    let off = 512;
    let n = 0;
    while (log.subarray(off, off + 4).toString('latin1') === 'HvLE') {
      const size = dv.getUint32(off + 4, true);
      expect(marvin32(log, off + 40, size - 40)).toEqual([dv.getUint32(off + 24, true), dv.getUint32(off + 28, true)]);
      expect(marvin32(log, off, 32)).toEqual([dv.getUint32(off + 32, true), dv.getUint32(off + 36, true)]);
      off += size;
      n++;
    }
    expect(n).toBe(4);
  });
});

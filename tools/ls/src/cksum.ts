// POSIX cksum's CRC (what `guestfs_checksum crc` returns: cksum's first field): CRC-32 with
// polynomial 0x04C11DB7, most significant bit first, no initial inversion, over the data
// and then the length in as few bytes as it needs (least significant first), complemented.

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export interface Cksum {
  update(b: Uint8Array): void;
  digest(): number;
}

export function cksumCrc(): Cksum {
  let crc = 0;
  let length = 0;
  const feed = (byte: number) => {
    crc = ((crc << 8) ^ TABLE[((crc >>> 24) ^ byte) & 0xff]) >>> 0;
  };
  return {
    update(b: Uint8Array) {
      for (let i = 0; i < b.length; i++) feed(b[i]);
      length += b.length;
    },
    digest() {
      let n = length;
      while (n > 0) {
        feed(n % 256);
        n = Math.floor(n / 256);
      }
      return (~crc) >>> 0;
    },
  };
}

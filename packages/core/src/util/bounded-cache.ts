// A bounded cache for parsed structures (NTFS MFT entries, btrfs tree blocks, ...): two
// generations of at most `max` entries each; a hit in the old generation is promoted, a full
// new generation retires the old one. O(1) without the cost of Map deletions (a Map used
// as an LRU slows down as deleted slots pile up).

export class BoundedCache<K, V> {
  private cur = new Map<K, V>();
  private old = new Map<K, V>();
  constructor(private readonly max: number) {}

  get(k: K): V | undefined {
    const v = this.cur.get(k);
    if (v !== undefined) return v;
    const o = this.old.get(k);
    if (o !== undefined) this.set(k, o);
    return o;
  }

  set(k: K, v: V): void {
    if (this.cur.size >= this.max) {
      this.old = this.cur;
      this.cur = new Map();
    }
    this.cur.set(k, v);
  }
}

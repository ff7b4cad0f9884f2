// A bounded cache with least-recently-used-like eviction, in two generations: entries are
// added to the young generation; when it holds half the capacity, it becomes the old one
// and the previous old generation is dropped whole. A hit in the old generation moves the
// entry back to the young one. Every operation is O(1) (no per-entry deletes, which make
// V8 Maps slow to iterate), and at most `capacity` entries are held.
// Holds metadata blocks and parsed inodes of one open filesystem.

export class LruCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly half: number;
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {
    this.half = Math.max(1, Math.floor(capacity / 2));
  }

  get(k: K): V | undefined {
    let v = this.young.get(k);
    if (v !== undefined) {
      this.hits++;
      return v;
    }
    v = this.old.get(k);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.set(k, v);
    return v;
  }

  has(k: K): boolean {
    return this.young.has(k) || this.old.has(k);
  }

  set(k: K, v: V): void {
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(k, v);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
  }
}

// The encoder's chunk cache: chunk text -> its token ids, looked up *in place* (by the chunk's start
// and end in the text) so a cache hit allocates nothing: no substring, no Map key. Most chunks of
// real text are repeats (a 10 MB text has ~2M chunks but ~20k distinct ones), so this lookup is the
// encoder's hot loop. Open addressing over a power-of-two table; FNV-1a hash of the UTF-16 units.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 16777619;

export class ChunkCache {
  private slots: Int32Array; // entry + 1; 0 = empty
  private mask: number;
  private keys: string[] = [];
  private hashes: number[] = [];
  /** the id of a one-token chunk, or -1 when the chunk has several ids (in `multi`) */
  private singles: number[] = [];
  private multi: (number[] | undefined)[] = [];

  /** Up to `limit` entries (then it starts over: text of one kind repeats its chunks quickly). */
  constructor(private readonly limit = 200_000) {
    this.slots = new Int32Array(1 << 12);
    this.mask = this.slots.length - 1;
  }

  get size(): number {
    return this.keys.length;
  }

  static hash(s: string, i: number, j: number): number {
    let h = FNV_OFFSET;
    for (let k = i; k < j; k++) h = Math.imul(h ^ s.charCodeAt(k), FNV_PRIME);
    return h;
  }

  /** The entry for s[i, j) with hash h, or -1. */
  find(s: string, i: number, j: number, h: number): number {
    const len = j - i;
    for (let p = h & this.mask; ; p = (p + 1) & this.mask) {
      const e = this.slots[p] - 1;
      if (e < 0) return -1;
      if (this.hashes[e] === h) {
        const key = this.keys[e];
        if (key.length === len && s.startsWith(key, i)) return e;
      }
    }
  }

  add(key: string, h: number, ids: number[]): number {
    if (this.keys.length >= this.limit) this.clear();
    const e = this.keys.length;
    this.keys.push(key);
    this.hashes.push(h);
    this.singles.push(ids.length === 1 ? ids[0] : -1);
    this.multi.push(ids.length === 1 ? undefined : ids);
    let p = h & this.mask;
    while (this.slots[p] !== 0) p = (p + 1) & this.mask;
    this.slots[p] = e + 1;
    if (this.keys.length * 2 > this.slots.length) this.grow();
    return e;
  }

  /** Append entry e's ids to out. */
  emit(e: number, out: number[]): void {
    const id = this.singles[e];
    if (id >= 0) out.push(id);
    else {
      const ids = this.multi[e]!;
      for (let k = 0; k < ids.length; k++) out.push(ids[k]);
    }
  }

  /** Write entry e's ids into buf at o (buf has room); returns the new end. */
  write(e: number, buf: Uint32Array, o: number): number {
    const id = this.singles[e];
    if (id >= 0) {
      buf[o] = id;
      return o + 1;
    }
    const ids = this.multi[e]!;
    for (let k = 0; k < ids.length; k++) buf[o + k] = ids[k];
    return o + ids.length;
  }

  /** Number of ids of entry e. */
  count(e: number): number {
    return this.singles[e] >= 0 ? 1 : this.multi[e]!.length;
  }

  clear(): void {
    this.slots = new Int32Array(1 << 12);
    this.mask = this.slots.length - 1;
    this.keys = [];
    this.hashes = [];
    this.singles = [];
    this.multi = [];
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let e = 0; e < this.keys.length; e++) {
      let p = this.hashes[e] & mask;
      while (slots[p] !== 0) p = (p + 1) & mask;
      slots[p] = e + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

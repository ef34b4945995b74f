// Step 2 of BPE training: greedy merges over the unique chunks.
//
// Every chunk ("word") becomes a linked list of symbols in a few flat typed arrays; each symbol
// carries its word's count. For every adjacent pair we keep its total count and the positions of its
// left symbol. A merge of (a, b) -> z visits only the positions of (a, b): it rewrites them in
// place and updates the counts of the neighbouring pairs (x, a) -> (x, z) and (b, y) -> (z, y).
// The next pair to merge comes from a lazy max-heap: entries may be stale (their count dropped since
// they were pushed); a popped entry whose count differs from the live count is re-pushed with the
// live count. Ties: the smaller pair, lexicographic on (left id, right id). Deterministic: the result
// depends only on the chunk counts.

const utf8 = new TextEncoder();

export interface TrainResult {
  /** merges[i] = [left, right] -> id 256 + i */
  merges: [number, number][];
  /** tokens[id] = bytes, for ids 0 .. 255 + merges.length */
  tokens: Uint8Array[];
  uniqueChunks: number;
  symbols: number;
}

/** Open-addressing hash table from a pair of ids to a slot number (slots are never deleted). */
class PairTable {
  private mask: number;
  private table: Int32Array; // slot + 1, 0 = empty
  left = new Int32Array(1 << 16);
  right = new Int32Array(1 << 16);
  size = 0;

  constructor(capacityPow2 = 1 << 20) {
    this.table = new Int32Array(capacityPow2);
    this.mask = capacityPow2 - 1;
  }

  private static hash(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0;
  }

  /** The slot of (a, b), created if new. */
  slot(a: number, b: number): number {
    let i = PairTable.hash(a, b) & this.mask;
    for (;;) {
      const s = this.table[i] - 1;
      if (s < 0) break;
      if (this.left[s] === a && this.right[s] === b) return s;
      i = (i + 1) & this.mask;
    }
    const s = this.size++;
    if (s >= this.left.length) {
      this.left = grow(this.left);
      this.right = grow(this.right);
    }
    this.left[s] = a;
    this.right[s] = b;
    this.table[i] = s + 1;
    if (this.size * 2 > this.table.length) this.rehash();
    return s;
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let s = 0; s < this.size; s++) {
      let i = PairTable.hash(this.left[s], this.right[s]) & mask;
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = s + 1;
    }
    this.table = table;
    this.mask = mask;
  }
}

function grow<T extends Int32Array | Float64Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

/** Max-heap of (count, slot) ordered by count, then by the smaller pair. */
class PairHeap {
  private counts: number[] = [];
  private slots: number[] = [];
  constructor(private readonly pairs: PairTable) {}

  get length(): number {
    return this.slots.length;
  }

  private above(i: number, j: number): boolean {
    const ci = this.counts[i], cj = this.counts[j];
    if (ci !== cj) return ci > cj;
    const si = this.slots[i], sj = this.slots[j];
    const li = this.pairs.left[si], lj = this.pairs.left[sj];
    if (li !== lj) return li < lj;
    return this.pairs.right[si] < this.pairs.right[sj];
  }

  private swap(i: number, j: number): void {
    const c = this.counts[i]; this.counts[i] = this.counts[j]; this.counts[j] = c;
    const s = this.slots[i]; this.slots[i] = this.slots[j]; this.slots[j] = s;
  }

  push(count: number, slot: number): void {
    this.counts.push(count);
    this.slots.push(slot);
    let i = this.slots.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Remove the top; returns [count, slot]. */
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.slots[0]];
    const lastC = this.counts.pop()!, lastS = this.slots.pop()!;
    if (this.slots.length > 0) {
      this.counts[0] = lastC;
      this.slots[0] = lastS;
      let i = 0;
      const n = this.slots.length;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < n && this.above(l, m)) m = l;
        if (r < n && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/**
 * Learn up to `numMerges` merges from chunk counts. Stops early when no pair occurs any more
 * (tiny corpora). `onMerge` is called every 256 merges for progress.
 */
export function trainBpe(chunkCounts: Map<string, number>, numMerges: number, onMerge?: (done: number) => void): TrainResult {
  // Flatten: one symbol per UTF-8 byte of every unique chunk.
  const encoded: Uint8Array[] = [];
  let total = 0;
  for (const chunk of chunkCounts.keys()) {
    const b = utf8.encode(chunk);
    encoded.push(b);
    total += b.length;
  }
  const tok = new Int32Array(total);
  const next = new Int32Array(total);
  const prev = new Int32Array(total);
  const freq = new Float64Array(total);
  let p = 0;
  let w = 0;
  for (const count of chunkCounts.values()) {
    const b = encoded[w++];
    for (let i = 0; i < b.length; i++, p++) {
      tok[p] = b[i];
      freq[p] = count;
      prev[p] = i === 0 ? -1 : p - 1;
      next[p] = i === b.length - 1 ? -1 : p + 1;
    }
  }
  encoded.length = 0;

  const pairs = new PairTable();
  let count = new Float64Array(1 << 16);
  let where: (number[] | null)[] = [];
  const slotOf = (a: number, b: number): number => {
    const s = pairs.slot(a, b);
    if (s >= count.length) count = grow(count);
    if (s >= where.length) where.push([]);
    return s;
  };
  for (let i = 0; i < total; i++) {
    if (next[i] < 0) continue;
    const s = slotOf(tok[i], tok[next[i]]);
    count[s] += freq[i];
    where[s]!.push(i);
  }
  const heap = new PairHeap(pairs);
  for (let s = 0; s < pairs.size; s++) heap.push(count[s], s);

  const tokens: Uint8Array[] = Array.from({ length: 256 }, (_, i) => Uint8Array.of(i));
  const merges: [number, number][] = [];
  const touched: number[] = [];
  let touchedMark: Uint8Array = new Uint8Array(1 << 16);

  while (merges.length < numMerges && heap.length > 0) {
    const [c, slot] = heap.pop();
    const live = count[slot];
    if (live !== c) {
      if (live > 0) heap.push(live, slot);
      continue;
    }
    if (live <= 0) break;
    const a = pairs.left[slot], b = pairs.right[slot];
    const z = 256 + merges.length;
    merges.push([a, b]);
    const ta = tokens[a], tb = tokens[b];
    const tz = new Uint8Array(ta.length + tb.length);
    tz.set(ta);
    tz.set(tb, ta.length);
    tokens.push(tz);

    // Left to right within each word, so overlapping runs ("aaa" with (a, a)) merge like the reference.
    const positions = Int32Array.from(where[slot]!).sort();
    where[slot] = null;
    if (touchedMark.length < pairs.size + 4096) touchedMark = new Uint8Array((pairs.size + 4096) * 2);
    for (let k = 0; k < positions.length; k++) {
      const i = positions[k];
      if (tok[i] !== a) continue;
      const j = next[i];
      if (j < 0 || tok[j] !== b) continue;
      const f = freq[i];
      const before = prev[i], after = next[j];
      if (before >= 0) {
        count[slotOf(tok[before], a)] -= f;
        const s = slotOf(tok[before], z);
        count[s] += f;
        where[s]!.push(before);
        if (s >= touchedMark.length) touchedMark = growMark(touchedMark, s);
        if (!touchedMark[s]) { touchedMark[s] = 1; touched.push(s); }
      }
      if (after >= 0) {
        count[slotOf(b, tok[after])] -= f;
        const s = slotOf(z, tok[after]);
        count[s] += f;
        where[s]!.push(i);
        if (s >= touchedMark.length) touchedMark = growMark(touchedMark, s);
        if (!touchedMark[s]) { touchedMark[s] = 1; touched.push(s); }
      }
      count[slot] -= f;
      tok[i] = z;
      tok[j] = -1;
      next[i] = after;
      if (after >= 0) prev[after] = i;
    }
    for (const s of touched) {
      touchedMark[s] = 0;
      if (count[s] > 0) heap.push(count[s], s);
    }
    touched.length = 0;
    if (onMerge && merges.length % 256 === 0) onMerge(merges.length);
  }
  return { merges, tokens, uniqueChunks: chunkCounts.size, symbols: total };
}

function growMark(m: Uint8Array, s: number): Uint8Array {
  const n = new Uint8Array(Math.max(m.length * 2, s + 4096));
  n.set(m);
  return n;
}

// A small seeded PRNG so generated tasks and mixtures are reproducible across machines and runs.
// The seed is first scrambled (a splitmix32-style finalizer) so neighbouring seeds (0, 1, 2, ...)
// give unrelated streams; the stream itself is mulberry32 (32-bit state, good enough for choosing
// words and shuffling, not for cryptography).

export class Rng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    // fold the high bits in so seeds above 2^32 stay distinct from small ones
    this.state = mix32((seed >>> 0) ^ mix32(Math.floor(seed / 2 ** 32) + 0x9e3779b9));
  }

  /** uniform 32-bit unsigned integer (mulberry32) */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** uniform float in [0, 1) */
  random(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** uniform integer in [0, n) */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`int(n) needs a positive integer, got ${n}`);
    return Math.floor(this.random() * n);
  }

  choice<T>(items: ArrayLike<T>): T {
    if (items.length === 0) throw new RangeError('choice() from an empty list');
    return items[this.int(items.length)];
  }

  /** Fisher-Yates shuffle in place; returns the same array */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

// Seeded random numbers: the same seed gives the same numbers on every platform and backend. One
// generator, mulberry32 (32-bit state, period 2^32: enough for init, sampling, choosing words and
// shuffling; not for cryptography), seeded two ways:
// - seededRng and gaussianRng use the seed as the state. Model init, token sampling and the tests pin
//   these streams; engine/sampling.ts's rowSeed spreads the seeds of batch rows.
// - SeededRandom scrambles the seed first (a murmur3-style finalizer), so neighbouring seeds (0, 1, 2,
//   ...: one per generated task item) give unrelated streams. The spelling tasks, the mixtures and the
//   RL order pin these.
// CORE's few-shot picks use eval/py-random.ts instead: they must be the ones Python's random.Random makes.

/** A uniform [0, 1) generator. */
export type Rng = () => number;

/** mulberry32 with the seed as its state. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal numbers by Box-Muller over mulberry32 (uniforms shifted by half a step: never log(0)). */
export function gaussianRng(seed: number): Rng {
  const uniform = seededRng(seed);
  const u = () => uniform() + 0.5 / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Floats, integers, choices and shuffles for generated tasks and data orders, from a scrambled seed. */
export class SeededRandom {
  private readonly uniform: Rng;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    // fold the high bits in so seeds above 2^32 stay distinct from small ones
    this.uniform = seededRng(mix32((seed >>> 0) ^ mix32(Math.floor(seed / 2 ** 32) + 0x9e3779b9)));
  }

  /** uniform float in [0, 1) */
  random(): number {
    return this.uniform();
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

/** The murmur3 32-bit finalizer: every input bit moves every output bit. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

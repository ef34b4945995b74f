// Seeded random numbers shared by initialization, sampling and tests: the same seed gives the same
// numbers on every platform and backend.

/** A uniform [0, 1) generator. */
export type Rng = () => number;

/** mulberry32: a small, fast 32-bit generator (period 2^32), good enough for sampling and init. */
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

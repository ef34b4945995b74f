// bfloat16 rounding, as the CPU's vcvtneps2bf16 does it when the bf16 GEMM packs its operands
// (native/kern_avx512bf16.c): keep the top 16 bits of the float32 (sign, 8 exponent bits, 7 mantissa
// bits), rounding to nearest with ties to even; zero and denormal inputs become a zero of the same sign;
// NaN stays NaN; infinities stay. The relative rounding error is at most 2^-9 (~0.2%).
//
// The ref backend rounds with this before an f64 product (the oracle of the native bf16 matmul), and
// tests round their inputs with it.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** x rounded to the nearest bfloat16 value (returned as a float32 value). */
export function roundToBf16(x: number): number {
  f32[0] = x;
  const u = u32[0];
  if ((u & 0x7f800000) === 0) u32[0] = u & 0x80000000; // zero or denormal: signed zero
  else if ((u & 0x7fffffff) > 0x7f800000) u32[0] = (u | 0x00400000) & 0xffff0000; // NaN: quiet, truncated
  else u32[0] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 0) & 0xffff0000; // ties to even; may carry into infinity
  return f32[0];
}

/** A copy of x[0, n) rounded to bfloat16. */
export function roundArrayToBf16(x: Float32Array, n = x.length): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = roundToBf16(x[i]);
  return out;
}

// The precision of the model's matmuls (the linear layers, forward and both backward products), the CPU
// counterpart of the reference's bf16 autocast on GPU: 'bf16' rounds both inputs of each product to
// bfloat16 (round to nearest even) and sums in f32 into an f32 output; 'f32' multiplies float32 as stored.
// Master weights, gradients, optimizer state, attention and every other kernel stay float32 either way.
//
// Process-wide, 'f32' until a command sets it: the training commands set it from --dtype (src/cli/dtype.ts,
// default bf16 where the backend has bf16 hardware: AVX512_BF16). The backend must take `bf16: true`
// matmuls (Backend.hasBf16Matmul; ref emulates them); native throws a clear error where it cannot.

import type { Backend } from './backend.js';

export type MatmulPrecision = 'bf16' | 'f32';

let precision: MatmulPrecision = 'f32';

export function setMatmulPrecision(p: MatmulPrecision): void {
  if (p !== 'bf16' && p !== 'f32') throw new Error(`matmul precision must be 'bf16' or 'f32', got '${p as string}'`);
  precision = p;
}

export function matmulPrecision(): MatmulPrecision {
  return precision;
}

/** What training uses without --dtype: bf16 where `be` runs it on bf16 hardware, else f32. */
export function defaultMatmulPrecision(be: Backend): MatmulPrecision {
  return be.hasBf16Matmul?.() ? 'bf16' : 'f32';
}

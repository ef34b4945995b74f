// Weights stored in bfloat16 for inference: half the memory of float32 and half the bytes a decode step reads
// (decoding is bound by memory traffic: every weight is read once per token). A d32 model (1.9B parameters)
// holds 3.8 GB of bf16 instead of 7.6 GB of f32.
//
// This file converts a model's matrices to Bf16Buf storage (src/tensor/bf16-buf.ts), which the native and ref
// matmuls read directly. Inference only: a converted weight keeps requiresGrad but loses its gradient buffer, and
// the backward's product through it (dx = dy W) is refused by the backends with BF16_INFERENCE_ONLY. The
// embedding table stays f32: it is read by row lookup (a few rows per token, never through a matmul), so bf16
// would save memory (0.5 GB at d32) but no bandwidth, and the kernels that read it take float32.

import type { Buf } from './backend.js';
import { getBackend } from './backends.js';
import { Bf16Buf, isBf16Buf } from './bf16-buf.js';
import { HostBackend } from './host-backend.js';
import { matmulPrecision, setMatmulPrecision } from './precision.js';
import { Tensor, hostData } from './tensor.js';
import { UserError } from '../common/errors.js';

export { Bf16Buf, isBf16Buf, BF16_INFERENCE_ONLY } from './bf16-buf.js';

/** Anything that holds named parameters: the GPT (src/model/gpt.ts) without importing it from a lower layer. */
export interface NamedWeights {
  readonly params: ReadonlyMap<string, Tensor>;
}

/** The parameters that stay f32: the token embedding table (row lookup, see the top of this file). */
export const keepsF32 = (name: string): boolean => name === 'transformer.wte.weight';

/**
 * Store one weight matrix in bf16, in place: its Tensor keeps shape and identity (the model's blocks point at
 * it), its f32 storage and gradient buffer are dropped, so only this matrix is ever held twice.
 */
export function toBf16Weight(t: Tensor): void {
  if (isBf16Buf(t.data)) return;
  const bf = Bf16Buf.fromFloat32(hostData(t.data).subarray(0, t.size));
  (t as unknown as { data: Buf }).data = bf; // Tensor.data is readonly for its users; conversion is the exception
  t.grad = null;
}

/**
 * Convert a model's weight matrices to bf16 storage, matrix by matrix (each transformer block's c_q, c_k, c_v,
 * attn c_proj, c_fc, mlp c_proj, and lm_head; the embedding table stays f32). Needs a CPU backend (native or
 * ref), whose storage is host memory. Returns how many matrices were converted and the bytes they now take.
 */
export function toBf16Weights(model: NamedWeights): { matrices: number; bytes: number } {
  const be = getBackend();
  if (!(be instanceof HostBackend)) {
    throw new UserError(`bf16 weights need a CPU backend (native or ref); the '${be.name}' backend keeps weights on its device`);
  }
  let matrices = 0, bytes = 0;
  for (const [name, t] of model.params) {
    if (keepsF32(name) || t.shape.length !== 2) continue;
    toBf16Weight(t);
    matrices++;
    bytes += 2 * t.size;
  }
  return { matrices, bytes };
}

/** Whether any parameter of the model is stored in bf16. */
export function hasBf16Weights(model: NamedWeights): boolean {
  for (const t of model.params.values()) if (isBf16Buf(t.data)) return true;
  return false;
}

/**
 * bf16 inference, as `--dtype bf16` asks for it: the weights in bf16 (toBf16Weights), and the matmul precision
 * bf16 where the backend multiplies bf16 on hardware (AVX512_BF16: activations rounded to bf16 too, twice the
 * prefill speed; decoding reads the same bytes either way); elsewhere activations stay f32 and each bf16 weight
 * widens to f32 exactly. Sets this thread's matmul precision; returns a line for the log.
 */
export function inferInBf16(model: NamedWeights): string {
  const { matrices, bytes } = toBf16Weights(model);
  const be = getBackend();
  if (be.hasBf16Matmul?.()) setMatmulPrecision('bf16');
  const gb = (bytes / 1e9).toFixed(2);
  return `weights bf16: ${matrices} matrices in ${gb} GB (embedding table f32); matmuls ` +
    (matmulPrecision() === 'bf16' ? 'bf16 x bf16 with f32 sums (AVX512_BF16)' : 'f32 activations x bf16 weights, f32 sums');
}

// bfloat16 storage of one weight matrix for inference (src/tensor/bf16-weights.ts converts a model): the top 16
// bits of each float32, rounded to nearest with ties to even as src/tensor/bf16.ts and the CPU's vcvtneps2bf16.
// The native and ref backends' matmul take it as `b` in the linear layout (op.linear: x @ W^T, W stored
// [out, in]); the native kernels widen each weight to f32 exactly while reading it, or, at matmul precision bf16
// (AVX512_BF16), multiply on vdpbf16ps with x rounded to bf16 too. Any other use of it as a kernel operand (the
// backward's dx = dy W, an optimizer step) is refused with BF16_INFERENCE_ONLY.

import type { Buf, DeviceBuf } from './backend.js';

/** Why a backward through a bf16 weight fails: the one message every backend gives. */
export const BF16_INFERENCE_ONLY = 'this weight is stored in bf16 for inference (--dtype bf16 / toBf16Weights): ' +
  'it has no gradient and cannot be trained; load the model with --dtype f32 to train or finetune it';

/** bfloat16 storage: a length (in elements) and views, like a Float32Array's subarray, over bf16 bits. */
export class Bf16Buf implements DeviceBuf {
  constructor(readonly bits: Uint16Array) {}

  get length(): number { return this.bits.length; }

  subarray(begin: number, end?: number): Bf16Buf { return new Bf16Buf(this.bits.subarray(begin, end)); }

  /** The values as float32 (exact: every bf16 is a float32). */
  toFloat32(): Float32Array {
    const out = new Float32Array(this.bits.length);
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < u.length; i++) u[i] = this.bits[i] << 16;
    return out;
  }

  /** x rounded to bf16 (nearest, ties to even; zero and denormals to a signed zero; NaN stays NaN). */
  static fromFloat32(x: Float32Array): Bf16Buf {
    const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
    const bits = new Uint16Array(x.length);
    for (let i = 0; i < u.length; i++) {
      const v = u[i];
      if ((v & 0x7f800000) === 0) bits[i] = (v >>> 16) & 0x8000;
      else if ((v & 0x7fffffff) > 0x7f800000) bits[i] = (v >>> 16) | 0x40;
      else bits[i] = (v + 0x7fff + ((v >>> 16) & 1)) >>> 16; // the carry may round up into infinity, as the CPU
    }
    return new Bf16Buf(bits);
  }
}

export function isBf16Buf(b: Buf): b is Bf16Buf {
  return b instanceof Bf16Buf;
}

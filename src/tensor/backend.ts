// The backend interface: every numeric kernel the engine needs, on flat row-major float32 buffers.
//
// The tensor engine (tensor.ts, ops.ts) owns shapes and autograd; a backend only runs kernels.
// Backends today: `ref` (plain TypeScript loops, the oracle for tests) and `native` (our C addon,
// AVX-512/AVX2, all cores) keep buffers in host memory as Float32Array; `webgpu` keeps them on the GPU
// (a DeviceBuf: a length and views, no element access). Kernels on a device are queued and run in
// order; reading values back to the host is always explicit and asynchronous (`read`), never implicit,
// and every reduction the model and optimizer need (sums, norms, gradient clipping) stays on the device.
//
// Conventions for every kernel:
// - All sizes are element counts; all buffers are contiguous, row-major, float32 unless typed otherwise.
// - `accumulate` true means `out += result` (used by backward passes that sum gradients), false `out = result`.
// - Kernels never allocate output buffers; the caller (the engine's arena) passes them in.

/** Storage of a device backend (GPU memory): a length and views of it, never element access from the host. */
export interface DeviceBuf {
  readonly length: number;
  /** elements [begin, end) of the same storage, as Float32Array.subarray */
  subarray(begin: number, end?: number): DeviceBuf;
}

/** A backend's float32 buffer: a Float32Array on the CPU backends, a DeviceBuf on a device. */
export type Buf = Float32Array | DeviceBuf;

/** C[b] = op(A[b]) @ op(B[b])  (+ C[b] when accumulate), for b in [0, batch). */
export interface MatmulParams {
  batch: number;
  /** rows of op(A) and C */
  M: number;
  /** cols of op(B) and C */
  N: number;
  /** inner dimension */
  K: number;
  /** A is stored [K, M] (we use its transpose) instead of [M, K] */
  transA: boolean;
  /** B is stored [N, K] (we use its transpose) instead of [K, N] */
  transB: boolean;
  accumulate: boolean;
  /**
   * Round op(A) and op(B) to bfloat16 (nearest, ties to even: src/tensor/bf16.ts) before multiplying; sums and C
   * stay float32, the input buffers are not changed. For backends where hasBf16Matmul() is true, and ref.
   */
  bf16?: boolean;
  /**
   * The caller promises C is symmetric (M = N): op(A) op(B) is, X X^T or A A with A symmetric, and so is C when
   * accumulating. A backend may then compute the upper triangle and mirror it (native does: half the work of
   * Muon's Newton-Schulz products); the others compute the whole product, which is the same matrix.
   */
  symmetric?: boolean;
  /** element offsets between consecutive batch matrices; 0 broadcasts one matrix. Defaults: M*K, K*N, M*N. */
  strideA?: number;
  strideB?: number;
  strideC?: number;
}

/**
 * Causal attention shape. q: [B, Tq, H, D]; k, v: [B, Tk, Hkv, D] (batch stride kvBatchStride, default Tk*Hkv*D,
 * so a KV cache allocated for Tmax positions can be passed directly); out: [B, Tq, H, D]; lse: [B, H, Tq].
 * Query i (0-based within Tq) sits at absolute position (Tk - Tq + i) and attends keys j <= that position.
 * Grouped-query: query head h reads kv head floor(h / (H / Hkv)).
 */
export interface AttentionShape {
  B: number;
  Tq: number;
  Tk: number;
  H: number;
  Hkv: number;
  D: number;
  scale: number;
  kvBatchStride?: number;
}

/**
 * Rotary embedding on x: [B, T, H, D], its tokens at positions pos0 .. pos0+T-1 of the tables cos, sin
 * [>= pos0 + T, D/2]. Channel i pairs with channel i + D/2: y1 = x1 cos + x2 sin, y2 = -x1 sin + x2 cos.
 */
export interface RopeParams {
  B: number;
  T: number;
  H: number;
  D: number;
  pos0: number;
  /** rotate by the negative angle, which is exactly the backward (the rotation is orthogonal) */
  inverse: boolean;
  accumulate: boolean;
}

/** One timed peak: FLOP/s of the best run, the instruction set and FMA chains it used, threads, runs timed. */
export interface PeakMeasurement { flops: number; isa: string; chains: number; threads: number; runs: number }

export interface Backend {
  readonly name: string;
  /** worker threads the backend computes with (1 for ref) */
  readonly threads: number;

  // ---- storage
  /** n zeroed floats of this backend's storage (a Float32Array on the CPU backends) */
  alloc(n: number): Buf;
  /**
   * Give storage from alloc back: a device frees it once the work queued before is submitted; the CPU backends
   * leave it to the garbage collector.
   */
  release(buf: Buf): void;
  /** dst[0 .. src.length) = src, host values into backend storage, in order with the kernels queued before */
  write(dst: Buf, src: Float32Array): void;
  /** A host copy of src, once every kernel queued before it has run. */
  read(src: Buf): Promise<Float32Array>;

  // ---- linear algebra
  matmul(a: Buf, b: Buf, c: Buf, p: MatmulParams): void;
  /** dst[c * rows + r] = src[r * cols + c] */
  transpose(src: Buf, dst: Buf, rows: number, cols: number): void;

  // ---- elementwise (n elements)
  fill(dst: Buf, value: number, n: number): void;
  copy(src: Buf, dst: Buf, n: number): void;
  /** out = a + b, or out += a + b when accumulate */
  add(a: Buf, b: Buf, out: Buf, n: number, accumulate: boolean): void;
  /** out = a * b, or out += a * b */
  mul(a: Buf, b: Buf, out: Buf, n: number, accumulate: boolean): void;
  /** out = alpha * x, or out += alpha * x (axpy) */
  scale(x: Buf, alpha: number, out: Buf, n: number, accumulate: boolean): void;
  /** dst += t * (src - dst)   (momentum buffers: lerp toward the gradient) */
  lerp(dst: Buf, src: Buf, t: number, n: number): void;
  /** out[0] = sum of x[0 .. n), accumulated in float64 on the CPU backends (in f32 pairs on a device) */
  sum(x: Buf, n: number, out: Buf): void;
  /** dst = src[0] in every element of dst[0 .. n) (dst += with accumulate): a scalar's gradient, broadcast */
  broadcast(src: Buf, dst: Buf, n: number, accumulate: boolean): void;
  /** x /= sqrt(sum x^2) + eps: the Frobenius normalization before Newton-Schulz (Muon) */
  normalize(x: Buf, n: number, eps: number): void;
  /**
   * PyTorch's clip_grad_norm_ over all buffers together: norm[0] = sqrt(sum over buffers of sum g^2); when
   * maxNorm > 0 and the norm exceeds it, every buffer is scaled by maxNorm / (norm + 1e-6). Fixed summation order.
   */
  clipGradNorm(grads: readonly Buf[], sizes: readonly number[], maxNorm: number, norm: Buf): void;

  // ---- activations
  /** y = relu(x)^2 */
  reluSquaredForward(x: Buf, y: Buf, n: number): void;
  /** dx (+)= dy * 2 * relu(x) */
  reluSquaredBackward(dy: Buf, x: Buf, dx: Buf, n: number, accumulate: boolean): void;
  /** y = cap * tanh(x / cap) */
  softcapForward(x: Buf, y: Buf, n: number, cap: number): void;
  /** dx (+)= dy * (1 - (y / cap)^2), from the saved output y */
  softcapBackward(dy: Buf, y: Buf, dx: Buf, n: number, cap: number, accumulate: boolean): void;

  // ---- normalization: RMSNorm without weight over the last dimension
  /** y = x * rstd, rstd[r] = 1 / sqrt(mean(x[r]^2) + eps) */
  rmsnormForward(x: Buf, y: Buf, rstd: Buf, rows: number, dim: number, eps: number): void;
  /** dx (+)= rstd * (dy - y * mean(dy * y)), from the saved output y and rstd */
  rmsnormBackward(dy: Buf, y: Buf, rstd: Buf, dx: Buf, rows: number, dim: number, accumulate: boolean): void;

  // ---- rotary embedding, see RopeParams
  /** dst = src rotated (dst += with accumulate); dst must not alias src. */
  rope(src: Buf, dst: Buf, cos: Buf, sin: Buf, p: RopeParams): void;

  // ---- fused causal self-attention (scores, softmax, weighted sum), see AttentionShape
  /** out = softmax(scale * q k^T + causal mask) v; lse[b, h, i] = log-sum-exp of the scaled scores of row i */
  attentionForward(q: Buf, k: Buf, v: Buf, out: Buf, lse: Buf, s: AttentionShape): void;
  /** Accumulates into dq, dk, dv (the caller zeroes them first when needed). Needs the forward's out and lse. */
  attentionBackward(dout: Buf, q: Buf, k: Buf, v: Buf, out: Buf, lse: Buf, dq: Buf, dk: Buf, dv: Buf, s: AttentionShape): void;

  // ---- embedding: table [V, C], ids [n]
  embeddingForward(table: Buf, ids: Int32Array, out: Buf, n: number, dim: number): void;
  /** dtable[ids[i]] += dout[i] (scatter-add) */
  embeddingBackward(dout: Buf, ids: Int32Array, dtable: Buf, n: number, dim: number): void;

  // ---- cross-entropy fused with log-softmax; logits [rows, V] (row stride `stride` >= V, for padded vocabularies)
  /**
   * losses[r] = logsumexp(logits[r, :V]) - logits[r, target[r]], or 0 where target[r] == -1 (ignored).
   * lse[r] saved for the backward.
   */
  crossEntropyForward(logits: Buf, targets: Int32Array, losses: Buf, lse: Buf, rows: number, V: number, stride: number): void;
  /**
   * dlogits[r, j] = dloss[r] * (softmax(logits[r])_j - [j == target[r]]) for j < V, 0 for V <= j < stride;
   * whole row 0 where target[r] == -1. Overwrites dlogits (never accumulates).
   */
  crossEntropyBackward(logits: Buf, targets: Int32Array, lse: Buf, dloss: Buf, dlogits: Buf, rows: number, V: number, stride: number): void;
  /**
   * The same loss on soft-capped logits c = cap * tanh(raw / cap), read from the raw rows (the capped array is never
   * stored): losses[r] = logsumexp(c[r, :V]) - c[r, target[r]] (0 where ignored); lse[r] saved for the backward.
   */
  softcapCrossEntropyForward(
    raw: Buf, targets: Int32Array, losses: Buf, lse: Buf, rows: number, V: number, stride: number, cap: number): void;
  /**
   * draw[r, j] = dloss[r] * (softmax(c[r])_j - [j == target[r]]) * (1 - (c[r, j] / cap)^2) for j < V, 0 for the
   * padding and for ignored rows. Overwrites draw (never accumulates).
   */
  softcapCrossEntropyBackward(
    raw: Buf, targets: Int32Array, lse: Buf, dloss: Buf, draw: Buf, rows: number, V: number, stride: number, cap: number): void;

  // ---- optimizer
  /**
   * One bias-corrected AdamW update in place (decoupled weight decay):
   * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps) + lr * wd * p.
   */
  adamwStep(param: Buf, grad: Buf, m: Buf, v: Buf, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number): void;

  // ---- machine
  /** Optional: the most floats one alloc may hold (a GPU's largest storage binding); unbounded when absent. */
  readonly maxBufferElements?: number;
  /**
   * Optional: true where matmul runs `bf16: true` on bf16 hardware now (native: AVX512_BF16 with its avx512
   * kernels). ref emulates bf16 matmuls (the oracle) but leaves this out, so no default ever picks the emulation.
   */
  hasBf16Matmul?(): boolean;
  /**
   * Optional: the float32 peak FLOP/s of this backend on this machine, for MFU: best of `reps` short timed FMA
   * runs on `threads` threads (default all); also names the instruction set and chains the best run used.
   * With precision 'bf16', the peak of its bf16 matmul instruction instead (flops 0, isa 'none' without one).
   */
  measurePeakFlops?(threads?: number, reps?: number, precision?: 'f32' | 'bf16'): PeakMeasurement;
}

// The differentiable operations. Each forward runs a backend kernel into an arena buffer; its backward,
// written right below it, pushes the output gradient into the inputs' gradients.
//
// Notation in comments: dX is the gradient of the final scalar loss with respect to X.

import type { AttentionShape, Buf } from './backend.js';
import { getBackend } from './backends.js';
import { matmulPrecision } from './precision.js';
import { Tensor, activation, arena, gradSlot, gradSlotZeroed, numel, record } from './tensor.js';

const be = () => getBackend();

function sameShape(a: Tensor, b: Tensor, op: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: shapes differ, [${a.shape}] vs [${b.shape}]`);
  }
}

// ---------------------------------------------------------------- matmul

/**
 * C = op(A) @ op(B), 2-D ([M,K] @ [K,N]) or batched over a leading dimension ([Bt,M,K] @ [Bt,K,N]).
 * transA: A is stored [K,M] (batched: [Bt,K,M]); transB: B is stored [N,K].
 * Backward, with A' = op(A), B' = op(B):  dA' = dC B'^T,  dB' = A'^T dC, then undo the transposes.
 * bf16: all three products round their inputs to bfloat16 and sum in f32 (MatmulParams.bf16).
 */
export function matmul(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean; bf16?: boolean } = {}): Tensor {
  const { transA = false, transB = false, bf16 = false } = opts;
  const batched = a.shape.length === 3;
  if (a.shape.length !== b.shape.length || (a.shape.length !== 2 && !batched)) {
    throw new Error(`matmul: need two 2-D or two 3-D tensors, got [${a.shape}] and [${b.shape}]`);
  }
  const Bt = batched ? a.shape[0] : 1;
  if (batched && b.shape[0] !== Bt) throw new Error(`matmul: batch sizes differ, [${a.shape}] vs [${b.shape}]`);
  const [ar, ac] = a.shape.slice(-2), [br, bc] = b.shape.slice(-2);
  const M = transA ? ac : ar, K = transA ? ar : ac;
  const Kb = transB ? bc : br, N = transB ? br : bc;
  if (K !== Kb) throw new Error(`matmul: inner dimensions differ (${K} vs ${Kb}) for [${a.shape}]${transA ? '^T' : ''} @ [${b.shape}]${transB ? '^T' : ''}`);
  const out = activation(batched ? [Bt, M, N] : [M, N]);
  be().matmul(a.data, b.data, out.data, { batch: Bt, M, N, K, transA, transB, accumulate: false, bf16 });
  return record(out, [a, b], () => {
    const dC = out.grad!;
    if (a.requiresGrad) {
      const g = gradSlot(a);
      if (!transA) be().matmul(dC, b.data, g.buf, { batch: Bt, M, N: K, K: N, transA: false, transB: !transB, accumulate: g.accumulate, bf16 });
      else be().matmul(b.data, dC, g.buf, { batch: Bt, M: K, N: M, K: N, transA: transB, transB: true, accumulate: g.accumulate, bf16 });
    }
    if (b.requiresGrad) {
      const g = gradSlot(b);
      if (!transB) be().matmul(a.data, dC, g.buf, { batch: Bt, M: K, N, K: M, transA: !transA, transB: false, accumulate: g.accumulate, bf16 });
      else be().matmul(dC, a.data, g.buf, { batch: Bt, M: N, N: K, K: M, transA: true, transB: transA, accumulate: g.accumulate, bf16 });
    }
  });
}

/**
 * y = x @ W^T for x [..., in] and a PyTorch-layout weight W [out, in] (nn.Linear without bias). The forward
 * and both backward products run at the process's matmul precision (precision.ts: bf16 or f32).
 */
export function linear(x: Tensor, w: Tensor): Tensor {
  const inF = x.shape[x.shape.length - 1];
  if (w.shape.length !== 2 || w.shape[1] !== inF) throw new Error(`linear: weight [${w.shape}] does not take input [${x.shape}]`);
  const rows = x.size / inF;
  const y = matmul(reshape(x, [rows, inF]), w, { transB: true, bf16: matmulPrecision() === 'bf16' });
  return x.shape.length === 2 ? y : reshape(y, [...x.shape.slice(0, -1), w.shape[0]]);
}

// ---------------------------------------------------------------- shape

/**
 * Same values, new shape: shares storage. The gradient is handed through without a copy when x has
 * none yet (the view's gradient buffer becomes x's), else added.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  if (numel(shape) !== x.size) throw new Error(`reshape: [${x.shape}] (${x.size}) cannot become [${shape}] (${numel(shape)})`);
  const out = new Tensor(shape, x.data, false, x.generation !== -1);
  return record(out, [x], () => {
    if (!x.requiresGrad) return;
    if (!x.grad) x.grad = out.grad; // first gradient for x: adopt the buffer, no copy
    else be().add(out.grad!, x.grad, x.grad, x.size, false);
  });
}

/** 2-D transpose (copies). */
export function transpose(x: Tensor): Tensor {
  if (x.shape.length !== 2) throw new Error(`transpose: need a 2-D tensor, got [${x.shape}]`);
  const [r, c] = x.shape;
  const out = activation([c, r]);
  be().transpose(x.data, out.data, r, c);
  return record(out, [x], () => {
    if (!x.requiresGrad) return;
    const g = gradSlot(x);
    if (!g.accumulate) be().transpose(out.grad!, g.buf, c, r);
    else {
      const tmp = arena.alloc(x.size);
      be().transpose(out.grad!, tmp, c, r);
      be().add(tmp, g.buf, g.buf, x.size, false);
    }
  });
}

// ---------------------------------------------------------------- elementwise

/** out = a + b (same shapes).  da = dout, db = dout. */
export function add(a: Tensor, b: Tensor): Tensor {
  sameShape(a, b, 'add');
  const out = activation(a.shape);
  be().add(a.data, b.data, out.data, a.size, false);
  return record(out, [a, b], () => {
    for (const t of [a, b]) {
      if (!t.requiresGrad) continue;
      const g = gradSlot(t);
      be().scale(out.grad!, 1, g.buf, t.size, g.accumulate);
    }
  });
}

/** out = a * b (same shapes).  da = dout * b, db = dout * a. */
export function mul(a: Tensor, b: Tensor): Tensor {
  sameShape(a, b, 'mul');
  const out = activation(a.shape);
  be().mul(a.data, b.data, out.data, a.size, false);
  return record(out, [a, b], () => {
    if (a.requiresGrad) { const g = gradSlot(a); be().mul(out.grad!, b.data, g.buf, a.size, g.accumulate); }
    if (b.requiresGrad) { const g = gradSlot(b); be().mul(out.grad!, a.data, g.buf, b.size, g.accumulate); }
  });
}

/** out = s * x.  dx = s * dout. */
export function scale(x: Tensor, s: number): Tensor {
  const out = activation(x.shape);
  be().scale(x.data, s, out.data, x.size, false);
  return record(out, [x], () => {
    if (!x.requiresGrad) return;
    const g = gradSlot(x);
    be().scale(out.grad!, s, g.buf, x.size, g.accumulate);
  });
}

/** out = relu(x)^2 (the MLP nonlinearity).  dx = dout * 2 relu(x). */
export function reluSquared(x: Tensor): Tensor {
  const out = activation(x.shape);
  be().reluSquaredForward(x.data, out.data, x.size);
  return record(out, [x], () => {
    if (!x.requiresGrad) return;
    const g = gradSlot(x);
    be().reluSquaredBackward(out.grad!, x.data, g.buf, x.size, g.accumulate);
  });
}

/** out = cap * tanh(x / cap) (logit soft-capping, cap 15).  dx = dout * (1 - (out/cap)^2). */
export function softcap(x: Tensor, cap: number): Tensor {
  const out = activation(x.shape);
  be().softcapForward(x.data, out.data, x.size, cap);
  return record(out, [x], () => {
    if (!x.requiresGrad) return;
    const g = gradSlot(x);
    be().softcapBackward(out.grad!, out.data, g.buf, x.size, cap, g.accumulate);
  });
}

// ---------------------------------------------------------------- reductions

/** Sum of all elements, a scalar.  dx = dout (broadcast). */
export function sum(x: Tensor): Tensor {
  const out = activation([1]);
  be().sum(x.data, x.size, out.data);
  return record(out, [x], () => {
    if (!x.requiresGrad) return;
    const g = gradSlot(x);
    be().broadcast(out.grad!, g.buf, x.size, g.accumulate);
  });
}

/** Mean of all elements, a scalar.  dx = dout / n. */
export function mean(x: Tensor): Tensor {
  return scale(sum(x), 1 / x.size);
}

// ---------------------------------------------------------------- model pieces

/** RMSNorm without weight over the last dimension: y = x / sqrt(mean(x^2) + eps). */
export function rmsnorm(x: Tensor, eps = 1.1920929e-7): Tensor {
  const dim = x.shape[x.shape.length - 1], rows = x.size / dim;
  const out = activation(x.shape);
  const rstd = arena.alloc(rows);
  be().rmsnormForward(x.data, out.data, rstd, rows, dim, eps);
  return record(out, [x], () => {
    if (!x.requiresGrad) return;
    const g = gradSlot(x);
    be().rmsnormBackward(out.grad!, out.data, rstd, g.buf, rows, dim, g.accumulate);
  });
}

/**
 * Rotary position embedding on x [B, T, H, D] with tables cos, sin [Tmax, D/2]: the T tokens of a row sit at
 * positions pos0 .. pos0+T-1, pos0 being one number for every row or one per row (batched decoding, where
 * each row is a different sequence). The rotation is orthogonal, so the backward is the inverse rotation of dout.
 */
export function rope(x: Tensor, cos: Float32Array, sin: Float32Array, pos0: number | readonly number[] = 0): Tensor {
  if (x.shape.length !== 4) throw new Error(`rope: need [B, T, H, D], got [${x.shape}]`);
  const [B, T, H, D] = x.shape;
  if (D % 2) throw new Error(`rope: head dim ${D} must be even`);
  if (typeof pos0 !== 'number' && pos0.length !== B) {
    throw new Error(`rope: ${pos0.length} start positions for ${B} rows`);
  }
  const end = (typeof pos0 === 'number' ? pos0 : Math.max(...pos0)) + T;
  if (cos.length < end * (D / 2)) throw new Error(`rope: tables cover ${cos.length / (D / 2)} positions, need ${end}`);
  const rotate = (src: Buf, dst: Buf, inverse: boolean, accumulate: boolean): void => {
    if (typeof pos0 === 'number') return be().rope(src, dst, cos, sin, { B, T, H, D, pos0, inverse, accumulate });
    const n = T * H * D, row = (buf: Buf, b: number) => buf.subarray(b * n, (b + 1) * n);
    pos0.forEach((start, b) => be().rope(row(src, b), row(dst, b), cos, sin,
      { B: 1, T, H, D, pos0: start, inverse, accumulate }));
  };
  const out = activation(x.shape);
  rotate(x.data, out.data, false, false);
  return record(out, [x], () => {
    if (!x.requiresGrad) return;
    const g = gradSlot(x);
    rotate(out.grad!, g.buf, true, g.accumulate);
  });
}

/** cos/sin tables for rotary embeddings: position t, channel pair i rotates by t * base^(-2i/D). */
export function rotaryTables(maxLen: number, headDim: number, base = 10000): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(maxLen * half), sin = new Float32Array(maxLen * half);
  for (let t = 0; t < maxLen; t++) {
    for (let i = 0; i < half; i++) {
      const ang = t * Math.pow(base, (-2 * i) / headDim);
      cos[t * half + i] = Math.cos(ang);
      sin[t * half + i] = Math.sin(ang);
    }
  }
  return { cos, sin };
}

/**
 * Fused causal self-attention: q [B, T, H, D], k and v [B, T, Hkv, D] (grouped-query when Hkv < H),
 * out = softmax(q k^T / sqrt(D) + causal mask) v, [B, T, H, D]. The backward recomputes the
 * probabilities from the saved log-sum-exp (flash-attention style), so no T x T matrix is stored.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  if (q.shape.length !== 4 || k.shape.length !== 4) throw new Error(`attention: need [B, T, H, D] tensors, got [${q.shape}], [${k.shape}]`);
  sameShape(k, v, 'attention k/v');
  const [B, T, H, D] = q.shape;
  const Hkv = k.shape[2];
  if (k.shape[0] !== B || k.shape[1] !== T || k.shape[3] !== D || H % Hkv) {
    throw new Error(`attention: q [${q.shape}] and k [${k.shape}] do not fit (need the same B, T, D and H a multiple of Hkv)`);
  }
  const s: AttentionShape = { B, Tq: T, Tk: T, H, Hkv, D, scale: 1 / Math.sqrt(D) };
  const out = activation(q.shape);
  const lse = arena.alloc(B * H * T);
  be().attentionForward(q.data, k.data, v.data, out.data, lse, s);
  return record(out, [q, k, v], () => {
    // the kernel accumulates into all three, so they must exist (zeroed if fresh)
    const dq = q.requiresGrad ? gradSlotZeroed(q) : arena.alloc(q.size, true);
    const dk = k.requiresGrad ? gradSlotZeroed(k) : arena.alloc(k.size, true);
    const dv = v.requiresGrad ? gradSlotZeroed(v) : arena.alloc(v.size, true);
    be().attentionBackward(out.grad!, q.data, k.data, v.data, out.data, lse, dq, dk, dv, s);
  });
}

/** Rows of `table` [V, C] picked by ids: out [...idsShape, C].  dtable[ids[i]] += dout[i]. */
export function embedding(table: Tensor, ids: Int32Array, idsShape: readonly number[]): Tensor {
  const [V, C] = table.shape;
  const n = ids.length;
  if (numel(idsShape) !== n) throw new Error(`embedding: ids shape [${idsShape}] has ${numel(idsShape)} elements, got ${n} ids`);
  for (let i = 0; i < n; i++) {
    if (ids[i] < 0 || ids[i] >= V || !Number.isInteger(ids[i])) throw new Error(`embedding: token id ${ids[i]} at position ${i} is outside the vocabulary [0, ${V})`);
  }
  const out = activation([...idsShape, C]);
  be().embeddingForward(table.data, ids, out.data, n, C);
  return record(out, [table], () => {
    if (!table.requiresGrad) return;
    be().embeddingBackward(out.grad!, ids, gradSlotZeroed(table), n, C);
  });
}

/**
 * Cross-entropy of logits [N, Vpad] (only the first V columns are real classes; the rest is padding)
 * against targets [N] (-1 = ignored).
 * reduction 'mean': a scalar, the mean over non-ignored targets; 'sum': their sum; 'none': [N] losses (0 where ignored).
 * Fused with log-softmax: dlogits = dloss * (softmax(logits) - onehot(target)).
 */
export function crossEntropy(logits: Tensor, targets: Int32Array, V: number, reduction: 'mean' | 'sum' | 'none' = 'mean'): Tensor {
  const [N, stride] = logits.shape;
  const count = countTargets('crossEntropy', logits, targets, V);
  const losses = activation([N]);
  const lse = arena.alloc(N);
  be().crossEntropyForward(logits.data, targets, losses.data, lse, N, V, stride);
  const perToken = record(losses, [logits], () => {
    if (!logits.requiresGrad) return;
    const g = gradSlot(logits);
    if (!g.accumulate) be().crossEntropyBackward(logits.data, targets, lse, losses.grad!, g.buf, N, V, stride);
    else {
      const tmp = arena.alloc(logits.size);
      be().crossEntropyBackward(logits.data, targets, lse, losses.grad!, tmp, N, V, stride);
      be().add(tmp, g.buf, g.buf, logits.size, false);
    }
  });
  return reduce(perToken, count, reduction);
}

/**
 * crossEntropy(softcap(raw, cap), targets, V, reduction), fused into one kernel pair on the raw lm_head output [N, Vpad]:
 * the capped logits c = cap * tanh(raw / cap) are computed row by row and never stored (the forward saves the
 * log-sum-exp of each row; the backward recomputes c). Since d/dz [cap tanh(z / cap)] = 1 - tanh^2(z / cap),
 *   draw = dloss * (softmax(c) - onehot(target)) * (1 - (c / cap)^2),   0 on the padding and on ignored rows.
 * On a d4 step (8192 rows x Vpad 8192) this skips writing and re-reading two 256 MiB arrays (c and dc).
 */
export function softcapCrossEntropy(
  raw: Tensor, targets: Int32Array, V: number, cap: number, reduction: 'mean' | 'sum' | 'none' = 'mean',
): Tensor {
  const [N, stride] = raw.shape;
  const count = countTargets('softcapCrossEntropy', raw, targets, V);
  if (!(cap > 0 && Number.isFinite(cap))) {
    throw new Error(`softcapCrossEntropy: cap must be positive and finite, got ${cap}`);
  }
  const losses = activation([N]);
  const lse = arena.alloc(N);
  be().softcapCrossEntropyForward(raw.data, targets, losses.data, lse, N, V, stride, cap);
  const perToken = record(losses, [raw], () => {
    if (!raw.requiresGrad) return;
    const g = gradSlot(raw);
    if (!g.accumulate) be().softcapCrossEntropyBackward(raw.data, targets, lse, losses.grad!, g.buf, N, V, stride, cap);
    else {
      const tmp = arena.alloc(raw.size);
      be().softcapCrossEntropyBackward(raw.data, targets, lse, losses.grad!, tmp, N, V, stride, cap);
      be().add(tmp, g.buf, g.buf, raw.size, false);
    }
  });
  return reduce(perToken, count, reduction);
}

/** Checks logits [N, >= V] against targets [N] (each in [0, V) or the ignore index -1); returns how many are not ignored. */
function countTargets(name: string, logits: Tensor, targets: Int32Array, V: number): number {
  const [N, stride] = logits.shape;
  if (logits.shape.length !== 2 || targets.length !== N) {
    throw new Error(`${name}: logits [${logits.shape}] need ${logits.shape[0]} targets, got ${targets.length}`);
  }
  if (V > stride) throw new Error(`${name}: V=${V} exceeds the logits width ${stride}`);
  let count = 0;
  for (let i = 0; i < N; i++) {
    const t = targets[i];
    if (t === -1) continue;
    if (t < 0 || t >= V || !Number.isInteger(t)) {
      throw new Error(`${name}: target ${t} at row ${i} is outside [0, ${V}) and not the ignore index -1`);
    }
    count++;
  }
  return count;
}

/** Per-token losses [N] to the requested reduction: 'none' as is, 'sum', or 'mean' over the `count` real targets. */
function reduce(perToken: Tensor, count: number, reduction: 'mean' | 'sum' | 'none'): Tensor {
  if (reduction === 'none') return perToken;
  const total = sum(perToken);
  return reduction === 'sum' ? total : scale(total, 1 / Math.max(count, 1));
}

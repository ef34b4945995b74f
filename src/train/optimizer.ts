// The optimizer: one object, two kinds of parameter groups, with nanochat's settings.
//
// - AdamW for the embedding and the lm_head: betas (0.8, 0.95), eps 1e-10, no weight decay,
//   bias-corrected. Learning rates 0.2 (embedding) and 0.004 (head), both times (C/768)^-0.5.
// - Muon for every 2-D matrix inside the blocks: Nesterov momentum (0.85 -> 0.95 over the first 300
//   steps in base and mid training; 0.95 throughout in SFT and RL, see constantMuonMomentum), then the
//   update is orthogonalized by 5 Newton-Schulz iterations and scaled by sqrt(max(1, rows/cols)); lr 0.02.
//
// Every group's lr is multiplied by the schedule's multiplier each step (setLrMultiplier). State
// (moments, momentum buffers, step count) is exposed as named buffers for checkpoints.

import type { Backend, Buf } from '../tensor/backend.js';
import { getBackend } from '../tensor/backends.js';
import { matmulPrecision } from '../tensor/precision.js';
import { BF16_INFERENCE_ONLY, isBf16Buf } from '../tensor/bf16-buf.js';
import { UserError } from '../common/errors.js';
import type { MuonGroup, ParamGroup } from '../tensor/param-groups.js';


/**
 * The groups with Muon's momentum held at `momentum` from step 0 (no ramp). The reference ramps 0.85 -> 0.95
 * only in base and mid training; its SFT and RL leave Muon at its default 0.95: the model is trained already,
 * and the ramp's low early momentum is for a fresh start.
 */
export function constantMuonMomentum(groups: ParamGroup[], momentum = 0.95): ParamGroup[] {
  return groups.map((g) => (g.kind === 'muon' ? { ...g, momentumStart: momentum, momentumEnd: momentum } : g));
}

/** Quintic Newton-Schulz coefficients (a, b, c): X <- a X + (b A + c A^2) X with A = X X^T. */
const NS_COEFFS = [3.4445, -4.775, 2.0315] as const;

export class Optimizer {
  step = 0;
  lrMultiplier = 1;
  /** per-parameter state buffers by parameter name: AdamW 'm' and 'v', Muon 'momentum' */
  readonly state = new Map<string, Record<string, Buf>>();
  private scratch = new Map<string, Buf>();

  constructor(readonly groups: ParamGroup[]) {
    for (const g of groups) for (const { name, tensor } of g.params) {
      if (this.state.has(name)) throw new Error(`optimizer: parameter '${name}' is in two groups`);
      if (!tensor.isParameter) throw new Error(`optimizer: '${name}' is not a parameter (make it with Tensor.parameter)`);
      if (isBf16Buf(tensor.data)) throw new UserError(`optimizer: '${name}': ${BF16_INFERENCE_ONLY}`);
      tensor.ensureGrad();
      if (g.kind === 'muon' && tensor.shape.length !== 2) throw new Error(`optimizer: Muon needs 2-D matrices, '${name}' is [${tensor.shape}]`);
      this.state.set(name, g.kind === 'adamw'
        ? { m: getBackend().alloc(tensor.size), v: getBackend().alloc(tensor.size) }
        : { momentum: getBackend().alloc(tensor.size) });
    }
  }

  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.tensor.zeroGrad();
  }

  /** Momentum of the Muon groups at the current step (linear ramp). */
  muonMomentum(g: MuonGroup): number {
    const frac = Math.min(this.step / g.momentumWarmupSteps, 1);
    return (1 - frac) * g.momentumStart + frac * g.momentumEnd;
  }

  /** Apply one update with the current gradients; lr of every group times lrMultiplier. */
  stepAll(): void {
    const be = getBackend();
    for (const g of this.groups) {
      const lr = g.lr * this.lrMultiplier;
      if (g.kind === 'adamw') {
        for (const { name, tensor } of g.params) {
          const s = this.state.get(name)!;
          be.adamwStep(tensor.data, tensor.grad!, s.m, s.v, tensor.size, lr, g.betas[0], g.betas[1], g.eps, g.weightDecay, this.step + 1);
        }
      } else {
        const mom = this.muonMomentum(g);
        for (const { name, tensor } of g.params) {
          const [rows, cols] = tensor.shape;
          const buf = this.state.get(name)!.momentum;
          const grad = tensor.grad!;
          // buf = mom * buf + (1 - mom) * grad;  Nesterov: update = grad + mom * (buf - grad)
          be.lerp(buf, grad, 1 - mom, tensor.size);
          const upd = this.buffer(`upd:${rows}x${cols}`, tensor.size);
          be.copy(grad, upd, tensor.size);
          be.lerp(upd, buf, mom, tensor.size);
          const ortho = this.orthogonalize(be, upd, rows, cols, g.nsSteps);
          be.scale(ortho, -lr * Math.sqrt(Math.max(1, rows / cols)), tensor.data, tensor.size, true);
        }
      }
    }
    this.step++;
  }

  /**
   * Approximate U V^T of G = U S V^T (the nearest semi-orthogonal matrix) by Newton-Schulz iterations on
   * X = G / (|G|_F + 1e-7), with the Gram matrix on the short side: A = X X^T for a wide G (rows <= cols), and
   * for a tall one A = X^T X and the update X <- a X + X (b A + c A^2), the same iteration on X^T without
   * transposing G in and out (two strided passes over the matrix: 1% of a d8 step). The quintic's coefficients
   * trade exactness for speed: singular values land in about [0.7, 1.2] rather than exactly 1, which Muon
   * tolerates. Returns a scratch buffer [rows, cols].
   * At matmul precision bf16 (training's default where the CPU has AVX512_BF16) the products round their inputs
   * to bf16 and sum in f32, as the reference runs Newton-Schulz in bfloat16: these are 17% of a d8 step in f32.
   */
  orthogonalize(be: Backend, G: Buf, rows: number, cols: number, steps: number): Buf {
    const bf16 = matmulPrecision() === 'bf16';
    const tall = rows > cols;
    const r = tall ? cols : rows, c = tall ? rows : cols; // the Gram matrix is r x r, r <= c
    const n = rows * cols;
    let X = this.buffer(`X:${rows}x${cols}`, n);
    be.copy(G, X, n);
    be.normalize(X, n, 1e-7);
    const A = this.buffer(`A:${r}`, r * r), B = this.buffer(`B:${r}`, r * r);
    let Xn = this.buffer(`Xn:${rows}x${cols}`, n);
    const [a, b, cc] = NS_COEFFS;
    for (let i = 0; i < steps; i++) {
      // both Gram products are symmetric: the native backend computes their upper triangles (about half the work)
      be.matmul(X, X, A, { batch: 1, M: r, N: r, K: c, transA: tall, transB: !tall, accumulate: false, bf16, symmetric: true }); // A = X X^T (tall: X^T X)
      be.matmul(A, A, B, { batch: 1, M: r, N: r, K: r, transA: false, transB: false, accumulate: false, bf16, symmetric: true }); // B = A A
      be.scale(B, cc, B, r * r, false);
      be.scale(A, b, B, r * r, true); // B = b A + c A^2
      be.scale(X, a, Xn, n, false);
      if (tall) be.matmul(X, B, Xn, { batch: 1, M: rows, N: cols, K: cols, transA: false, transB: false, accumulate: true, bf16 }); // Xn = a X + X B
      else be.matmul(B, X, Xn, { batch: 1, M: r, N: c, K: r, transA: false, transB: false, accumulate: true, bf16 }); // Xn = a X + B X
      [X, Xn] = [Xn, X];
    }
    return X;
  }

  private buffer(key: string, n: number): Buf {
    let b = this.scratch.get(key);
    if (!b) this.scratch.set(key, (b = getBackend().alloc(n)));
    return b;
  }

  /** Named state buffers for a checkpoint: `<param>.<slot>`, in the backend's storage. */
  stateBuffers(): Map<string, Buf> {
    const out = new Map<string, Buf>();
    for (const [name, slots] of this.state) for (const [slot, buf] of Object.entries(slots)) out.set(`${name}.${slot}`, buf);
    return out;
  }

  /** Restore from buffers made by stateBuffers(); every buffer must be present with the right size. */
  loadStateBuffers(bufs: Map<string, Float32Array>, step: number): void {
    for (const [name, slots] of this.state) for (const [slot, buf] of Object.entries(slots)) {
      const src = bufs.get(`${name}.${slot}`);
      if (!src) throw new Error(`optimizer state has no '${name}.${slot}'`);
      if (src.length !== buf.length) throw new Error(`optimizer state '${name}.${slot}' has ${src.length} values, expected ${buf.length}`);
      getBackend().write(buf, src);
    }
    this.step = step;
  }
}

/**
 * The learning-rate multiplier at step `it` of `total`: constant, then linear to `finalFrac` over the
 * last `warmdownRatio` of the steps (no warmup).
 */
export function lrMultiplier(it: number, total: number, warmdownRatio = 0.2, finalFrac = 0): number {
  const warmdown = Math.round(warmdownRatio * total);
  if (it < total - warmdown) return 1;
  const progress = (total - it) / warmdown;
  return progress + (1 - progress) * finalFrac;
}

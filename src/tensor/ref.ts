// The `ref` backend: every kernel as a plain TypeScript loop. It is the oracle the native kernels are
// tested against, and the fallback when the addon is not built. Clarity over speed (about 3 GFLOP/s).

import type { AttentionShape, Backend, MatmulParams, RopeParams } from './backend.js';
import { HostBackend, type HostBuf } from './host-backend.js';
import { roundArrayToBf16 } from './bf16.js';
import { BF16_INFERENCE_ONLY, isBf16Buf, type Bf16Buf } from './bf16-buf.js';
import { UserError } from '../common/errors.js';

export class RefBackend extends HostBackend implements Backend {
  readonly name = 'ref';
  readonly threads = 1;

  matmul(a: HostBuf, bIn: HostBuf | Bf16Buf, c: HostBuf, p: MatmulParams): void {
    const { batch, M, N, K, transA, transB, accumulate } = p;
    const sA = p.strideA ?? M * K, sB = p.strideB ?? K * N, sC = p.strideC ?? M * N;
    // bf16 weights (inference): their exact f32 values; refused outside the linear layout, as native
    if (isBf16Buf(bIn) && !transB) throw new UserError(BF16_INFERENCE_ONLY);
    let b = isBf16Buf(bIn) ? bIn.toFloat32() : bIn;
    if (p.bf16) { a = roundArrayToBf16(a); b = roundArrayToBf16(b); } // emulated bf16: rounded inputs, f64 sums
    const row = new Float64Array(N);
    for (let bt = 0; bt < batch; bt++) {
      const oA = bt * sA, oB = bt * sB, oC = bt * sC;
      for (let i = 0; i < M; i++) {
        row.fill(0);
        for (let k = 0; k < K; k++) {
          const aik = transA ? a[oA + k * M + i] : a[oA + i * K + k];
          if (aik === 0) continue;
          if (transB) for (let j = 0; j < N; j++) row[j] += aik * b[oB + j * K + k];
          else { const ob = oB + k * N; for (let j = 0; j < N; j++) row[j] += aik * b[ob + j]; }
        }
        const oc = oC + i * N;
        if (accumulate) for (let j = 0; j < N; j++) c[oc + j] += row[j];
        else for (let j = 0; j < N; j++) c[oc + j] = row[j];
      }
    }
  }

  transpose(src: HostBuf, dst: HostBuf, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  }

  fill(dst: HostBuf, value: number, n: number): void { dst.fill(value, 0, n); }
  copy(src: HostBuf, dst: HostBuf, n: number): void { dst.set(src.subarray(0, n)); }

  add(a: HostBuf, b: HostBuf, out: HostBuf, n: number, accumulate: boolean): void {
    if (accumulate) for (let i = 0; i < n; i++) out[i] += a[i] + b[i];
    else for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
  }
  mul(a: HostBuf, b: HostBuf, out: HostBuf, n: number, accumulate: boolean): void {
    if (accumulate) for (let i = 0; i < n; i++) out[i] += a[i] * b[i];
    else for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
  }
  scale(x: HostBuf, alpha: number, out: HostBuf, n: number, accumulate: boolean): void {
    if (accumulate) for (let i = 0; i < n; i++) out[i] += alpha * x[i];
    else for (let i = 0; i < n; i++) out[i] = alpha * x[i];
  }
  lerp(dst: HostBuf, src: HostBuf, t: number, n: number): void {
    for (let i = 0; i < n; i++) dst[i] += t * (src[i] - dst[i]);
  }
  hostSum(x: HostBuf, n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i];
    return s;
  }
  hostSumSquares(x: HostBuf, n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i] * x[i];
    return s;
  }

  reluSquaredForward(x: HostBuf, y: HostBuf, n: number): void {
    for (let i = 0; i < n; i++) { const r = x[i] > 0 ? x[i] : 0; y[i] = r * r; }
  }
  reluSquaredBackward(dy: HostBuf, x: HostBuf, dx: HostBuf, n: number, accumulate: boolean): void {
    for (let i = 0; i < n; i++) {
      const g = x[i] > 0 ? 2 * x[i] * dy[i] : 0;
      dx[i] = accumulate ? dx[i] + g : g;
    }
  }
  softcapForward(x: HostBuf, y: HostBuf, n: number, cap: number): void {
    for (let i = 0; i < n; i++) y[i] = cap * Math.tanh(x[i] / cap);
  }
  softcapBackward(dy: HostBuf, y: HostBuf, dx: HostBuf, n: number, cap: number, accumulate: boolean): void {
    for (let i = 0; i < n; i++) {
      const t = y[i] / cap;
      const g = dy[i] * (1 - t * t);
      dx[i] = accumulate ? dx[i] + g : g;
    }
  }

  rmsnormForward(x: HostBuf, y: HostBuf, rstd: HostBuf, rows: number, dim: number, eps: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * dim;
      let ss = 0;
      for (let i = 0; i < dim; i++) ss += x[o + i] * x[o + i];
      const s = 1 / Math.sqrt(ss / dim + eps);
      rstd[r] = s;
      for (let i = 0; i < dim; i++) y[o + i] = x[o + i] * s;
    }
  }
  rmsnormBackward(dy: HostBuf, y: HostBuf, rstd: HostBuf, dx: HostBuf, rows: number, dim: number, accumulate: boolean): void {
    // y = x * s with s = (mean(x^2) + eps)^-1/2  =>  dx = s * (dy - y * mean(dy * y))
    for (let r = 0; r < rows; r++) {
      const o = r * dim;
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += dy[o + i] * y[o + i];
      const m = dot / dim, s = rstd[r];
      for (let i = 0; i < dim; i++) {
        const g = s * (dy[o + i] - y[o + i] * m);
        dx[o + i] = accumulate ? dx[o + i] + g : g;
      }
    }
  }

  rope(src: HostBuf, dst: HostBuf, cos: HostBuf, sin: HostBuf, p: RopeParams): void {
    const { B, T, H, D, pos0, inverse, accumulate } = p;
    const half = D / 2;
    const sgn = inverse ? -1 : 1;
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
      const tab = (pos0 + t) * half;
      for (let h = 0; h < H; h++) {
        const o = ((b * T + t) * H + h) * D;
        for (let i = 0; i < half; i++) {
          const c = cos[tab + i], s = sgn * sin[tab + i];
          const x1 = src[o + i], x2 = src[o + half + i];
          const y1 = x1 * c + x2 * s, y2 = -x1 * s + x2 * c;
          if (accumulate) { dst[o + i] += y1; dst[o + half + i] += y2; }
          else { dst[o + i] = y1; dst[o + half + i] = y2; }
        }
      }
    }
  }

  attentionForward(q: HostBuf, k: HostBuf, v: HostBuf, out: HostBuf, lse: HostBuf, s: AttentionShape): void {
    const { B, Tq, Tk, H, Hkv, D, scale } = s;
    const kvStride = s.kvBatchStride ?? Tk * Hkv * D;
    const group = H / Hkv, off = Tk - Tq;
    const p = new Float64Array(Tk);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / group);
      for (let i = 0; i < Tq; i++) {
        const qo = ((b * Tq + i) * H + h) * D;
        const last = i + off;
        let mx = -Infinity;
        for (let j = 0; j <= last; j++) {
          const ko = b * kvStride + (j * Hkv + hk) * D;
          let d = 0;
          for (let e = 0; e < D; e++) d += q[qo + e] * k[ko + e];
          p[j] = d * scale;
          if (p[j] > mx) mx = p[j];
        }
        let z = 0;
        for (let j = 0; j <= last; j++) { p[j] = Math.exp(p[j] - mx); z += p[j]; }
        lse[(b * H + h) * Tq + i] = mx + Math.log(z);
        for (let e = 0; e < D; e++) {
          let acc = 0;
          for (let j = 0; j <= last; j++) acc += p[j] * v[b * kvStride + (j * Hkv + hk) * D + e];
          out[qo + e] = acc / z;
        }
      }
    }
  }

  attentionBackward(dout: HostBuf, q: HostBuf, k: HostBuf, v: HostBuf, out: HostBuf, lse: HostBuf, dq: HostBuf, dk: HostBuf, dv: HostBuf, s: AttentionShape): void {
    // P = softmax(S), S = scale q k^T.  dV += P^T dO;  dP = dO V^T;  dS = P * (dP - rowsum(dO * O));
    // dQ += scale dS K;  dK += scale dS^T Q.
    const { B, Tq, Tk, H, Hkv, D, scale } = s;
    const kvStride = s.kvBatchStride ?? Tk * Hkv * D;
    const group = H / Hkv, off = Tk - Tq;
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / group);
      for (let i = 0; i < Tq; i++) {
        const qo = ((b * Tq + i) * H + h) * D;
        const L = lse[(b * H + h) * Tq + i];
        let delta = 0;
        for (let e = 0; e < D; e++) delta += dout[qo + e] * out[qo + e];
        for (let j = 0; j <= i + off; j++) {
          const ko = b * kvStride + (j * Hkv + hk) * D;
          let sc = 0, dp = 0;
          for (let e = 0; e < D; e++) { sc += q[qo + e] * k[ko + e]; dp += dout[qo + e] * v[ko + e]; }
          const pij = Math.exp(sc * scale - L);
          const ds = pij * (dp - delta) * scale;
          for (let e = 0; e < D; e++) {
            dv[ko + e] += pij * dout[qo + e];
            dq[qo + e] += ds * k[ko + e];
            dk[ko + e] += ds * q[qo + e];
          }
        }
      }
    }
  }

  embeddingForward(table: HostBuf, ids: Int32Array, out: HostBuf, n: number, dim: number): void {
    for (let i = 0; i < n; i++) out.set(table.subarray(ids[i] * dim, ids[i] * dim + dim), i * dim);
  }
  embeddingBackward(dout: HostBuf, ids: Int32Array, dtable: HostBuf, n: number, dim: number): void {
    for (let i = 0; i < n; i++) {
      const o = ids[i] * dim;
      for (let e = 0; e < dim; e++) dtable[o + e] += dout[i * dim + e];
    }
  }

  crossEntropyForward(logits: HostBuf, targets: Int32Array, losses: HostBuf, lse: HostBuf, rows: number, V: number, stride: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * stride;
      let mx = -Infinity;
      for (let j = 0; j < V; j++) if (logits[o + j] > mx) mx = logits[o + j];
      let z = 0;
      for (let j = 0; j < V; j++) z += Math.exp(logits[o + j] - mx);
      const l = mx + Math.log(z);
      lse[r] = l;
      const t = targets[r];
      losses[r] = t === -1 ? 0 : l - logits[o + t];
    }
  }
  crossEntropyBackward(logits: HostBuf, targets: Int32Array, lse: HostBuf, dloss: HostBuf, dlogits: HostBuf, rows: number, V: number, stride: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * stride, t = targets[r];
      if (t === -1) { dlogits.fill(0, o, o + stride); continue; }
      const g = dloss[r], l = lse[r];
      for (let j = 0; j < V; j++) dlogits[o + j] = g * Math.exp(logits[o + j] - l);
      dlogits[o + t] -= g;
      dlogits.fill(0, o + V, o + stride);
    }
  }
  // c = cap tanh(z / cap); the max is taken on the raw row (tanh is increasing) and capped once.
  // d/dz [cap tanh(z / cap)] = 1 - tanh^2(z / cap), so draw = dloss (softmax(c) - onehot) (1 - tanh^2).
  softcapCrossEntropyForward(
    raw: HostBuf, targets: Int32Array, losses: HostBuf, lse: HostBuf, rows: number, V: number, stride: number, cap: number,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * stride;
      let zmax = -Infinity;
      for (let j = 0; j < V; j++) if (raw[o + j] > zmax) zmax = raw[o + j];
      const m = cap * Math.tanh(zmax / cap);
      let s = 0;
      for (let j = 0; j < V; j++) s += Math.exp(cap * Math.tanh(raw[o + j] / cap) - m);
      const l = m + Math.log(s);
      lse[r] = l;
      const t = targets[r];
      losses[r] = t === -1 ? 0 : l - cap * Math.tanh(raw[o + t] / cap);
    }
  }
  softcapCrossEntropyBackward(
    raw: HostBuf, targets: Int32Array, lse: HostBuf, dloss: HostBuf, draw: HostBuf, rows: number, V: number, stride: number, cap: number,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * stride, t = targets[r];
      if (t === -1) { draw.fill(0, o, o + stride); continue; }
      const g = dloss[r], l = lse[r];
      for (let j = 0; j < V; j++) {
        const th = Math.tanh(raw[o + j] / cap);
        draw[o + j] = g * (Math.exp(cap * th - l) - (j === t ? 1 : 0)) * (1 - th * th);
      }
      draw.fill(0, o + V, o + stride);
    }
  }

  adamwStep(param: HostBuf, grad: HostBuf, m: HostBuf, v: HostBuf, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number): void {
    const bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
    for (let i = 0; i < n; i++) {
      const g = grad[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      param[i] -= lr * weightDecay * param[i] + lr * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + eps);
    }
  }
}

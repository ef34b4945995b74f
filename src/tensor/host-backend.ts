// What the CPU backends (ref, native) share: storage is a Float32Array in host memory, so alloc, write and read
// are plain array operations, and the reductions the model and optimizer keep "on the device" are sums in float64
// over host memory. A subclass gives the two host sums (plain loops in ref, AVX in native) and `scale`.

import type { Backend, Buf } from './backend.js';
import { isBf16Buf, type Bf16Buf } from './bf16-buf.js';

export type HostBuf = Float32Array;

/** The storage half of the Backend interface for backends that compute on host memory. */
export abstract class HostBackend implements Pick<Backend, 'alloc' | 'release' | 'write' | 'read' | 'sum' | 'broadcast' | 'normalize' | 'clipGradNorm'> {
  /** sum of x[0 .. n), accumulated in float64 */
  abstract hostSum(x: HostBuf, n: number): number;
  /** sum of x[i]^2 over [0, n), accumulated in float64 */
  abstract hostSumSquares(x: HostBuf, n: number): number;
  abstract scale(x: Buf, alpha: number, out: Buf, n: number, accumulate: boolean): void;

  alloc(n: number): HostBuf { return new Float32Array(n); }
  release(_buf: HostBuf): void { /* the garbage collector frees host arrays */ }
  write(dst: HostBuf, src: Float32Array): void { dst.set(src); }
  /** a host copy; a bf16 inference weight (Bf16Buf) comes back widened to f32, exactly */
  read(src: HostBuf | Bf16Buf): Promise<Float32Array> {
    return Promise.resolve(isBf16Buf(src) ? src.toFloat32() : src.slice());
  }

  sum(x: HostBuf, n: number, out: HostBuf): void { out[0] = this.hostSum(x, n); }

  broadcast(src: HostBuf, dst: HostBuf, n: number, accumulate: boolean): void {
    const v = src[0];
    if (accumulate) for (let i = 0; i < n; i++) dst[i] += v;
    else dst.fill(v, 0, n);
  }

  normalize(x: HostBuf, n: number, eps: number): void {
    this.scale(x, 1 / (Math.sqrt(this.hostSumSquares(x, n)) + eps), x, n, false);
  }

  clipGradNorm(grads: readonly HostBuf[], sizes: readonly number[], maxNorm: number, norm: HostBuf): void {
    let squares = 0;
    grads.forEach((g, i) => { squares += this.hostSumSquares(g, sizes[i]); });
    const total = Math.sqrt(squares);
    norm[0] = total;
    if (maxNorm > 0 && total > maxNorm) {
      const coef = maxNorm / (total + 1e-6);
      grads.forEach((g, i) => this.scale(g, coef, g, sizes[i], false));
    }
  }
}

// The matmul benchmark hook for `nanochat bench kernels --backend webgpu`: GFLOP/s of C = A B at M x N x K.

import type { WebGpuBackend } from './backend.js';

/** Timed over `reps` queued repetitions after one warm-up, each run waited for with a read of one element. */
export async function benchWebGpuMatmul(be: WebGpuBackend, M: number, N: number, K: number): Promise<number> {
  const a = be.alloc(M * K), b = be.alloc(K * N), c = be.alloc(M * N);
  try {
    const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 2003) / 2003 - 0.5);
    be.write(a, fill(M * K));
    be.write(b, fill(K * N));
    const p = { batch: 1, M, N, K, transA: false, transB: false, accumulate: false };
    be.matmul(a, b, c, p);
    await be.read(c.subarray(0, 1));
    const flops = 2 * M * N * K;
    // about 4 GFLOP of work (a second on a software adapter), between 3 and 100 repetitions
    const reps = Math.max(3, Math.min(100, Math.round(4e9 / flops)));
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) be.matmul(a, b, c, p);
    await be.read(c.subarray(0, 1));
    const seconds = (performance.now() - t0) / 1000;
    return (flops * reps) / seconds / 1e9;
  } finally {
    be.release(a); be.release(b); be.release(c);
  }
}

// The machine's float32 peak, the denominator of MFU (model FLOPs utilization).
// Order: NANOCHAT_PEAK_GFLOPS if set; else the backend's own measurement (the native addon times an
// FMA loop on every thread, once per process); else 346 GFLOP/s, what that loop measured on the
// 2-core AVX-512 development machine.

import { getBackend } from '../tensor/backends.js';

let cached: { flops: number; source: string } | undefined;

export function machinePeakFlops(): { flops: number; source: string } {
  if (cached) return cached;
  const env = Number(process.env.NANOCHAT_PEAK_GFLOPS);
  if (Number.isFinite(env) && env > 0) return (cached = { flops: env * 1e9, source: 'NANOCHAT_PEAK_GFLOPS' });
  const be = getBackend();
  if (be.measurePeakFlops) return (cached = { flops: be.measurePeakFlops(), source: `measured FMA loop, ${be.threads} threads` });
  return (cached = { flops: 346e9, source: 'assumed: 2-core AVX-512 dev machine' });
}

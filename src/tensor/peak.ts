// The machine's float32 peak, the denominator of MFU (model FLOPs utilization).
// Order: NANOCHAT_PEAK_GFLOPS if set; else the backend's own measurement (the native addon times
// independent FMA chains on every thread, once per process: 448 GFLOP/s on the 2-core AVX-512
// development machine, 227 on one core); else (the ref backend) that development-machine figure.

import { getBackend } from './backends.js';

let cached: { flops: number; source: string } | undefined;

export function machinePeakFlops(): { flops: number; source: string } {
  if (cached) return cached;
  const env = Number(process.env.NANOCHAT_PEAK_GFLOPS);
  if (Number.isFinite(env) && env > 0) return (cached = { flops: env * 1e9, source: 'NANOCHAT_PEAK_GFLOPS' });
  const be = getBackend();
  if (be.measurePeakFlops) return (cached = { flops: be.measurePeakFlops(), source: `measured FMA loop, ${be.threads} threads` });
  return (cached = { flops: 448e9, source: 'assumed: the 2-core AVX-512 development machine' });
}

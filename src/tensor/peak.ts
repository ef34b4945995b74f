// The machine's peak, the denominator of MFU (model FLOPs utilization): the float32 FMA peak, or with bf16
// matmuls the bf16 dot-product peak (vdpbf16ps: two products a lane an instruction, twice the FMA's FLOPs), as
// the reference divides by the GPU's bf16 peak. MFU is only honest if the peak is not too low: a peak
// measured during a busy moment made a training log claim MFU 83-96% on a Zen 3 whose truth was 47-57%, and
// bf16 steps measured against the f32 peak claimed 105%. So the figure is the highest of:
// - this run's measurement: the backend's FMA (or vdpbf16ps) loops, best of 8 short runs (native/peak.c);
// - the best ever measured on this machine, from the cache (peak-cache.ts), which this run raises;
// - a floor computed from the clock (cpu.ts: cores x 2 FMA units x 8 lanes x 2 x "cpu MHz"; for bf16 the
//   same: a CPU with vdpbf16ps runs it at least at its f32 FMA rate).
// NANOCHAT_PEAK_GFLOPS (NANOCHAT_PEAK_BF16_GFLOPS for bf16) overrides them all. AMD EPYC Zen 5, 2 cores,
// AVX-512: f32 448 GFLOP/s on a quiet machine (README), 140-283 beside two training runs (hence the cache);
// one core 259; the computed floor 166.

import type { PeakMeasurement } from './backend.js';
import type { MatmulPrecision } from './precision.js';
import { getBackend } from './backends.js';
import { computedPeakFlops, peakCeilingFlops, readCpu, widestIsa } from './cpu.js';
import { peakCacheKey, peakCachePath, raisePeakCache, readPeakCache, type PeakEntry } from './peak-cache.js';

export interface Peak {
  flops: number;
  /** which figure and how it was obtained, for logs and reports */
  source: string;
  /** this process's own timing (the peak of this moment), when the backend timed one */
  measured?: number;
}

export interface PeakInputs {
  /** NANOCHAT_PEAK_GFLOPS as given */
  env?: string;
  /** this run's measurement, if the backend can time one */
  measured?: PeakMeasurement;
  /** the cache entry as it was before this run */
  cached?: PeakEntry;
  computed?: { flops: number; how: string };
}

/** "448 GFLOP/s" */
export const gf = (flops: number): string => `${(flops / 1e9).toFixed(0)} GFLOP/s`;

/** Pick the figure and say why (pure: the tests call it with made-up inputs). */
export function choosePeak(x: PeakInputs, envName = 'NANOCHAT_PEAK_GFLOPS'): Peak {
  const env = Number(x.env);
  if (x.env !== undefined && x.env !== '' && Number.isFinite(env) && env > 0) {
    return { flops: env * 1e9, source: `${envName}=${x.env}` };
  }
  let best: Peak | undefined;
  const m = x.measured, c = x.cached;
  if (m && m.flops > 0 && (!c || m.flops >= c.gflops * 1e9)) {
    const what = m.isa === 'avx512bf16' ? 'vdpbf16ps' : 'FMA';
    best = { flops: m.flops, source: `measured: best of ${m.runs} ${what} runs, ${m.isa}, ${m.chains} chains, ${m.threads} threads` };
  } else if (c) {
    const now = m && m.flops > 0 ? `; this run measured ${gf(m.flops)}` : '';
    best = { flops: c.gflops * 1e9, source: `cached from ${c.date}: the best measured on this machine (${c.how})${now}` };
  }
  const k = x.computed;
  if (k && (!best || k.flops > best.flops)) {
    const why = best ? `, above the best measured ${gf(best.flops)} (a busy machine?)` : '';
    return { flops: k.flops, source: `computed: ${k.how}${why}` };
  }
  return best ?? { flops: 448e9, source: 'assumed: the 2-core AVX-512 development machine (no measurement, no clock)' };
}

const cached = new Map<MatmulPrecision, Peak>();

/**
 * The peak for this process and matmul precision (measured once each, ~0.4 s with the native backend). A
 * backend without a bf16 instruction has no bf16 peak: its bf16 requests get the f32 one.
 */
export function machinePeakFlops(precision: MatmulPrecision = 'f32'): Peak {
  const had = cached.get(precision);
  if (had) return had;
  const done = (p: Peak): Peak => { cached.set(precision, p); return p; };
  const bf16 = precision === 'bf16', envName = bf16 ? 'NANOCHAT_PEAK_BF16_GFLOPS' : 'NANOCHAT_PEAK_GFLOPS';
  const env = process.env[envName];
  if (env) return done(choosePeak({ env }, envName));
  const be = getBackend(), cpu = readCpu();
  if (bf16 && !be.hasBf16Matmul?.()) return done(machinePeakFlops('f32'));
  const computed = computedPeakFlops(cpu, be.threads);
  if (!be.measurePeakFlops) return done(choosePeak({ computed }));
  let measured: PeakMeasurement | undefined = be.measurePeakFlops(0, 8, precision);
  if (measured.flops <= 0) return done(machinePeakFlops('f32')); // no bf16 instruction after all
  const ceiling = peakCeilingFlops(cpu, measured.threads) * (bf16 ? 2 : 1);
  if (measured.flops > ceiling) {
    process.stderr.write(`nanochat: ignoring a peak of ${gf(measured.flops)}, above ${gf(ceiling)} (2 units at 6 GHz)\n`);
    measured = undefined;
  }
  const file = peakCachePath();
  // keyed by the kernels in use: NANOCHAT_ISA=avx2 on an AVX-512 CPU has a peak of its own, half the zmm one
  const inUse = 'isa' in be && typeof be.isa === 'string' ? be.isa : undefined;
  const isa = bf16 ? 'avx512bf16' : inUse ?? (cpu.flags.size ? widestIsa(cpu) : (measured?.isa ?? 'unknown'));
  const key = peakCacheKey(cpu, isa, be.threads);
  const before = readPeakCache(file)[key];
  if (measured) {
    const how = `best of ${measured.runs} ${bf16 ? 'vdpbf16ps' : 'FMA'} runs, ${measured.isa}, ${measured.chains} chains`;
    raisePeakCache(file, key, { gflops: measured.flops / 1e9, date: new Date().toISOString().slice(0, 10), how });
  }
  const floor = computed && bf16 ? { ...computed, how: `${computed.how} (the f32 FMA floor)` } : computed;
  return done({ ...choosePeak({ measured, cached: before, computed: floor }), measured: measured?.flops });
}

/** One line for bench and training logs: "448 GFLOP/s (measured: ...)". */
export const peakText = (p: Peak): string => `${gf(p.flops)} (${p.source})`;

/** What an MFU figure is a share of: the peak of the precision the matmuls ran in. */
export function mfuBasis(peakFlops: number, precision: MatmulPrecision): string {
  const base = `${(peakFlops / 1e9).toFixed(0)} GFLOP/s`;
  if (precision === 'f32') return `${base}, the f32 FMA peak`;
  return `${base}, the bf16 dot-product peak (matmuls in bf16; the f32 rest counts against it too)`;
}

// The machine's float32 peak, the denominator of MFU (model FLOPs utilization). MFU is only honest if
// the peak is not too low: a peak measured during a busy moment made a training log claim MFU 83-96% on
// a Zen 3 whose truth was 47-57%. So the figure is the highest of:
// - this run's measurement: the backend's FMA loops, best of 8 short runs (native/peak.c);
// - the best ever measured on this machine, from the cache (peak-cache.ts), which this run raises;
// - a floor computed from the clock (cpu.ts: cores x 2 FMA units x 8 lanes x 2 x "cpu MHz").
// NANOCHAT_PEAK_GFLOPS overrides them all. AMD EPYC Zen 5, 2 cores, AVX-512: 448 GFLOP/s on a quiet machine
// (README), 140-283 beside two training runs (hence the cache); one core 259; the computed floor 166.

import type { PeakMeasurement } from './backend.js';
import { getBackend } from './backends.js';
import { computedPeakFlops, peakCeilingFlops, readCpu, widestIsa } from './cpu.js';
import { peakCacheKey, peakCachePath, raisePeakCache, readPeakCache, type PeakEntry } from './peak-cache.js';

export interface Peak {
  flops: number;
  /** which figure and how it was obtained, for logs and reports */
  source: string;
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

const gf = (flops: number): string => `${(flops / 1e9).toFixed(0)} GFLOP/s`;

/** Pick the figure and say why (pure: the tests call it with made-up inputs). */
export function choosePeak(x: PeakInputs): Peak {
  const env = Number(x.env);
  if (x.env !== undefined && x.env !== '' && Number.isFinite(env) && env > 0) {
    return { flops: env * 1e9, source: `NANOCHAT_PEAK_GFLOPS=${x.env}` };
  }
  let best: Peak | undefined;
  const m = x.measured, c = x.cached;
  if (m && m.flops > 0 && (!c || m.flops >= c.gflops * 1e9)) {
    best = { flops: m.flops, source: `measured: best of ${m.runs} FMA runs, ${m.isa}, ${m.chains} chains, ${m.threads} threads` };
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

let cached: Peak | undefined;

/** The peak for this process (measured once, ~0.4 s with the native backend). */
export function machinePeakFlops(): Peak {
  if (cached) return cached;
  const env = process.env.NANOCHAT_PEAK_GFLOPS;
  if (env) return (cached = choosePeak({ env }));
  const be = getBackend(), cpu = readCpu();
  const computed = computedPeakFlops(cpu, be.threads);
  if (!be.measurePeakFlops) return (cached = choosePeak({ computed }));
  let measured: PeakMeasurement | undefined = be.measurePeakFlops();
  const ceiling = peakCeilingFlops(cpu, measured.threads);
  if (measured.flops > ceiling) {
    process.stderr.write(`nanochat: ignoring a peak of ${gf(measured.flops)}, above ${gf(ceiling)} (2 FMA units at 6 GHz)\n`);
    measured = undefined;
  }
  const file = peakCachePath();
  const key = peakCacheKey(cpu, cpu.flags.size ? widestIsa(cpu) : (measured?.isa ?? 'unknown'), be.threads);
  const before = readPeakCache(file)[key];
  if (measured) {
    const how = `best of ${measured.runs} FMA runs, ${measured.isa}, ${measured.chains} chains`;
    raisePeakCache(file, key, { gflops: measured.flops / 1e9, date: new Date().toISOString().slice(0, 10), how });
  }
  return (cached = choosePeak({ measured, cached: before, computed }));
}

/** One line for bench and training logs: "448 GFLOP/s (measured: ...)". */
export const peakText = (p: Peak): string => `${gf(p.flops)} (${p.source})`;

/**
 * What an MFU figure is a share of. The peak is the float32 FMA peak; with bf16 matmuls (vdpbf16ps does
 * twice the multiply-adds of an f32 FMA per instruction) a step can run above it, so the figure says so.
 */
export function mfuBasis(peakFlops: number, precision: 'f32' | 'bf16'): string {
  const base = `${(peakFlops / 1e9).toFixed(0)} GFLOP/s, the f32 FMA peak`;
  return precision === 'bf16' ? `${base} (matmuls in bf16, which can run above it)` : base;
}

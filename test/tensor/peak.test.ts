import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createBackend } from '../../src/tensor/backends.js';
import type { Backend, PeakMeasurement } from '../../src/tensor/backend.js';
import { readCpu } from '../../src/tensor/cpu.js';
import { choosePeak, mfuBasis } from '../../src/tensor/peak.js';
import { NativeBackend } from '../../src/tensor/native.js';
import { eachIsa } from '../helpers/backends.js';

function native(): Backend | undefined {
  try { return createBackend('native'); } catch { return undefined; }
}

test('the native backend measures the machine\'s float32 peak with FMA loops', (t) => {
  const be = native();
  if (!be) { t.skip('native addon not built'); return; }
  const m = be.measurePeakFlops!(0, 2);
  // a 2-core AVX-512 machine measures ~450 GFLOP/s; anything from an old laptop core up is plausible
  assert.ok(Number.isFinite(m.flops) && m.flops > 5e9 && m.flops < 1e14, `peak ${m.flops / 1e9} GFLOP/s`);
  assert.equal(m.threads, be.threads);
  assert.equal(m.runs, 2);
  assert.ok(['avx512', 'avx2', 'generic'].includes(m.isa), m.isa);
  assert.ok(m.chains >= 8, `${m.chains} chains cannot hide 4 cycles of FMA latency on 2 pipes`);
});

test('the bf16 peak is timed on vdpbf16ps loops where the CPU has AVX512_BF16, and is absent elsewhere', (t) => {
  const be = native();
  if (!be) { t.skip('native addon not built'); return; }
  const m = be.measurePeakFlops!(0, 2, 'bf16');
  if (!be.hasBf16Matmul?.()) {
    assert.deepEqual([m.flops, m.isa], [0, 'none']);
    return;
  }
  assert.equal(m.isa, 'avx512bf16');
  assert.ok(Number.isFinite(m.flops) && m.flops > 5e9 && m.flops < 2e14, `bf16 peak ${m.flops / 1e9} GFLOP/s`);
  assert.ok(m.chains >= 12, `${m.chains} chains`);
});

test('the peak is timed on the loops of the kernel table in use (NANOCHAT_ISA=avx2 on an AVX-512 CPU: the ymm peak)', (t) => {
  const be = native();
  if (!be || !(be instanceof NativeBackend)) { t.skip('native addon not built'); return; }
  eachIsa(be, (isa) => {
    const m = be.measurePeakFlops(0, 1);
    // with the avx512 table both widths are timed and the faster wins (Zen 4 runs zmm FMAs at half rate)
    const allowed = isa === 'avx512' ? ['avx512', 'avx2'] : [isa];
    assert.ok(allowed.includes(m.isa), `the ${isa} kernels were timed on ${m.isa} loops`);
    if (isa !== 'avx512') assert.deepEqual([be.measurePeakFlops(0, 1, 'bf16').flops], [0], 'no bf16 peak off the avx512 table');
  });
});

/** CPU seconds the whole machine spent busy so far (/proc/stat, 100 ticks a second), or undefined off Linux. */
function machineBusySeconds(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (f.reduce((a, b) => a + b, 0) - f[3] - f[4]) / 100; // all but idle and iowait
  } catch { return undefined; }
}

test('two threads on two cores reach at least 1.5x the peak of one', (t) => {
  const be = native();
  if (!be) { t.skip('native addon not built'); return; }
  if (be.threads < 2 || readCpu().cores < 2) { t.skip('needs 2 threads on 2 physical cores'); return; }
  // Each thread has its own core's FMA units, so the ideal is 2x. Other work on a shared machine takes a
  // core from the 2-thread run (measured here beside a training run: 1.08x), so an attempt counts only if
  // other processes used under 10% of a core meanwhile; the test skips if none is quiet.
  let ratio = 0, quiet = 0, last = '';
  for (let attempt = 0; attempt < 6 && ratio < 1.5; attempt++) {
    const busy0 = machineBusySeconds(), own0 = process.cpuUsage(), t0 = performance.now();
    const one = be.measurePeakFlops!(1, 4).flops, two = be.measurePeakFlops!(2, 4).flops;
    const wall = (performance.now() - t0) / 1000, own = process.cpuUsage(own0), busy1 = machineBusySeconds();
    const others = busy0 === undefined || busy1 === undefined ? 0 : busy1 - busy0 - (own.user + own.system) / 1e6;
    last = `2 threads ${(two / 1e9).toFixed(0)} GFLOP/s vs 1 thread ${(one / 1e9).toFixed(0)}: ${(two / one).toFixed(2)}x`;
    if (others > 0.1 * wall) continue;
    quiet++;
    ratio = Math.max(ratio, two / one);
  }
  if (!quiet) { t.skip(`the machine was busy with other work in every attempt (last: ${last})`); return; }
  assert.ok(ratio >= 1.5, `best of ${quiet} quiet attempts ${ratio.toFixed(2)}x; last: ${last}`);
});

const m = (gflops: number): PeakMeasurement => ({ flops: gflops * 1e9, isa: 'avx512', chains: 24, threads: 2, runs: 8 });

test('choosePeak: NANOCHAT_PEAK_GFLOPS wins over everything, a bad value is ignored', () => {
  const p = choosePeak({ env: '300', measured: m(400), computed: { flops: 500e9, how: 'x' } });
  assert.deepEqual(p, { flops: 300e9, source: 'NANOCHAT_PEAK_GFLOPS=300' });
  assert.equal(choosePeak({ env: 'fast', measured: m(400) }).flops, 400e9);
});

test('choosePeak: a measurement at or above the cache is used and says how it was measured', () => {
  const p = choosePeak({ measured: m(450), cached: { gflops: 440, date: '2026-11-30', how: 'h' } });
  assert.equal(p.flops, 450e9);
  assert.equal(p.source, 'measured: best of 8 FMA runs, avx512, 24 chains, 2 threads');
});

test('choosePeak: a lower measurement (a busy moment) gives way to the cached best, with its date', () => {
  const p = choosePeak({ measured: m(210), cached: { gflops: 448, date: '2026-11-30', how: 'best of 8 FMA runs, avx512, 24 chains' } });
  assert.equal(p.flops, 448e9);
  assert.equal(p.source, 'cached from 2026-11-30: the best measured on this machine (best of 8 FMA runs, avx512, 24 chains); this run measured 210 GFLOP/s');
});

test('choosePeak: the computed floor replaces a measurement below it, and stands alone without one', () => {
  const computed = { flops: 190e9, how: '2 cores x 2 FMA units x 8 lanes x 2 FLOP x 2970 MHz' };
  const p = choosePeak({ measured: m(108), computed });
  assert.equal(p.flops, 190e9);
  assert.equal(p.source, 'computed: 2 cores x 2 FMA units x 8 lanes x 2 FLOP x 2970 MHz, above the best measured 108 GFLOP/s (a busy machine?)');
  assert.equal(choosePeak({ measured: m(448), computed }).flops, 448e9);
  assert.deepEqual(choosePeak({ computed }), { flops: 190e9, source: `computed: ${computed.how}` });
  assert.match(choosePeak({}).source, /^assumed: /);
});

test('choosePeak: a bf16 measurement names its instruction, and the bf16 override its own variable', () => {
  const bf = { flops: 900e9, isa: 'avx512bf16', chains: 24, threads: 2, runs: 8 };
  assert.equal(choosePeak({ measured: bf }).source, 'measured: best of 8 vdpbf16ps runs, avx512bf16, 24 chains, 2 threads');
  assert.deepEqual(choosePeak({ env: '800' }, 'NANOCHAT_PEAK_BF16_GFLOPS'), { flops: 800e9, source: 'NANOCHAT_PEAK_BF16_GFLOPS=800' });
});

test('mfuBasis names the peak of the precision the matmuls ran in', () => {
  assert.equal(mfuBasis(448e9, 'f32'), '448 GFLOP/s, the f32 FMA peak');
  assert.match(mfuBasis(896e9, 'bf16'), /^896 GFLOP\/s, the bf16 dot-product peak/);
});

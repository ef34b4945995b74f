import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackend } from '../../src/tensor/backends.js';

test('the native backend measures the machine\'s float32 peak with an FMA loop', (t) => {
  let be;
  try { be = createBackend('native'); } catch { t.skip('native addon not built'); return; }
  const flops = be.measurePeakFlops!();
  // a 2-core AVX-512 machine measures ~450 GFLOP/s; anything from an old laptop core up is plausible
  assert.ok(Number.isFinite(flops) && flops > 5e9 && flops < 1e14, `peak ${flops / 1e9} GFLOP/s`);
});

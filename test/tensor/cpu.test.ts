import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computedPeakFlops, peakCeilingFlops, readCpu, widestIsa } from '../../src/tensor/cpu.js';

// two logical CPUs per core (SMT) on one core, the way /proc/cpuinfo lists them
const block = (proc: number, core: number, mhz: number, flags: string) => [
  `processor\t: ${proc}`, 'vendor_id\t: AuthenticAMD', 'cpu family\t: 25', 'model\t\t: 1', 'model name\t: AMD EPYC 7B13',
  `cpu MHz\t\t: ${mhz}`, 'physical id\t: 0', `core id\t\t: ${core}`, `flags\t\t: ${flags}`,
].join('\n');
const ZEN3 = 'fpu sse sse2 avx avx2 fma bmi2';

test('readCpu: model, vendor, family, flags, mean clock and physical cores', () => {
  const cpu = readCpu([block(0, 0, 3000, ZEN3), block(1, 0, 2900, ZEN3), block(2, 1, 2950, ZEN3), block(3, 1, 2950, ZEN3)].join('\n\n') + '\n');
  assert.equal(cpu.model, 'AMD EPYC 7B13');
  assert.equal(cpu.vendor, 'AuthenticAMD');
  assert.equal(cpu.family, 25);
  assert.equal(cpu.modelNumber, 1);
  assert.equal(cpu.mhz, 2950);
  assert.equal(cpu.cores, 2);
  assert.equal(widestIsa(cpu), 'avx2');
  // 2 cores x 2 FMA units x 8 lanes x 2 FLOP x 2.95 GHz: the Zen 3 whose true 2-thread peak is 183-197
  const c = computedPeakFlops(cpu, 2)!;
  assert.equal(c.flops, 188.8e9);
  assert.equal(c.how, '2 cores x 2 FMA units x 8 lanes x 2 FLOP x 2950 MHz');
  assert.deepEqual(computedPeakFlops(cpu, 1), { flops: 94.4e9, how: '1 core x 2 FMA units x 8 lanes x 2 FLOP x 2950 MHz' });
  assert.equal(computedPeakFlops(cpu, 8)!.flops, 188.8e9); // more threads than cores: SMT adds no FMA units
  assert.equal(peakCeilingFlops(cpu, 2), 2 * 2 * 8 * 2 * 6e9);
});

test('readCpu: AVX-512 needs F, VL, BW and DQ; no AVX2 or no clock means no computed figure', () => {
  const wide = readCpu(block(0, 0, 2596, `${ZEN3} avx512f avx512vl avx512bw avx512dq`));
  assert.equal(widestIsa(wide), 'avx512');
  assert.equal(widestIsa(readCpu(block(0, 0, 2596, `${ZEN3} avx512f`))), 'avx2');
  assert.equal(computedPeakFlops(readCpu(block(0, 0, 2596, 'fpu sse sse2 avx')), 1), undefined);
  assert.equal(computedPeakFlops(readCpu(block(0, 0, 0, ZEN3)), 1), undefined);
  const none = readCpu(''); // no /proc/cpuinfo: os.cpus()
  assert.ok(none.cores >= 1 && typeof none.model === 'string');
});

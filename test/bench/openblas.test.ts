import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openblasCoreType } from '../../src/bench/openblas.js';

const BASE = 'fpu vme de pse tsc msr sse sse2 ssse3 sse4_1 sse4_2 avx';
const ZEN3 = `${BASE} fma avx2 bmi2`; // AMD EPYC 7B13: AVX2 only
const ZEN5 = `${ZEN3} avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16`;

test('OpenBLAS core type from the CPU flags', () => {
  assert.equal(openblasCoreType(ZEN5, 'AuthenticAMD').coretype, 'SKYLAKEX');
  assert.equal(openblasCoreType(ZEN5, 'GenuineIntel').coretype, 'SKYLAKEX');
  // the Zen 3 where SKYLAKEX died with SIGILL
  assert.equal(openblasCoreType(ZEN3, 'AuthenticAMD').coretype, 'ZEN');
  assert.equal(openblasCoreType(ZEN3, 'GenuineIntel').coretype, 'HASWELL');
  // AVX-512 F alone (Knights Landing has no VL/BW/DQ) is not enough for the SkylakeX kernels
  assert.equal(openblasCoreType(`${ZEN3} avx512f avx512cd`, 'GenuineIntel').coretype, 'HASWELL');
  // AVX2 without FMA, or no AVX2: leave it to OpenBLAS
  const plain = openblasCoreType(`${BASE} avx2`, 'AuthenticAMD');
  assert.equal(plain.coretype, undefined);
  assert.match(plain.why, /unset/);
  assert.equal(openblasCoreType('', '').coretype, undefined);
});

test('OpenBLAS core type: a value the user set is kept, and every choice says why', () => {
  assert.deepEqual(openblasCoreType(ZEN5, 'AuthenticAMD', 'HASWELL'), { coretype: 'HASWELL', why: 'OPENBLAS_CORETYPE=HASWELL, as set by the user' });
  assert.equal(openblasCoreType(ZEN3, 'AuthenticAMD').why, 'OPENBLAS_CORETYPE=ZEN: an AMD CPU with AVX2 and FMA, no AVX-512');
  assert.match(openblasCoreType(ZEN5, 'AuthenticAMD').why, /^OPENBLAS_CORETYPE=SKYLAKEX: .*AVX-512/);
});

test('OpenBLAS core type: with our kernels held to AVX2 on an AVX-512 CPU, the peer is held to AVX2 too', () => {
  const held = openblasCoreType(ZEN5, 'AuthenticAMD', undefined, 'avx2');
  assert.deepEqual([held.coretype, held.aten], ['ZEN', 'avx2']);
  assert.match(held.why, /^OPENBLAS_CORETYPE=ZEN and ATEN_CPU_CAPABILITY=avx2: our kernels are held to AVX2/);
  assert.equal(openblasCoreType(ZEN5, 'GenuineIntel', undefined, 'avx2').coretype, 'HASWELL');
  // nothing to hold back on a CPU that is AVX2 only, or with the avx512 kernels
  assert.deepEqual(openblasCoreType(ZEN3, 'AuthenticAMD', undefined, 'avx2').aten, undefined);
  assert.equal(openblasCoreType(ZEN5, 'AuthenticAMD', undefined, 'avx512').coretype, 'SKYLAKEX');
});

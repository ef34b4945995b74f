// Which OpenBLAS kernels the PyTorch peer of `bench train` runs. Debian's OpenBLAS is built for every x86
// core type and picks one at load; OPENBLAS_CORETYPE forces one. Forcing SKYLAKEX (AVX-512) measured
// fastest on the Zen 5 development machine (a 1024^3 matmul: 244 GFLOP/s vs 204 SAPPHIRERAPIDS, 160 ZEN,
// 134 HASWELL), but on a CPU without AVX-512 those kernels die at their first instruction (SIGILL). So the
// choice follows the CPU's flags, and a value the user set is kept.

export interface CoreTypeChoice {
  /** the value to set, or undefined to leave OpenBLAS to pick */
  coretype?: string;
  /** ATEN_CPU_CAPABILITY for PyTorch's own kernels, when they must be held to AVX2 like ours */
  aten?: string;
  /** one line for the bench log */
  why: string;
}

/**
 * `flags`: the /proc/cpuinfo flags line; `vendor`: its vendor_id; `userSet`: OPENBLAS_CORETYPE as found in
 * the environment. AVX-512 F+VL+BW+DQ -> SKYLAKEX; AVX2+FMA on AMD -> ZEN; AVX2+FMA otherwise -> HASWELL.
 */
export function openblasCoreType(flags: string, vendor: string, userSet?: string, ourIsa?: string): CoreTypeChoice {
  if (userSet) return { coretype: userSet, why: `OPENBLAS_CORETYPE=${userSet}, as set by the user` };
  const f = new Set(flags.split(/\s+/).filter(Boolean));
  // NANOCHAT_ISA=avx2 on an AVX-512 CPU (the nearest this machine comes to an AVX2-only one): the peer is held to
  // AVX2 as well, its BLAS and PyTorch's own kernels, so the ratio compares like with like
  if (ourIsa === 'avx2' && f.has('avx512f')) {
    const held = openblasCoreType([...f].filter((x) => !x.startsWith('avx512')).join(' '), vendor);
    const why = `${held.why.split(':')[0]} and ATEN_CPU_CAPABILITY=avx2: our kernels are held to AVX2 (NANOCHAT_ISA)`;
    return { ...held, aten: 'avx2', why };
  }
  const avx512 = ['avx512f', 'avx512vl', 'avx512bw', 'avx512dq'].filter((x) => f.has(x));
  if (avx512.length === 4) return { coretype: 'SKYLAKEX', why: 'OPENBLAS_CORETYPE=SKYLAKEX: the CPU has AVX-512 F, VL, BW and DQ' };
  if (f.has('avx2') && f.has('fma')) {
    if (vendor === 'AuthenticAMD') return { coretype: 'ZEN', why: 'OPENBLAS_CORETYPE=ZEN: an AMD CPU with AVX2 and FMA, no AVX-512' };
    return { coretype: 'HASWELL', why: 'OPENBLAS_CORETYPE=HASWELL: AVX2 and FMA, no AVX-512' };
  }
  return { why: 'OPENBLAS_CORETYPE unset (no AVX2+FMA in the CPU flags): OpenBLAS picks its own kernels' };
}

// The machine's float32 peak, measured: every thread runs independent FMA chains that never touch
// memory, so the only limit is the FMA units. The figure is the denominator of MFU in training logs.
// With bf16 matmuls the denominator is the bf16 peak instead, timed the same way on vdpbf16ps chains
// (16 lanes, each two bf16 products added to an f32 accumulator: 64 FLOPs an instruction, twice an FMA's).
//
// Chains. One FMA chain issues one FMA per latency (4 cycles on Zen 3/4/5 and Intel since Skylake), and a
// core has 2 FMA pipes, so at least 4 x 2 = 8 independent chains are needed to fill them. More is better up
// to the register file: every accumulator must stay in a register, because a chain that spills goes
// through a store and a load each step (~7 more cycles). 16 chains on AVX2 spilled 3 of them (16 ymm
// registers hold only 13 besides the 2 constants and a temporary): on a Zen 3 that measured 106-111 GFLOP/s
// of a true 183-197. So: 24 chains on AVX-512 (32 zmm), 12 on AVX2 and the scalar loop (16 ymm / xmm).
//
// Robust to a busy moment: each run is short (~20 ms) and the result is the best of `reps` runs, after one
// untimed warm-up run (clock ramp-up, AVX-512 license changes). A descheduled thread only ever makes a run
// look slower, so the best run is the one nobody interrupted. Where AVX-512 exists the AVX2 loop is timed
// too and the faster wins: Zen 4 and some Xeons run a 512-bit FMA at half rate, so 512 bits buys nothing.
//
// Threads are not pinned: the pool does not pin (the cores are shared with other work, and a pinned thread
// cannot leave a busy core), and the scheduler spreads busy threads over idle cores on its own.
#include <time.h>
#include "nc.h"

#define CH512 24
#define CH256 12
#define CH1 12
// FLOPs per thread per timed run: ~20 ms at 220 GFLOP/s (AVX-512 on one Zen 5 core), 100 (AVX2 on Zen 3)
#define RUN_FLOP_512 4.0e9
#define RUN_FLOP_256 2.0e9
#define RUN_FLOP_1 2.0e8

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
__attribute__((target("avx512f"))) static float fma_avx512(float seed, long iters) {
  __m512 acc[CH512], m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < CH512; i++) acc[i] = _mm512_set1_ps(seed + i);
  for (long it = 0; it < iters; it++)
#pragma GCC unroll 24
    for (int i = 0; i < CH512; i++) acc[i] = _mm512_fmadd_ps(acc[i], m, a);
  __m512 s = acc[0];
  for (int i = 1; i < CH512; i++) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}
__attribute__((target("avx2,fma"))) static float fma_avx2(float seed, long iters) {
  __m256 acc[CH256], m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < CH256; i++) acc[i] = _mm256_set1_ps(seed + i);
  for (long it = 0; it < iters; it++)
#pragma GCC unroll 12
    for (int i = 0; i < CH256; i++) acc[i] = _mm256_fmadd_ps(acc[i], m, a);
  float out[8], s = 0;
  for (int i = 1; i < CH256; i++) acc[0] = _mm256_add_ps(acc[0], acc[i]);
  _mm256_storeu_ps(out, acc[0]);
  for (int i = 0; i < 8; i++) s += out[i];
  return s;
}
// vdpbf16ps: acc[i] += a.even * b.even + a.odd * b.odd in each f32 lane. Products of 1e-3 and 1 added 2x a step
// keep the accumulators finite and normal for any run length here (2e-3 x ~1e6 steps).
__attribute__((target("avx512f,avx512bf16"))) static float dpbf16_avx512(float seed, long iters) {
  __m512 acc[CH512];
  __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
  __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1.0f), _mm512_set1_ps(1.0f));
  for (int i = 0; i < CH512; i++) acc[i] = _mm512_set1_ps(seed + i);
  for (long it = 0; it < iters; it++)
#pragma GCC unroll 24
    for (int i = 0; i < CH512; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < CH512; i++) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}
#endif

// counts 2 FLOPs per multiply-add whether or not the compiler fuses or vectorizes it
static float fma_scalar(float seed, long iters) {
  float acc[CH1], s = 0;
  for (int i = 0; i < CH1; i++) acc[i] = seed + i;
  for (long it = 0; it < iters; it++)
    for (int i = 0; i < CH1; i++) acc[i] = acc[i] * 0.999999f + 1e-7f;
  for (int i = 0; i < CH1; i++) s += acc[i];
  return s;
}

// lanes: 16 avx512, 8 avx2, 1 scalar; 32 for vdpbf16ps (16 f32 lanes of two products each)
typedef struct { int lanes; long iters; volatile float sink[256]; } peak_job;

static void peak_task(void *p, int task, int thread) {
  (void)thread;
  peak_job *j = p;
  float r;
#if defined(__x86_64__) || defined(__i386__)
  if (j->lanes == 32) r = dpbf16_avx512((float)task, j->iters);
  else if (j->lanes == 16) r = fma_avx512((float)task, j->iters);
  else if (j->lanes == 8) r = fma_avx2((float)task, j->iters);
  else
#endif
    r = fma_scalar((float)task, j->iters);
  j->sink[task & 255] = r;  // keep the result alive so the loop is not optimized away
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

// best FLOP/s of `reps` runs of one loop on `threads` threads (one task per thread)
static double best_of(int lanes, int chains, double run_flop, int threads, int reps) {
  peak_job j = { .lanes = lanes, .iters = (long)(run_flop / (2.0 * chains * lanes)) };
  double best = 0;
  nc_parallel(threads, peak_task, &j);  // warm-up, untimed
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    nc_parallel(threads, peak_task, &j);
    double secs = now() - t0;
    double flops = (double)threads * j.iters * chains * lanes * 2.0 / secs;
    if (flops > best) best = flops;
  }
  return best;
}

void nc_peak_measure(int threads, int reps, int bf16, nc_peak_t *out) {
  int n = nc_threads();
  if (threads <= 0 || threads > n) threads = n;
  if (reps < 1) reps = 1;
  *out = (nc_peak_t){ .threads = threads, .runs = reps };
  if (bf16) {
    // 0 FLOP/s and isa "none" where the CPU has no vdpbf16ps or the avx512 table is not in use (no bf16 matmul
    // runs there either)
#if defined(__x86_64__) || defined(__i386__)
    if (nc_isa == &nc_isa_avx512 && nc_cpu_has_avx512bf16()) {
      out->flops = best_of(32, CH512, 2 * RUN_FLOP_512, threads, reps);
      out->isa = "avx512bf16"; out->chains = CH512;
      return;
    }
#endif
    out->isa = "none";
    return;
  }
  // the loops of the kernel table in use (isa.c): with NANOCHAT_ISA=avx2 on an AVX-512 CPU the kernels are
  // ymm-wide, and their MFU is a share of the ymm peak (half the zmm one on Zen 5: 2 x 256-bit FMAs a cycle)
  int wide = nc_isa == &nc_isa_avx512, ymm = wide || nc_isa == &nc_isa_avx2;
  if (wide && nc_cpu_has_avx512()) {
    out->flops = best_of(16, CH512, RUN_FLOP_512, threads, reps);
    out->isa = "avx512"; out->chains = CH512;
  }
  if (ymm && nc_cpu_has_avx2()) {
    double f = best_of(8, CH256, RUN_FLOP_256, threads, reps);
    if (f > out->flops) { out->flops = f; out->isa = "avx2"; out->chains = CH256; }
  }
  if (!out->isa) {
    out->flops = best_of(1, CH1, RUN_FLOP_1, threads, reps);
    out->isa = "generic"; out->chains = CH1;
  }
}

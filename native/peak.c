// The machine's float32 peak, measured: every pool thread runs independent FMA chains that never touch
// memory, so the only limit is the FMA units. The figure is the denominator of MFU in training logs.
// 16 accumulators cover FMA latency x pipes on current cores (4 cycles x 2 pipes needs >= 8 chains).
#include <time.h>
#include "nc.h"

#define CHAINS 16
#define ITERS 30000000L  // ~0.1 s per repetition at 200+ GFLOP/s per thread

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
__attribute__((target("avx512f"))) static float fma_avx512(float seed) {
  __m512 acc[CHAINS], m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps(seed + i);
  for (long it = 0; it < ITERS; it++)
#pragma GCC unroll 16
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], m, a);
  __m512 s = acc[0];
  for (int i = 1; i < CHAINS; i++) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}
__attribute__((target("avx2,fma"))) static float fma_avx2(float seed) {
  __m256 acc[CHAINS], m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps(seed + i);
  for (long it = 0; it < ITERS; it++)
#pragma GCC unroll 16
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], m, a);
  float out[8], s = 0;
  for (int i = 1; i < CHAINS; i++) acc[0] = _mm256_add_ps(acc[0], acc[i]);
  _mm256_storeu_ps(out, acc[0]);
  for (int i = 0; i < 8; i++) s += out[i];
  return s;
}
#endif

static float fma_scalar(float seed) {
  float acc[CHAINS], s = 0;
  for (int i = 0; i < CHAINS; i++) acc[i] = seed + i;
  for (long it = 0; it < ITERS / 16; it++)
    for (int i = 0; i < CHAINS; i++) acc[i] = acc[i] * 0.999999f + 1e-7f;
  for (int i = 0; i < CHAINS; i++) s += acc[i];
  return s;
}

typedef struct { int lanes; volatile float sink; } peak_ctx;

static void peak_task(void *p, int task, int thread) {
  (void)thread;
  peak_ctx *c = p;
  float r;
#if defined(__x86_64__) || defined(__i386__)
  if (c->lanes == 16) r = fma_avx512((float)task);
  else if (c->lanes == 8) r = fma_avx2((float)task);
  else
#endif
    r = fma_scalar((float)task);
  c->sink += r;  // keep the result alive so the loop is not optimized away
}

double nc_peak_flops(void) {
  // the same instruction sets the kernel tables use (isa.c); the scalar loop runs 1/16 of the iterations
  peak_ctx c = { .lanes = nc_cpu_has_avx512() ? 16 : nc_cpu_has_avx2() ? 8 : 1 };
  long iters = c.lanes > 1 ? ITERS : ITERS / 16;
  int n = nc_threads();
  double best = 0;
  for (int rep = 0; rep < 3; rep++) {  // best of 3: a busy machine only ever makes it look slower
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nc_parallel(n, peak_task, &c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    double flops = (double)n * iters * CHAINS * c.lanes * 2.0 / secs;
    if (flops > best) best = flops;
  }
  return best;
}

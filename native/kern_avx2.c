// AVX2 + FMA build: kern_impl.h vectorized 8 wide, plus a 4x16 micro-kernel run over the 8x32 packed tile.
#if defined(__x86_64__) || defined(__i386__)  // elsewhere this file is empty and isa.c never names its table
#pragma GCC target("avx2,fma")
#define NC_SFX _avx2
#define NC_NAME "avx2"
#define NC_TABLE nc_isa_avx2
#define NC_UK uk_avx2
#define NC_PACKA packA_avx2
#define NC_PACKB packB_avx2
#include "nc.h"
#include <immintrin.h>

// 4 rows x 16 columns: 8 ymm accumulators + 2 B vectors + 1 broadcast = 11 of 16 registers.
static inline void uk4x16(int kc, const float *a, const float *b, float *c, long ldc, int mr, int nr, int acc) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
#pragma GCC unroll 4
  for (int k = 0; k < kc; k++) {
    __m256 b0 = _mm256_loadu_ps(b + (long)k * NC_NR), b1 = _mm256_loadu_ps(b + (long)k * NC_NR + 8);
    const float *ak = a + (long)k * NC_MR;
    __m256 x = _mm256_broadcast_ss(ak + 0); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(ak + 1); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(ak + 2); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(ak + 3); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
  }
  __m256 r[8] = { c00, c01, c10, c11, c20, c21, c30, c31 };
  if (mr == 4 && nr == 16) {
    for (int i = 0; i < 4; i++) {
      float *ci = c + i * ldc;
      if (acc) { r[2 * i] = _mm256_add_ps(r[2 * i], _mm256_loadu_ps(ci)); r[2 * i + 1] = _mm256_add_ps(r[2 * i + 1], _mm256_loadu_ps(ci + 8)); }
      _mm256_storeu_ps(ci, r[2 * i]); _mm256_storeu_ps(ci + 8, r[2 * i + 1]);
    }
    return;
  }
  float t[4][16];
  for (int i = 0; i < 4; i++) { _mm256_storeu_ps(t[i], r[2 * i]); _mm256_storeu_ps(t[i] + 8, r[2 * i + 1]); }
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) c[i * ldc + j] = acc ? c[i * ldc + j] + t[i][j] : t[i][j];
}

static void uk_avx2(int kc, const float *a, const float *b, float *c, long ldc, int mr, int nr, int acc) {
  for (int i = 0; i < mr; i++) { _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0); _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0); }
  for (int h = 0; h < 2; h++) {
    int m = mr - 4 * h;
    if (m <= 0) break;
    if (m > 4) m = 4;
    for (int w = 0; w < 2; w++) {
      int n = nr - 16 * w;
      if (n <= 0) break;
      if (n > 16) n = 16;
      uk4x16(kc, a + 4 * h, b + 16 * w, c + 4 * h * ldc + 16 * w, ldc, m, n, acc);
    }
  }
}

#define F(name) name##_avx2
#include "pack_x86.h"
#undef F
#include "kern_impl.h"
#endif

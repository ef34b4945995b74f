// AVX2 + FMA build: kern_impl.h vectorized 8 wide, plus the GEMM micro-kernel for the 8x32 packed tile.
#if defined(__x86_64__) || defined(__i386__)  // elsewhere this file is empty and isa.c never names its table
#pragma GCC target("avx2,fma")
// Without this GCC 12 leaves every loop that calls nc_exp scalar on AVX2 ("control flow in loop": the
// clamps' compares may trap, so they are not turned into blends): the attention softmax, att_p and the
// cross-entropy exps ran one float at a time. Vectorized: attention forward +42%, backward +13% (one
// Zen 5 core, AVX2 forced). We never unmask FP exceptions, so nothing changes but the vectorization.
// (AVX-512 needs no flag: its masked compares vectorize anyway.)
#pragma GCC optimize("no-trapping-math")
#define NC_SFX _avx2
#define NC_NAME "avx2"
#define NC_TABLE nc_isa_avx2
#define NC_UK uk_avx2
#define NC_PACKA packA_avx2
#define NC_PACKB packB_avx2
#define NC_PACKB_BF16 packB_bf16_avx2
#include "nc.h"
#include <immintrin.h>

// The 8 x 32 packed tile, run as three register tiles that fit AVX2's 16 ymm registers:
//   rows 0-5 x columns 0-15 and rows 0-5 x columns 16-31: 6 x 16 = 12 accumulators + 2 B vectors +
//     1 broadcast = 15 registers; per k 2 loads + 6 broadcasts feed 12 FMAs.
//   rows 6-7 x columns 0-31: 2 x 32 = 8 accumulators + 4 B + 1 broadcast; 4 loads + 2 broadcasts, 8 FMAs.
// 3/4 of the FMAs run with 12 independent chains, above the 8 that 2 FMA pipes x 4-cycle latency need
// (Zen 3, Zen 5, Haswell..Skylake), so a late load does not stall the pipes; the old 4 x 16 tile had
// exactly 8 chains and 6 loads per 8 FMAs, and measured 64-78% of the FMA peak on Zen 3. On one Zen 5
// core (AVX2 forced) the 12 matmuls of `bench kernels` went from 75-84% to 82-93% of the AVX2 peak.
// a and b keep the packed strides (NC_MR and NC_NR floats per k); c is the tile's top-left corner.

// stores an R x (8 V) register tile r[R][V] to C, adding C when acc; partial tiles (mr x nr) go
// through a buffer so no byte past the matrix is touched
#define STORE_TILE(R, V)                                                                                  \
  do {                                                                                                  \
    if (mr == R && nr == 8 * V) {                                                                       \
      for (int i = 0; i < R; i++)                                                                       \
        for (int v = 0; v < V; v++) {                                                                   \
          float *p = c + i * ldc + 8 * v;                                                               \
          _mm256_storeu_ps(p, acc ? _mm256_add_ps(r[i][v], _mm256_loadu_ps(p)) : r[i][v]);              \
        }                                                                                               \
    } else {                                                                                            \
      float t[R][8 * V];                                                                                \
      for (int i = 0; i < R; i++) for (int v = 0; v < V; v++) _mm256_storeu_ps(t[i] + 8 * v, r[i][v]); \
      for (int i = 0; i < mr; i++)                                                                      \
        for (int j = 0; j < nr; j++) c[i * ldc + j] = acc ? c[i * ldc + j] + t[i][j] : t[i][j];         \
    }                                                                                                   \
  } while (0)

static inline void uk6x16(int kc, const float *a, const float *b, float *c, long ldc, int mr, int nr, int acc) {
  // named accumulators, not an array: GCC keeps an indexed array in memory and stores it every k
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#define ROW(i)                                                                               \
  x = _mm256_broadcast_ss(a + i);                                                            \
  c##i##0 = _mm256_fmadd_ps(x, b0, c##i##0); c##i##1 = _mm256_fmadd_ps(x, b1, c##i##1);
#pragma GCC unroll 4
  for (int k = 0; k < kc; k++) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), x;
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
    a += NC_MR;
    b += NC_NR;
  }
#undef ROW
  __m256 r[6][2] = { { c00, c01 }, { c10, c11 }, { c20, c21 }, { c30, c31 }, { c40, c41 }, { c50, c51 } };
  STORE_TILE(6, 2);
}

static inline void uk2x32(int kc, const float *a, const float *b, float *c, long ldc, int mr, int nr, int acc) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
#define ROW(i)                                                                               \
  x = _mm256_broadcast_ss(a + i);                                                            \
  c##i##0 = _mm256_fmadd_ps(x, b0, c##i##0); c##i##1 = _mm256_fmadd_ps(x, b1, c##i##1);      \
  c##i##2 = _mm256_fmadd_ps(x, b2, c##i##2); c##i##3 = _mm256_fmadd_ps(x, b3, c##i##3);
#pragma GCC unroll 4
  for (int k = 0; k < kc; k++) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), x;
    __m256 b2 = _mm256_loadu_ps(b + 16), b3 = _mm256_loadu_ps(b + 24);
    ROW(0) ROW(1)
    a += NC_MR;
    b += NC_NR;
  }
#undef ROW
  __m256 r[2][4] = { { c00, c01, c02, c03 }, { c10, c11, c12, c13 } };
  STORE_TILE(2, 4);
}
#undef STORE_TILE

static void uk_avx2(int kc, const float *a, const float *b, float *c, long ldc, int mr, int nr, int acc) {
  // C rows are ldc apart, which the hardware prefetcher does not follow: fetch the tile now so the
  // misses overlap the k loop instead of stalling the final stores
  for (int i = 0; i < mr; i++) { _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0); _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0); }
  int m6 = mr < 6 ? mr : 6;
  uk6x16(kc, a, b, c, ldc, m6, nr < 16 ? nr : 16, acc);
  if (nr > 16) uk6x16(kc, a, b + 16, c + 16, ldc, m6, nr - 16, acc);
  if (mr > 6) uk2x32(kc, a + 6, b, c + 6 * ldc, ldc, mr - 6, nr, acc);
}

#define F(name) name##_avx2
#include "pack_x86.h"
#undef F
#include "kern_impl.h"
#endif

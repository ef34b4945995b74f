// AVX-512 build: kern_impl.h vectorized 16 wide, and the 8x32 GEMM micro-kernel.
#if defined(__x86_64__) || defined(__i386__)  // elsewhere this file is empty and isa.c never names its table
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
#define NC_SFX _avx512
#define NC_NAME "avx512"
#define NC_TABLE nc_isa_avx512
#define NC_UK uk_avx512
#define NC_PACKA packA_avx512
#define NC_PACKB packB_avx512
#include "nc.h"
#include <immintrin.h>
#include "tile_avx512.h"

// C[8 x 32] (+)= A-panel x B-panel. Per k: 2 zmm loads of B, 8 broadcasts of A folded into the FMAs,
// 16 FMAs into 16 independent accumulators (Zen 5: 2 FMA pipes x 4-cycle latency needs >= 8 chains).
static void uk_avx512(int kc, const float *a, const float *b, float *c, long ldc, int mr, int nr, int acc) {
  // C rows are ldc apart (4 KiB for N = 1024), which the hardware prefetcher does not follow: fetch the
  // tile now so its misses overlap the k loop instead of stalling the final stores (~20% on 16 MiB C).
  for (int i = 0; i < mr; i++) { _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0); _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0); }
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
#define ROW(i)                                   \
  x = _mm512_set1_ps(a[i]);                      \
  c##i##0 = _mm512_fmadd_ps(x, b0, c##i##0);     \
  c##i##1 = _mm512_fmadd_ps(x, b1, c##i##1);
#pragma GCC unroll 4
  for (int k = 0; k < kc; k++) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), x;
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
    a += NC_MR;
    b += NC_NR;
  }
#undef ROW
  __m512 r[16] = { c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71 };
  nc_store_tile_8x32(r, mr, nr, c, ldc, acc);
}

#define F(name) name##_avx512
#include "pack_x86.h"
#undef F
#include "kern_impl.h"
#endif

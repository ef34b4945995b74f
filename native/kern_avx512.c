// AVX-512 build: kern_impl.h vectorized 16 wide, and the 8x32 GEMM micro-kernel.
#if defined(__x86_64__) || defined(__i386__)  // elsewhere this file is empty and isa.c never names its table
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")
#define NC_SFX _avx512
#define NC_NAME "avx512"
#define NC_TABLE nc_isa_avx512
#define NC_UK uk_avx512
#define NC_PACKA packA_avx512
#define NC_PACKB packB_avx512
#define NC_PACKB_BF16 packB_bf16_avx512
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

// Skinny NT product with bf16 weights B [N, K] (decoding, M <= NC_SKINNY_NT rows of f32 A): NB rows of B at a
// time (2: 16 zmm accumulators at R = 8; NB = 4 for R <= 4 streamed 10-45% slower at M = 1 on Zen 5, 2 cores,
// with the same prefetch distance in blocks), each 16 k of them widened once
// (vpmovzxwd, vpslld: exact) and used by all R rows of A, so per 16 k there are NB loads of B, 2 NB widening
// uops, R loads of A (from L1) and NB R FMAs. The next blocks' rows are prefetched into L2 two blocks ahead:
// with the hardware prefetcher alone, a core keeps too few lines in flight to stream B at the machine's
// bandwidth. The generic template (gemv_nt.h) widens B again for every 4 rows of A and ran 13-28 GB/s of bf16
// at M = 4..8 on Zen 5 (2 cores), against 32-38 GB/s here. R and NB are compile-time constants per call site.
static inline __attribute__((always_inline)) void dots_bf16(const int R, const int NB, int K, const float *A, long lda,
                                                            const uint16_t *B, long ldb, int nc, const uint16_t *pf,
                                                            float out[8][4]) {
  __m512 acc[8][4];
  const uint16_t *b[4];
#pragma GCC unroll 4
  for (int c = 0; c < NB; c++) b[c] = B + (c < nc ? c : 0) * ldb;  // a short block repeats row 0 (dropped)
#pragma GCC unroll 8
  for (int i = 0; i < R; i++)
#pragma GCC unroll 4
    for (int c = 0; c < NB; c++) acc[i][c] = _mm512_setzero_ps();
  for (int k = 0; k < K; k += 16) {
    __mmask16 m = K - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - k)) - 1);
    if (!(k & 31))  // one 64-byte line of each row two blocks ahead
#pragma GCC unroll 4
      for (int c = 0; c < NB; c++) _mm_prefetch((const char *)(pf + c * ldb + k), _MM_HINT_T1);
    __m512 w[4];
#pragma GCC unroll 4
    for (int c = 0; c < NB; c++)
      w[c] = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, b[c] + k)), 16));
#pragma GCC unroll 8
    for (int i = 0; i < R; i++) {
      __m512 a = _mm512_maskz_loadu_ps(m, A + i * lda + k);
#pragma GCC unroll 4
      for (int c = 0; c < NB; c++) acc[i][c] = _mm512_fmadd_ps(a, w[c], acc[i][c]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; i++)
#pragma GCC unroll 4
    for (int c = 0; c < NB; c++) out[i][c] = _mm512_reduce_add_ps(acc[i][c]);
}
#define GEMV_BF16(RR, NB)                                                                                        \
  static void gemv_bf16_r##RR(int K, const float *A, long lda, const uint16_t *B, long ldb, float *C, long ldc,   \
                              int acc, long j0, long j1) {                                                       \
    float r[8][4];                                                                                               \
    for (long j = j0; j < j1; j += NB) {                                                                         \
      int nc = j1 - j < NB ? (int)(j1 - j) : NB;                                                                 \
      const uint16_t *pf = j + 3 * NB <= j1 ? B + (j + 2 * NB) * ldb : B + j * ldb;                              \
      dots_bf16(RR, NB, K, A, lda, B + j * ldb, ldb, nc, pf, r);                                                 \
      for (int i = 0; i < RR; i++)                                                                               \
        for (int c = 0; c < nc; c++) C[i * ldc + j + c] = acc ? C[i * ldc + j + c] + r[i][c] : r[i][c];          \
    }                                                                                                            \
  }
GEMV_BF16(1, 2) GEMV_BF16(2, 2) GEMV_BF16(3, 2) GEMV_BF16(4, 2) GEMV_BF16(5, 2) GEMV_BF16(6, 2) GEMV_BF16(7, 2)
GEMV_BF16(8, 2)
#undef GEMV_BF16
static void gemv_nt_bf16_avx512(int M, int K, const float *A, long lda, const uint16_t *B, long ldb, float *C, long ldc,
                                int acc, long j0, long j1) {
  static void (*const by_rows[8])(int, const float *, long, const uint16_t *, long, float *, long, int, long, long) = {
    gemv_bf16_r1, gemv_bf16_r2, gemv_bf16_r3, gemv_bf16_r4, gemv_bf16_r5, gemv_bf16_r6, gemv_bf16_r7, gemv_bf16_r8 };
  for (int i0 = 0; i0 < M; i0 += 8)  // M <= NC_SKINNY_NT = 8: one pass
    by_rows[(M - i0 < 8 ? M - i0 : 8) - 1](K, A + (long)i0 * lda, lda, B, ldb, C + (long)i0 * ldc, ldc, acc, j0, j1);
}
#define NC_GEMV_NT_BF16 gemv_nt_bf16_avx512

#define F(name) name##_avx512
#include "pack_x86.h"
#undef F
#include "kern_impl.h"
#endif

// Packing with 8x8 in-register transposes (AVX). Included by kern_avx2.c and kern_avx512.c under their
// target pragmas. A transposing pack done element by element costs ~1 cycle per float, about 10% of
// a GEMM with N = 256; the 8x8 transpose brings it to ~0.2 cycle.
#include <immintrin.h>

static inline void F(tr8)(__m256 *r) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20); r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20); r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31); r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31); r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

static void F(packA)(int trans, const float *A, long lda, int m, int k, float *dst) {
  int mf = m / NC_MR * NC_MR;  // whole panels; a short last one goes through the reference packer
  if (trans) {
    // A stored [k x m]: walk its rows, each a contiguous run of m floats dealt out 8 at a time to the
    // panels, 8 rows at once so that each panel receives 256 contiguous bytes (4 whole lines). Panel
    // by panel instead reads 32 bytes per row at stride lda (16 KiB for M = 4096: a TLB miss per row);
    // one row at a time writes 32 bytes to each of mc/8 panels k*32 bytes apart, which all map to
    // the same L1 set and evict each other's half-written lines (TN M = 4096 K = 1024 N = 256: +5%).
    int kk = 0;
    for (; kk + 8 <= k; kk += 8) {
      const float *s = A + (long)kk * lda;
      float *d = dst + (long)kk * NC_MR;
      for (int i0 = 0; i0 < mf; i0 += NC_MR, d += (long)k * NC_MR) {
        for (int r = 0; r < 8; r++) _mm256_storeu_ps(d + r * NC_MR, _mm256_loadu_ps(s + r * lda + i0));
        if (!(i0 & 15))  // the next 8 rows' lines: each row's run is only mc floats long, 16 KiB from the last
          for (int r = 8; r < 16; r++) _mm_prefetch((const char *)(s + r * lda + i0), _MM_HINT_T0);
      }
    }
    for (; kk < k; kk++) {
      const float *s = A + (long)kk * lda;
      float *d = dst + (long)kk * NC_MR;
      for (int i0 = 0; i0 < mf; i0 += NC_MR, d += (long)k * NC_MR) _mm256_storeu_ps(d, _mm256_loadu_ps(s + i0));
    }
  } else
    for (int i0 = 0; i0 < mf; i0 += NC_MR) {
      const float *a = A + (long)i0 * lda;
      float *d = dst + (long)(i0 / NC_MR) * k * NC_MR;
      int kk = 0;
      for (; kk + 8 <= k; kk += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(a + i * lda + kk);
        if (!(kk & 15))  // the next panel's rows, one line each 16 k: too short a stream for the hardware prefetcher
          for (int i = 0; i < 8; i++) _mm_prefetch((const char *)(a + (i + 8) * lda + kk), _MM_HINT_T0);
        F(tr8)(r);
        for (int i = 0; i < 8; i++) _mm256_storeu_ps(d + (long)(kk + i) * 8, r[i]);
      }
      for (; kk < k; kk++)
        for (int i = 0; i < 8; i++) d[(long)kk * 8 + i] = a[i * lda + kk];
    }
  if (mf < m) nc_packA_ref(trans, trans ? A + mf : A + (long)mf * lda, lda, m - mf, k, dst + (long)(mf / NC_MR) * k * NC_MR);
}

// The transposing branch of packB for f32 (bf16 = 0) or bf16 bits (bf16 = 1) in B [n x k]: 8 rows of 8 elements
// loaded as floats (bf16 widened: zero-extend, shift left 16, exact), transposed in registers, stored as 8 runs of
// the panel. Always inlined with a constant `bf16`, so each caller gets its own loop without the branch.
static inline __attribute__((always_inline)) __m256 F(load8f)(const void *B, int bf16, long at) {
  if (!bf16) return _mm256_loadu_ps((const float *)B + at);
  __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)B + at));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
static inline __attribute__((always_inline)) float F(load1f)(const void *B, int bf16, long at) {
  return bf16 ? nc_bf16_to_f32(((const uint16_t *)B)[at]) : ((const float *)B)[at];
}
static inline __attribute__((always_inline)) void F(packBT_panels)(const void *B, int bf16, long ldb, int k, int nf,
                                                                 float *dst) {
  for (int j0 = 0; j0 < nf; j0 += NC_NR) {
    float *d = dst + (long)(j0 / NC_NR) * k * NC_NR;
    int kk = 0;
    for (; kk + 8 <= k; kk += 8)
      for (int jb = 0; jb < NC_NR; jb += 8) {
        __m256 r[8];
        for (int j = 0; j < 8; j++) r[j] = F(load8f)(B, bf16, (long)(j0 + jb + j) * ldb + kk);
        F(tr8)(r);
        for (int i = 0; i < 8; i++) _mm256_storeu_ps(d + (long)(kk + i) * NC_NR + jb, r[i]);
      }
    for (; kk < k; kk++)
      for (int j = 0; j < NC_NR; j++) d[(long)kk * NC_NR + j] = F(load1f)(B, bf16, (long)(j0 + j) * ldb + kk);
  }
}

static void F(packB)(int trans, const float *B, long ldb, int k, int n, float *dst) {
  int nf = n / NC_NR * NC_NR;  // whole panels; a short last one goes through the reference packer
  if (!trans)
    // B stored [k x n]: row by row, as for A above (contiguous runs of n floats, 32 to each panel)
    for (int kk = 0; kk < k; kk++) {
      const float *s = B + (long)kk * ldb;
      float *d = dst + (long)kk * NC_NR;
      for (int j0 = 0; j0 < nf; j0 += NC_NR, d += (long)k * NC_NR) {
        _mm256_storeu_ps(d, _mm256_loadu_ps(s + j0)); _mm256_storeu_ps(d + 8, _mm256_loadu_ps(s + j0 + 8));
        _mm256_storeu_ps(d + 16, _mm256_loadu_ps(s + j0 + 16)); _mm256_storeu_ps(d + 24, _mm256_loadu_ps(s + j0 + 24));
      }
    }
  else F(packBT_panels)(B, 0, ldb, k, nf, dst);
  if (nf < n) nc_packB_ref(trans, trans ? B + (long)nf * ldb : B + nf, ldb, k, n - nf, dst + (long)(nf / NC_NR) * k * NC_NR);
}

// B stored as bf16 bits [n x k] (inference weights, a linear layer's layout): packB's transposing branch, widened.
static void F(packB_bf16)(const uint16_t *B, long ldb, int k, int n, float *dst) {
  int nf = n / NC_NR * NC_NR;  // whole panels; a short last one goes through the reference packer
  F(packBT_panels)(B, 1, ldb, k, nf, dst);
  if (nf < n) nc_packB_bf16_ref(B + (long)nf * ldb, ldb, k, n - nf, dst + (long)(nf / NC_NR) * k * NC_NR);
}

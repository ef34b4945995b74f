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
  for (int i0 = 0; i0 < m; i0 += NC_MR, dst += (long)k * NC_MR) {
    if (m - i0 < NC_MR) { nc_packA_ref(trans, trans ? A + i0 : A + (long)i0 * lda, lda, m - i0, k, dst); continue; }
    if (trans) {
      for (int kk = 0; kk < k; kk++) _mm256_storeu_ps(dst + (long)kk * 8, _mm256_loadu_ps(A + (long)kk * lda + i0));
      continue;
    }
    const float *a = A + (long)i0 * lda;
    int kk = 0;
    for (; kk + 8 <= k; kk += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(a + i * lda + kk);
      F(tr8)(r);
      for (int i = 0; i < 8; i++) _mm256_storeu_ps(dst + (long)(kk + i) * 8, r[i]);
    }
    for (; kk < k; kk++)
      for (int i = 0; i < 8; i++) dst[(long)kk * 8 + i] = a[i * lda + kk];
  }
}

static void F(packB)(int trans, const float *B, long ldb, int k, int n, float *dst) {
  for (int j0 = 0; j0 < n; j0 += NC_NR, dst += (long)k * NC_NR) {
    if (n - j0 < NC_NR) { nc_packB_ref(trans, trans ? B + (long)j0 * ldb : B + j0, ldb, k, n - j0, dst); continue; }
    if (!trans) {
      for (int kk = 0; kk < k; kk++) {
        const float *s = B + (long)kk * ldb + j0;
        float *d = dst + (long)kk * NC_NR;
        _mm256_storeu_ps(d, _mm256_loadu_ps(s)); _mm256_storeu_ps(d + 8, _mm256_loadu_ps(s + 8));
        _mm256_storeu_ps(d + 16, _mm256_loadu_ps(s + 16)); _mm256_storeu_ps(d + 24, _mm256_loadu_ps(s + 24));
      }
      continue;
    }
    int kk = 0;
    for (; kk + 8 <= k; kk += 8)
      for (int jb = 0; jb < NC_NR; jb += 8) {
        __m256 r[8];
        for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(B + (long)(j0 + jb + j) * ldb + kk);
        F(tr8)(r);
        for (int i = 0; i < 8; i++) _mm256_storeu_ps(dst + (long)(kk + i) * NC_NR + jb, r[i]);
      }
    for (; kk < k; kk++)
      for (int j = 0; j < NC_NR; j++) dst[(long)kk * NC_NR + j] = B[(long)(j0 + j) * ldb + kk];
  }
}

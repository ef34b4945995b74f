// AVX512_BF16 kernels of the bf16 GEMM (driver: gemm_bf16.c): packing that rounds f32 to bf16 pairs, and the
// 8x32 micro-kernel on vdpbf16ps. One vdpbf16ps does 16 lanes x 2 products = 64 FLOP, twice an f32 FMA of the
// same width, and the packed operands are half the bytes, so both the arithmetic and the cache traffic halve.
#if defined(__x86_64__) || defined(__i386__)  // elsewhere this file is empty and nc_bf16_available() is 0
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx512bf16,avx2,fma,prefer-vector-width=512")
#include "gemm_bf16.h"
#include <immintrin.h>
#include "tile_avx512.h"

// Mask of the first n (0..16) lanes.
static inline __mmask16 first(int n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

// 16 floats to 16 bf16 (8 words of pairs), round to nearest even: vcvtneps2bf16.
static inline __m256i to_bf16(__m512 v) { return (__m256i)_mm512_cvtneps_pbh(v); }

// In-register transpose of an 8x8 block of 32-bit words (rows r[0..7] become columns).
static inline void tr8(__m256i *r) {
  __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  __m256i s0 = _mm256_unpacklo_epi64(t0, t2), s1 = _mm256_unpackhi_epi64(t0, t2);
  __m256i s2 = _mm256_unpacklo_epi64(t1, t3), s3 = _mm256_unpackhi_epi64(t1, t3);
  __m256i s4 = _mm256_unpacklo_epi64(t4, t6), s5 = _mm256_unpackhi_epi64(t4, t6);
  __m256i s6 = _mm256_unpacklo_epi64(t5, t7), s7 = _mm256_unpackhi_epi64(t5, t7);
  r[0] = _mm256_permute2x128_si256(s0, s4, 0x20); r[1] = _mm256_permute2x128_si256(s1, s5, 0x20);
  r[2] = _mm256_permute2x128_si256(s2, s6, 0x20); r[3] = _mm256_permute2x128_si256(s3, s7, 0x20);
  r[4] = _mm256_permute2x128_si256(s0, s4, 0x31); r[5] = _mm256_permute2x128_si256(s1, s5, 0x31);
  r[6] = _mm256_permute2x128_si256(s2, s6, 0x31); r[7] = _mm256_permute2x128_si256(s3, s7, 0x31);
}

// One panel `width` (8 or 32) wide from a source whose rows run along k (A [M, K], or B stored [N, K]):
// `rows` (<= width) valid rows, ld apart. Per row, 16 floats of k become 8 pair words; an 8x8 word transpose
// then turns 8 rows x 8 pairs into 8 pairs x 8 rows. Masked loads read the tail of k and give the zero
// that pads an odd k; rows past `rows` are zero.
static void panel_along_k(const float *X, long ld, int rows, int k, int width, uint32_t *dst) {
  int kp = (k + 1) / 2;
  for (int g = 0; g < width; g += 8)
    for (int k0 = 0; k0 < k; k0 += 16) {
      __mmask16 mk = first(k - k0);
      __m256i r[8];
      for (int i = 0; i < 8; i++) {
        r[i] = g + i < rows ? to_bf16(_mm512_maskz_loadu_ps(mk, X + (long)(g + i) * ld + k0)) : _mm256_setzero_si256();
        _mm_prefetch((const char *)(X + (long)(g + i + width) * ld + k0), _MM_HINT_T0);
      }
      tr8(r);
      int p0 = k0 / 2, np = kp - p0 < 8 ? kp - p0 : 8;
      for (int q = 0; q < np; q++) _mm256_storeu_si256((__m256i *)(dst + (long)(p0 + q) * width + g), r[q]);
    }
}

// Word j of a pair row: bf16 j of the lower input (k even) in its low half, bf16 j of the upper (k odd) above.
static const uint16_t INTERLEAVE[32] = { 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                         8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31 };

// All the panels (`width` 8 or 32 wide, `panel` words apart) of a source whose rows are k (A stored [K, M], or
// B [K, N]), `cols` valid columns. Rows 2p and 2p+1 convert together, 16 columns at a time, into 32 bf16
// (vcvtne2ps2bf16), and one word permute interleaves them into 16 pair words. The loop runs along the rows,
// across every panel, so the reads stream through memory; panel by panel they jump a row stride (4-16 KiB)
// every 32-128 bytes, which held the GEMM at 1.14x f32 on 4096x1024x256 TN and 1.40x on 1024^3 NN (one
// Zen 5 core, per CPU-second), against 1.59x and 1.72x this way.
// Columns past `cols` and the row past an odd k are zero.
#ifndef PF_ROWS
#define PF_ROWS 4
#endif
static void panels_across_k(const float *X, long ld, int cols, int k, int width, long panel, uint32_t *dst) {
  int kp = (k + 1) / 2, padded = (cols + width - 1) / width * width;
  __m512i idx = _mm512_loadu_si512(INTERLEAVE);
  for (int p = 0; p < kp; p++) {
    const float *lo = X + (long)(2 * p) * ld, *hi = lo + ld;
    int has_hi = 2 * p + 1 < k;
    for (int c0 = 0; c0 < padded; c0 += 16) {
      __mmask16 mc = first(cols - c0);
      __m512 vlo = _mm512_maskz_loadu_ps(mc, lo + c0);
      __m512 vhi = has_hi ? _mm512_maskz_loadu_ps(mc, hi + c0) : _mm512_setzero_ps();
      _mm_prefetch((const char *)(lo + PF_ROWS * ld + c0), _MM_HINT_T0);
      _mm_prefetch((const char *)(hi + PF_ROWS * ld + c0), _MM_HINT_T0);
      __m512i words = _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(vhi, vlo));  // bf16 0-15: vlo
      uint32_t *d = dst + (long)(c0 / width) * panel + (long)p * width;
      if (width == 32) _mm512_storeu_si512(d + c0 % 32, words);
      else {  // 16 columns are two 8-wide panels
        _mm256_storeu_si256((__m256i *)d, _mm512_castsi512_si256(words));
        if (c0 + 8 < padded) _mm256_storeu_si256((__m256i *)(d + panel), _mm512_extracti64x4_epi64(words, 1));
      }
    }
  }
}

void nc_bf_packA_avx512(int trans, const float *A, long lda, int m, int k, uint32_t *dst) {
  long panel = (long)((k + 1) / 2) * NC_BF_MR;
  if (trans) { panels_across_k(A, lda, m, k, NC_BF_MR, panel, dst); return; }
  for (int i0 = 0; i0 < m; i0 += NC_BF_MR, dst += panel)
    panel_along_k(A + (long)i0 * lda, lda, m - i0 < NC_BF_MR ? m - i0 : NC_BF_MR, k, NC_BF_MR, dst);
}

void nc_bf_packB_avx512(int trans, const float *B, long ldb, int n, int k, uint32_t *dst) {
  long panel = (long)((k + 1) / 2) * NC_BF_NR;
  if (!trans) { panels_across_k(B, ldb, n, k, NC_BF_NR, panel, dst); return; }
  for (int j0 = 0; j0 < n; j0 += NC_BF_NR, dst += panel)
    panel_along_k(B + (long)j0 * ldb, ldb, n - j0 < NC_BF_NR ? n - j0 : NC_BF_NR, k, NC_BF_NR, dst);
}

// B stored as bf16 bits [N, K] (inference weights): a row's consecutive k already are the pair words, so a panel
// is panel_along_k without the conversion: 16 bf16 (8 words) of each of 8 rows, masked past k (the zero that pads
// an odd k), then the same 8x8 word transpose.
void nc_bf_packB_bits_avx512(const uint16_t *B, long ldb, int n, int k, uint32_t *dst) {
  long panel = (long)((k + 1) / 2) * NC_BF_NR;
  int kp = (k + 1) / 2;
  for (int j0 = 0; j0 < n; j0 += NC_BF_NR, dst += panel) {
    int rows = n - j0 < NC_BF_NR ? n - j0 : NC_BF_NR;
    const uint16_t *X = B + (long)j0 * ldb;
    for (int g = 0; g < NC_BF_NR; g += 8)
      for (int k0 = 0; k0 < k; k0 += 16) {
        __mmask16 mk = first(k - k0);
        __m256i r[8];
        for (int i = 0; i < 8; i++)
          r[i] = g + i < rows ? _mm256_maskz_loadu_epi16(mk, X + (long)(g + i) * ldb + k0) : _mm256_setzero_si256();
        tr8(r);
        int p0 = k0 / 2, np = kp - p0 < 8 ? kp - p0 : 8;
        for (int q = 0; q < np; q++) _mm256_storeu_si256((__m256i *)(dst + (long)(p0 + q) * NC_BF_NR + g), r[q]);
      }
  }
}

// C[8 x 32] (+)= A-panel x B-panel over kp pairs. Per pair: 2 zmm loads of B (32 columns x 2 k), 8 broadcasts
// of an A word (one row's 2 k), 16 vdpbf16ps into 16 independent f32 accumulators.
void nc_bf_uk_avx512(int kp, const uint32_t *a, const uint32_t *b, float *c, long ldc, int mr, int nr, int acc) {
  // fetch the C tile now so its misses overlap the loop (rows are ldc apart: the prefetcher does not follow)
  for (int i = 0; i < mr; i++) { _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0); _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0); }
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
#define ROW(i)                                              \
  x = (__m512bh)_mm512_set1_epi32((int)a[i]);               \
  c##i##0 = _mm512_dpbf16_ps(c##i##0, x, b0);               \
  c##i##1 = _mm512_dpbf16_ps(c##i##1, x, b1);
#pragma GCC unroll 4
  for (int p = 0; p < kp; p++) {
    __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 16), x;
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
    a += NC_BF_MR;
    b += NC_BF_NR;
  }
#undef ROW
  __m512 r[16] = { c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71 };
  nc_store_tile_8x32(r, mr, nr, c, ldc, acc);
}
#endif

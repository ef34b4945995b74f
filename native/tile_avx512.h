// Writing a micro-kernel's 8 x 32 tile of float32 sums (16 zmm accumulators, two per row, row-major
// r[2i], r[2i+1]) into C: C = tile, or C += tile with acc. A full tile stores unmasked; an edge tile
// (mr < 8 rows or nr < 32 columns) with masks, so nothing outside the mr x nr block is read or written.
// Shared by the f32 (kern_avx512.c) and bf16 (kern_avx512bf16.c) micro-kernels; include after immintrin.h.

static inline void nc_store_tile_8x32(__m512 *r, int mr, int nr, float *c, long ldc, int acc) {
  if (mr == 8 && nr == 32) {
    for (int i = 0; i < 8; i++) {
      float *ci = c + i * ldc;
      if (acc) { r[2 * i] = _mm512_add_ps(r[2 * i], _mm512_loadu_ps(ci)); r[2 * i + 1] = _mm512_add_ps(r[2 * i + 1], _mm512_loadu_ps(ci + 16)); }
      _mm512_storeu_ps(ci, r[2 * i]);
      _mm512_storeu_ps(ci + 16, r[2 * i + 1]);
    }
    return;
  }
  __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
  __mmask16 m1 = nr >= 32 ? 0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
  for (int i = 0; i < mr; i++) {
    float *ci = c + i * ldc;
    __m512 v0 = r[2 * i], v1 = r[2 * i + 1];
    if (acc) { v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, ci)); v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, ci + 16)); }
    _mm512_mask_storeu_ps(ci, m0, v0);
    _mm512_mask_storeu_ps(ci + 16, m1, v1);
  }
}

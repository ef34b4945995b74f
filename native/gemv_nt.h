// The skinny NT product C[i, j] (+)= dot(A row i, B row j), a template: kern_impl.h includes it once per stored
// type of B, after defining NC_GV_B (the element type of B), NC_GV_LOAD(x) (that element as a float) and
// NC_GV(name) (the name of each function of this instance); it undefines them at the end.
//
// For M <= NC_SKINNY_NT rows (decoding up to 8 sequences at once). Columns go 4 at a time and rows up to 4 at a
// time: per 16 k, 4 loads of B and R loads of A feed 4R FMAs into 4R accumulators (16 zmm on AVX-512 for R = 4),
// so the FMAs, not the loads, set the pace. The 4 B rows (4 x K elements) stay in L1 while every row group passes
// over them, so B is still read from memory once, however many rows M has. R is a compile-time constant per
// variant. With bf16 B each element widens to f32 as it is loaded (a zero-extend and a shift), exact, so the
// result is the f32 product of A and the weights' bf16 values, read at half the bytes.
#ifndef NC_DW
#define NC_DW 16
#endif
static inline void NC_GV(dots4)(const int R, int K, const float *A, long lda, const NC_GV_B *B, long ldb, int nc, float out[4][4]) {
  float s[4][4][NC_DW];
  for (int i = 0; i < R; i++) for (int c = 0; c < 4; c++) for (int l = 0; l < NC_DW; l++) s[i][c][l] = 0.f;
  const NC_GV_B *b0 = B, *b1 = B + (nc > 1 ? ldb : 0), *b2 = B + (nc > 2 ? 2 * ldb : 0), *b3 = B + (nc > 3 ? 3 * ldb : 0);
  int k = 0;
  for (; k + NC_DW <= K; k += NC_DW) {
#ifdef NC_GV_PREFETCH
    // the next 4 rows, one block ahead (4 K elements: ~10 KB at K = 1280 bf16), into L2: the hardware prefetcher
    // alone keeps too few lines in flight for 4 interleaved streams per core
    if ((k * (int)sizeof(NC_GV_B)) % 64 == 0)
      for (int c = 0; c < 4; c++) _mm_prefetch((const char *)(B + (4 + c) * ldb + k), _MM_HINT_T1);
#endif
    for (int i = 0; i < R; i++) {
      const float *a = A + i * lda + k;
      for (int l = 0; l < NC_DW; l++) {
        s[i][0][l] += a[l] * NC_GV_LOAD(b0[k + l]);
        s[i][1][l] += a[l] * NC_GV_LOAD(b1[k + l]);
        s[i][2][l] += a[l] * NC_GV_LOAD(b2[k + l]);
        s[i][3][l] += a[l] * NC_GV_LOAD(b3[k + l]);
      }
    }
  }
  const NC_GV_B *bs[4] = { b0, b1, b2, b3 };
  for (int i = 0; i < R; i++)
    for (int c = 0; c < 4; c++) {
      float t = 0;
      for (int l = 0; l < NC_DW; l++) t += s[i][c][l];
      for (int kk = k; kk < K; kk++) t += A[i * lda + kk] * NC_GV_LOAD(bs[c][kk]);
      out[i][c] = t;
    }
}
#define NC_GEMV_NT(RR)                                                                       \
  static void NC_GV(gemv_nt##RR)(int K, const float *A, long lda, const NC_GV_B *B, long ldb, float *C, long ldc, int acc, long j0, long j1) { \
    float r[4][4];                                                                           \
    for (long j = j0; j < j1; j += 4) {                                                      \
      int nc = j1 - j < 4 ? (int)(j1 - j) : 4; /* a short last block repeats row j (unused) */ \
      NC_GV(dots4)(RR, K, A, lda, B + j * ldb, ldb, nc, r);                                  \
      for (int i = 0; i < RR; i++)                                                           \
        for (int c = 0; c < nc; c++) C[i * ldc + j + c] = acc ? C[i * ldc + j + c] + r[i][c] : r[i][c]; \
    }                                                                                        \
  }
NC_GEMV_NT(1)
NC_GEMV_NT(2)
NC_GEMV_NT(3)
NC_GEMV_NT(4)
#undef NC_GEMV_NT
static void NC_GV(k_gemv_nt)(int M, int K, const float *A, long lda, const NC_GV_B *B, long ldb, float *C, long ldc, int acc, long j0, long j1) {
  // rows in groups of 4, the column block outermost so each block of B is loaded from memory once
  for (long jb = j0; jb < j1; jb += 64) {
    long je = jb + 64 < j1 ? jb + 64 : j1;
    for (int i0 = 0; i0 < M; i0 += 4) {
      const float *a = A + (long)i0 * lda;
      float *c = C + (long)i0 * ldc;
      switch (M - i0 < 4 ? M - i0 : 4) {
        case 1: NC_GV(gemv_nt1)(K, a, lda, B, ldb, c, ldc, acc, jb, je); break;
        case 2: NC_GV(gemv_nt2)(K, a, lda, B, ldb, c, ldc, acc, jb, je); break;
        case 3: NC_GV(gemv_nt3)(K, a, lda, B, ldb, c, ldc, acc, jb, je); break;
        default: NC_GV(gemv_nt4)(K, a, lda, B, ldb, c, ldc, acc, jb, je); break;
      }
    }
  }
}
#undef NC_GV_B
#undef NC_GV_LOAD
#undef NC_GV
#undef NC_GV_PREFETCH

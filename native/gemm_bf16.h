// bf16 GEMM (gemm_bf16.c, kernels in kern_avx512bf16.c): C = op(A) op(B) (+ C) with A and B rounded to
// bfloat16 (round to nearest even) while they are packed, products summed in f32, C in f32. It runs on
// CPUs with AVX512_BF16 (vdpbf16ps) while the avx512 table is in use; elsewhere it is absent.
#ifndef NC_GEMM_BF16_H
#define NC_GEMM_BF16_H
#include <stdint.h>

// Register tile of the bf16 micro-kernel, as the f32 one: 8 rows x 32 columns = 16 zmm accumulators.
#define NC_BF_MR 8
#define NC_BF_NR 32

// Packed operands hold 32-bit words, each two bf16 of consecutive k: bits 0-15 k = 2p, bits 16-31 k = 2p + 1
// (0 past the end of K), the pair vdpbf16ps multiplies and adds into one f32 lane.
// A panels: for each pair p, NC_BF_MR words (rows); B panels: for each pair p, NC_BF_NR words (columns).
// A pack: m rows of op(A), A stored [M, K] or (trans) [K, M]; B pack: n columns of op(B), B stored [K, N] or
// (trans) [N, K]; both over depth k, the last panel zero-padded.
typedef void (*nc_bf_pack_fn)(int trans, const float *X, long ldx, int mn, int k, uint32_t *dst);
typedef void (*nc_bf_uk_fn)(int kp, const uint32_t *a, const uint32_t *b, float *c, long ldc, int mr, int nr, int acc);

// kern_avx512bf16.c (x86 builds only)
void nc_bf_packA_avx512(int trans, const float *A, long lda, int m, int k, uint32_t *dst);
void nc_bf_packB_avx512(int trans, const float *B, long ldb, int n, int k, uint32_t *dst);
// B stored as bf16 bits [N, K] (inference weights): n columns of op(B) over depth k, no rounding needed
void nc_bf_packB_bits_avx512(const uint16_t *B, long ldb, int n, int k, uint32_t *dst);
void nc_bf_uk_avx512(int kp, const uint32_t *a, const uint32_t *b, float *c, long ldc, int mr, int nr, int acc);

// The scalar rounding the pack step does, one value: round to nearest even; zero and denormal inputs give a
// signed zero, NaN stays a (quiet) NaN, exactly as vcvtneps2bf16.
static inline uint16_t nc_f32_to_bf16(float x) {
  union { float f; uint32_t u; } v = { x };
  uint32_t u = v.u;
  if ((u & 0x7f800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

int nc_cpu_has_avx512bf16(void);  // isa.c
int nc_bf16_available(void);      // this CPU has AVX512_BF16 and the avx512 table is in use
// Same arguments as nc_gemm / nc_k_matmul (gemm.c, kernels.c); call only when nc_bf16_available().
// sym: C is symmetric, only its upper triangle is computed and then mirrored (as nc_gemm_src)
void nc_gemm_bf16(int tA, int tB, int M, int N, int K, const float *A, long lda, const float *B, long ldb, float *C,
                  long ldc, int acc, int parallel, int sym);
void nc_k_matmul_bf16(const float *A, const float *B, float *C, int batch, int M, int N, int K, int tA, int tB, int acc,
                      long sA, long sB, long sC, int sym);
// C = op(A) B^T (+ C), B bf16 bits [N, K] (inference weights); round_a rounds op(A) to bf16 too (needs
// nc_bf16_available()), else op(A) stays f32. Batched like nc_k_matmul_bf16 (strides in elements).
void nc_k_matmul_bf16w(const float *A, const uint16_t *B, float *C, int batch, int M, int N, int K, int tA, int acc,
                       int round_a, long sA, long sB, long sC);
#endif

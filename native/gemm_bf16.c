// bf16 GEMM driver: the f32 GEMM's blocking (gemm.c) on operands packed as bf16 pairs (gemm_bf16.h):
//   for jc (NC cols of C):  for pc (KC of K):  pack op(B)[KC x NC] to bf16 once, shared by all threads
//     parallel over (MC-row blocks) x (column slices): pack op(A)[MC x KC] to bf16 privately, then
//       for each NR-wide B panel:  for each MR-tall A panel:  micro-kernel (vdpbf16ps, f32 accumulators)
// A bf16 pair is 4 bytes like one f32, so KC doubles for the same cache footprint (Zen 5: 48 KiB L1d,
// 1 MiB L2): a B panel KC/2 * NR * 4 = 32 KiB stays in L1, the A block MC * KC/2 * 4 = 192 KiB in L2.
// Training calls this for the model's linear layers; rounding happens while packing, so the caller's f32
// buffers (weights, activations, gradients) never change. Every block starts at an even k (KC is even),
// so pairs never straddle two blocks.
#include "nc.h"
#include "gemm_bf16.h"
#include <string.h>

#define MC 192
#define KC nc_gemm_kc(1)  // 512 bf16 values (a 32 KiB B panel) with a 48 KiB L1d, 256 with 32 KiB (gemm.c)
#define NC 4096
#define DEEP_B_BYTES (8 << 20)

int nc_bf16_available(void) {
#if defined(__x86_64__) || defined(__i386__)
  return nc_isa == &nc_isa_avx512 && nc_cpu_has_avx512bf16();
#else
  return 0;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
static long packA_words(int m, int k) { return (long)((m + NC_BF_MR - 1) / NC_BF_MR) * NC_BF_MR * ((k + 1) / 2); }
static long packB_words(int k, int n) { return (long)((n + NC_BF_NR - 1) / NC_BF_NR) * NC_BF_NR * ((k + 1) / 2); }

// The block in flight: columns [jc, jc + nc) of C over depth [pc, pc + kc); its op(B) slice packed in Bp.
// With `deep` set, Bp holds every depth slice at once (pc = 0, kc = K; as in gemm.c): slice d at word
// d / 2 * np * NR, and each compute task carries its block of C through all of them.
typedef struct { int jc, nc, pc, kc; uint32_t *Bp; int deep; } bf_block;
static inline uint32_t *bf_slice(const bf_block *blk, int d) {
  long np = (blk->nc + NC_BF_NR - 1) / NC_BF_NR;
  return blk->deep ? blk->Bp + (long)(d / 2) * np * NC_BF_NR : blk->Bp;
}

// op(B) stored as f32 (training): rounded to bf16 pairs while packing.
static void pack_round(const nc_bsrc *s, long k0, long j0, int k, int n, void *dst) {
  const float *B = (const float *)s->B;
  nc_bf_packB_avx512(s->trans, s->trans ? B + j0 * s->ldb + k0 : B + k0 * s->ldb + j0, s->ldb, n, k, (uint32_t *)dst);
}
// op(B) stored as bf16 [N, K] (inference weights): consecutive k of a row already form the pairs; copied as is.
static void pack_bits(const nc_bsrc *s, long k0, long j0, int k, int n, void *dst) {
  nc_bf_packB_bits_avx512((const uint16_t *)s->B + j0 * s->ldb + k0, s->ldb, n, k, (uint32_t *)dst);
}

// Packs `panels` NR-wide panels of the block's op(B) slice per task; a deep block has `chunks` tasks per slice.
typedef struct { const bf_block *blk; const nc_bsrc *B; int panels, chunks; } bf_packb_job;
static void task_packB(void *vctx, int t, int thread) {
  (void)thread;
  const bf_packb_job *g = (const bf_packb_job *)vctx;
  const bf_block *blk = g->blk;
  int d = t / g->chunks * KC, kc = blk->deep ? (blk->kc - d < KC ? blk->kc - d : KC) : blk->kc;
  int np = (blk->nc + NC_BF_NR - 1) / NC_BF_NR, p0 = t % g->chunks * g->panels;
  int p1 = p0 + g->panels < np ? p0 + g->panels : np;
  if (p0 >= p1) return;
  int j0 = blk->jc + p0 * NC_BF_NR, j1 = blk->jc + p1 * NC_BF_NR;
  if (j1 > blk->jc + blk->nc) j1 = blk->jc + blk->nc;
  g->B->pack(g->B, blk->pc + d, j0, kc, j1 - j0, bf_slice(blk, d) + (long)p0 * NC_BF_NR * ((kc + 1) / 2));
}

// Task t: rows [ib * mb, + mb) of op(A) packed, times column slice t % nslices of Bp, into C.
// Depth blocks after the first accumulate. mb: rows per block, MC; 64 for a symmetric C (whose blocks skip the
// panels left of the diagonal, as in gemm.c) and down to 64 for a short M (gemm_bf16_src).
typedef struct {
  const bf_block *blk;
  int tA, M, acc, nslices, mb, sym;
  const float *A; long lda;
  float *C; long ldc;
} bf_compute_job;
static void task_compute(void *vctx, int t, int thread) {
  (void)thread;
  const bf_compute_job *g = (const bf_compute_job *)vctx;
  const bf_block *blk = g->blk;
  int ib = t / g->nslices, sl = t % g->nslices;
  int i0 = ib * g->mb, mc = g->M - i0 < g->mb ? g->M - i0 : g->mb;
  int np = (blk->nc + NC_BF_NR - 1) / NC_BF_NR, pps = (np + g->nslices - 1) / g->nslices;
  int p0 = sl * pps, p1 = p0 + pps < np ? p0 + pps : np;
  if (g->sym && i0 - blk->jc >= NC_BF_NR && p0 < (i0 - blk->jc) / NC_BF_NR) p0 = (i0 - blk->jc) / NC_BF_NR;
  if (p0 >= p1) return;
  int step = blk->deep ? KC : blk->kc;
  uint32_t *Ap = (uint32_t *)nc_ws(0, (size_t)packA_words(mc, step));
  for (int d = 0; d < blk->kc; d += step) {  // one slice, or every slice of a deep block
    int pc = blk->pc + d, kc = blk->kc - d < step ? blk->kc - d : step, kp = (kc + 1) / 2;
    const float *src = g->tA ? g->A + (long)pc * g->lda + i0 : g->A + (long)i0 * g->lda + pc;
    nc_bf_packA_avx512(g->tA, src, g->lda, mc, kc, Ap);
    int acc = pc > 0 || g->acc;
    for (int p = p0; p < p1; p++) {
      int j = p * NC_BF_NR, nr = blk->nc - j < NC_BF_NR ? blk->nc - j : NC_BF_NR;
      const uint32_t *b = bf_slice(blk, d) + (long)p * NC_BF_NR * kp;
      for (int i = 0; i < mc; i += NC_BF_MR) {
        int mr = mc - i < NC_BF_MR ? mc - i : NC_BF_MR;
        nc_bf_uk_avx512(kp, Ap + (long)(i / NC_BF_MR) * NC_BF_MR * kp, b, g->C + (long)(i0 + i) * g->ldc + blk->jc + j,
                        g->ldc, mr, nr, acc);
      }
    }
  }
}
#endif

// The driver on any source of op(B) that packs into bf16 pairs (nc_bsrc).
static void gemm_bf16_src(int tA, int M, int N, int K, const float *A, long lda, const nc_bsrc *B, float *C, long ldc,
                          int acc, int parallel, int sym) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!acc) for (int i = 0; i < M; i++) memset(C + (long)i * ldc, 0, sizeof(float) * N);
    return;
  }
#if defined(__x86_64__) || defined(__i386__)
  int T = parallel ? nc_threads() : 1;
  if ((double)M * N * K < 1e6) T = 1;  // below ~2 MFLOP a parallel job costs more in wake-ups than it saves
  bf_block blk = { 0 };
  bf_packb_job pb = { .blk = &blk, .B = B };
  sym = sym && M == N;
  bf_compute_job cj = { .blk = &blk, .tA = tA, .M = M, .acc = acc, .mb = sym ? 64 : MC, .sym = sym, .A = A, .lda = lda,
                        .C = C, .ldc = ldc };
  int nmb = (M + cj.mb - 1) / cj.mb;
  // short M: row blocks down to 64 rows before the columns are sliced, each slice packing its row block again
  // (as in gemm.c; packing op(A) was 28% of 512 x 4096 x 512 TN with 3 blocks in 4 slices)
  if (!sym && T > 1 && nmb < 2 * T) {
    int want = (M + 4 * T - 1) / (4 * T);
    cj.mb = want < 64 ? 64 : (want + NC_BF_MR - 1) / NC_BF_MR * NC_BF_MR;
    nmb = (M + cj.mb - 1) / cj.mb;
  }
  for (int jc = 0; jc < N; jc += NC) {
    blk.jc = jc; blk.nc = N - jc < NC ? N - jc : NC;
    int np = (blk.nc + NC_BF_NR - 1) / NC_BF_NR;
    // at least 4 tasks per thread for dynamic balance when M is short: slice the columns
    cj.nslices = 1;
    if (T > 1) while (nmb * cj.nslices < 4 * T && cj.nslices * 2 <= np) cj.nslices *= 2;
    // deep when N is narrow and K deep: op(B) packed whole (up to DEEP_B_BYTES), C's blocks stay in L2 (gemm.c)
    blk.deep = K > KC && (double)packB_words(K, blk.nc) * 4 <= DEEP_B_BYTES;
    for (int pc = 0; pc < K; pc += blk.deep ? K : KC) {
      blk.pc = pc; blk.kc = blk.deep ? K : K - pc < KC ? K - pc : KC;
      blk.Bp = (uint32_t *)nc_ws(1, (size_t)packB_words(blk.kc, blk.nc));  // the caller's scratch; workers read it
      // a deep block with enough depth slices packs each slice whole: op(B) stored [K, N] is then read in full
      // rows (N floats at a time) instead of 64-column pieces of rows a row stride apart, which the hardware
      // prefetcher does not follow (the loads were 86% of the bf16 pack of 512 x 4096 x 512 TN)
      int ptasks = T > 1 ? (blk.deep && (K + KC - 1) / KC >= 2 * T ? 1 : 4 * T) : 1;
      pb.panels = (np + ptasks - 1) / ptasks;
      pb.chunks = (np + pb.panels - 1) / pb.panels;
      int nt = pb.chunks * (blk.deep ? (K + KC - 1) / KC : 1), ntc = nmb * cj.nslices;
      if (T > 1) nc_parallel(nt, task_packB, &pb); else for (int t = 0; t < nt; t++) task_packB(&pb, t, 0);
      if (T > 1) nc_parallel(ntc, task_compute, &cj); else for (int t = 0; t < ntc; t++) task_compute(&cj, t, 0);
    }
  }
  if (sym) nc_mirror(M, C, ldc, T > 1);
#else
  (void)tA; (void)A; (void)lda; (void)B; (void)parallel; (void)sym;
#endif
}

void nc_gemm_bf16(int tA, int tB, int M, int N, int K, const float *A, long lda, const float *B, long ldb, float *C,
                  long ldc, int acc, int parallel, int sym) {
#if defined(__x86_64__) || defined(__i386__)
  nc_bsrc src = { .B = B, .ldb = ldb, .trans = tB, .pack = pack_round };
#else
  nc_bsrc src = { .B = B, .ldb = ldb, .trans = tB, .pack = NULL };  // never runs: nc_bf16_available() is 0
#endif
  gemm_bf16_src(tA, M, N, K, A, lda, &src, C, ldc, acc, parallel, sym);
}

// Batched: one product after another, each threaded inside (the model's linear layers are batch 1), so
// sC == 0 (one output for every item) behaves as on the f32 path run in order.
void nc_k_matmul_bf16(const float *A, const float *B, float *C, int batch, int M, int N, int K, int tA, int tB, int acc,
                      long sA, long sB, long sC, int sym) {
  for (int b = 0; b < batch; b++)
    nc_gemm_bf16(tA, tB, M, N, K, A + b * sA, tA ? M : K, B + b * sB, tB ? K : N, C + b * sC, N, acc, 1, sym);
}

// Inference with bf16 weights B [N, K] (a linear layer: C = op(A) B^T). round_a: op(A) rounded to bf16 too, the
// products on vdpbf16ps (call only when nc_bf16_available()); else A stays f32 and each weight widens to f32
// (nc_gemm_bf16w). Decoding (M <= NC_SKINNY_NT) streams B's rows either way: with round_a the few rows of A are
// rounded into scratch first (M x K floats), so both paths give the same products as the packed one.
void nc_k_matmul_bf16w(const float *A, const uint16_t *B, float *C, int batch, int M, int N, int K, int tA, int acc,
                       int round_a, long sA, long sB, long sC) {
  for (int b = 0; b < batch; b++) {
    const float *a = A + b * sA;
    const uint16_t *w = B + b * sB;
    float *c = C + b * sC;
    long lda = tA ? M : K;
    if (!round_a) { nc_gemm_bf16w(tA, M, N, K, a, lda, w, K, c, N, acc, 1); continue; }
    if (M <= NC_SKINNY_NT) {
      float *ar = nc_ws(2, (size_t)M * K);  // row-major op(A), rounded
      for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++) ar[(long)i * K + k] = nc_bf16_to_f32(nc_f32_to_bf16(tA ? a[(long)k * lda + i] : a[(long)i * lda + k]));
      nc_gemm_bf16w(0, M, N, K, ar, K, w, K, c, N, acc, 1);
      continue;
    }
#if defined(__x86_64__) || defined(__i386__)
    nc_bsrc src = { .B = w, .ldb = K, .trans = 1, .pack = pack_bits };
    gemm_bf16_src(tA, M, N, K, a, lda, &src, c, N, acc, 1, 0);
#endif
  }
}

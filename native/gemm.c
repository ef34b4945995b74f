// GEMM driver: Goto/BLIS-style blocking around an MR x NR register-tiled micro-kernel.
//   for jc (NC cols of C):  for pc (KC of K):  pack B[KC x NC] once, shared by all threads
//     parallel over (ic blocks of MC rows) x (column slices): pack A[MC x KC] privately, then
//       for jr (NR-wide B micro-panel, stays in L1):  for ir (MR-tall A micro-panel, streamed from L2): micro-kernel
// Sizes for this machine (Zen 5: 48 KiB L1d, 1 MiB L2 per core): a B micro-panel KC*NR*4 = 32 KiB sits in L1,
// the A block MC*KC*4 = 192 KiB in L2, the packed B block KC*NC*4 = 4 MiB in L3 (KC follows the L1: see nc_gemm_kc).
#include "nc.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MC  // -DMC=... for blocking experiments
#define MC 192
#endif

// KC, the depth of a block, from the L1 data cache: a B micro-panel (KC x NR floats) should fill at most about 2/3
// of it, beside the A micro-panel streaming through. 256 (a 32 KiB panel) where L1d is 48 KiB or more (Zen 5:
// measured best; 128 was 1-4% slower with AVX2 and AVX-512); 128 (16 KiB) where it is 32 KiB (Zen 2-4, most Intel
// cores), whose L1 a 32 KiB panel would fill alone (BLIS blocks its Zen sgemm to a 16 KiB B panel too). The bf16
// driver's KC counts bf16 values, two a 32-bit word: twice these. NANOCHAT_GEMM_KC (f32 depth: 64 to 1024, a multiple
// of 8) overrides it, to time both on a new CPU with `nanochat bench kernels`.
static int kc_f32;
int nc_gemm_kc(int bf16) {
  if (!kc_f32) {  // a benign race: every thread computes the same value
    int kc = 256;
#ifdef _SC_LEVEL1_DCACHE_SIZE
    long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    if (l1 > 0 && l1 < 48 * 1024) kc = 128;
#endif
    const char *e = getenv("NANOCHAT_GEMM_KC");
    int want = e ? atoi(e) : 0;
    if (want >= 64 && want <= 1024 && want % 8 == 0) kc = want;
    kc_f32 = kc;
  }
  return bf16 ? 2 * kc_f32 : kc_f32;
}
#define KC nc_gemm_kc(0)
#define NC 4096
#ifndef DEEP_B_BYTES  // packed op(B) up to this size is packed whole when K > KC (-DDEEP_B_BYTES=0: never)
#define DEEP_B_BYTES (8 << 20)
#endif

// ---- portable packing and micro-kernel (the generic ISA; also the edge/oracle versions)
// A panel layout: for each k, MR consecutive rows (zero-padded past m).
void nc_packA_ref(int trans, const float *A, long lda, int m, int k, float *dst) {
  for (int i0 = 0; i0 < m; i0 += NC_MR) {
    int mr = m - i0 < NC_MR ? m - i0 : NC_MR;
    for (int kk = 0; kk < k; kk++) {
      float *d = dst + (long)kk * NC_MR;
      for (int ii = 0; ii < mr; ii++) d[ii] = trans ? A[(long)kk * lda + i0 + ii] : A[(long)(i0 + ii) * lda + kk];
      for (int ii = mr; ii < NC_MR; ii++) d[ii] = 0.f;
    }
    dst += (long)k * NC_MR;
  }
}

// B panel layout: for each k, NR consecutive columns (zero-padded past n).
void nc_packB_ref(int trans, const float *B, long ldb, int k, int n, float *dst) {
  for (int j0 = 0; j0 < n; j0 += NC_NR) {
    int nr = n - j0 < NC_NR ? n - j0 : NC_NR;
    for (int kk = 0; kk < k; kk++) {
      float *d = dst + (long)kk * NC_NR;
      for (int jj = 0; jj < nr; jj++) d[jj] = trans ? B[(long)(j0 + jj) * ldb + kk] : B[(long)kk * ldb + j0 + jj];
      for (int jj = nr; jj < NC_NR; jj++) d[jj] = 0.f;
    }
    dst += (long)k * NC_NR;
  }
}

void nc_packB_bf16_ref(const uint16_t *B, long ldb, int k, int n, float *dst) {
  for (int j0 = 0; j0 < n; j0 += NC_NR) {
    int nr = n - j0 < NC_NR ? n - j0 : NC_NR;
    for (int kk = 0; kk < k; kk++) {
      float *d = dst + (long)kk * NC_NR;
      for (int jj = 0; jj < nr; jj++) d[jj] = nc_bf16_to_f32(B[(long)(j0 + jj) * ldb + kk]);
      for (int jj = nr; jj < NC_NR; jj++) d[jj] = 0.f;
    }
    dst += (long)k * NC_NR;
  }
}

void nc_uk_ref(int kc, const float *a, const float *b, float *c, long ldc, int mr, int nr, int acc) {
  float t[NC_MR][NC_NR];
  memset(t, 0, sizeof t);
  for (int k = 0; k < kc; k++)
    for (int i = 0; i < NC_MR; i++) {
      float ai = a[k * NC_MR + i];
      for (int j = 0; j < NC_NR; j++) t[i][j] += ai * b[k * NC_NR + j];
    }
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) c[i * ldc + j] = acc ? c[i * ldc + j] + t[i][j] : t[i][j];
}

static void zero_or_keep(int M, int N, float *C, long ldc, int acc) {
  if (acc) return;
  for (int i = 0; i < M; i++) memset(C + (long)i * ldc, 0, sizeof(float) * N);
}

// ---- macro-kernel: C[m x n] (+)= Ap Bp over kc
static void macro2(int m, int n, int kc, const float *Ap, long as, const float *Bp, long bs, float *C, long ldc, int acc) {
  nc_uk_fn uk = nc_isa->uk;
  for (int j = 0; j < n; j += NC_NR) {
    int nr = n - j < NC_NR ? n - j : NC_NR;
    const float *b = Bp + (long)(j / NC_NR) * bs;
    for (int i = 0; i < m; i += NC_MR) {
      int mr = m - i < NC_MR ? m - i : NC_MR;
      uk(kc, Ap + (long)(i / NC_MR) * as, b, C + (long)i * ldc + j, ldc, mr, nr, acc);
    }
  }
}
static void macro(int m, int n, int kc, const float *Ap, const float *Bp, float *C, long ldc, int acc) {
  macro2(m, n, kc, Ap, (long)kc * NC_MR, Bp, (long)kc * NC_NR, C, ldc, acc);
}

void nc_gemm_packed(int M, int N, int K, const float *Ap, long as, const float *Bp, long bs, float *C, long ldc, int acc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) { zero_or_keep(M, N, C, ldc, acc); return; }
  macro2(M, N, K, Ap, as, Bp, bs, C, ldc, acc);
}

// The block of the product in flight: columns [jc, jc + nc) of C, depth [pc, pc + kc), its slice of
// op(B) packed into Bp. The driver moves it; the two task kinds below read it.
// With `deep` set, Bp holds every depth slice of the columns at once (pc = 0, kc = K): slice p at
// Bp + p * KC * np * NR, and each compute task runs its row block through all of them (see nc_gemm_src).
typedef struct { int jc, nc, pc, kc; float *Bp; int deep; } gemm_block;

// the packed slice at depth d (a multiple of KC) of a deep block, or the one slice of a shallow one
static inline float *block_slice(const gemm_block *blk, int d) {
  long np = (blk->nc + NC_NR - 1) / NC_NR;
  return blk->deep ? blk->Bp + (long)d * np * NC_NR : blk->Bp;
}

// op(B) stored as f32: the ISA's packer on the slice at depth k0, columns j0.
static void pack_f32(const nc_bsrc *s, long k0, long j0, int k, int n, void *dst) {
  const float *B = (const float *)s->B;
  nc_isa->packB(s->trans, s->trans ? B + j0 * s->ldb + k0 : B + k0 * s->ldb + j0, s->ldb, k, n, (float *)dst);
}
// op(B) stored as bf16 [N, K] (inference weights): widened to f32 while packing, exact.
static void pack_bf16_widen(const nc_bsrc *s, long k0, long j0, int k, int n, void *dst) {
  nc_isa->packB_bf16((const uint16_t *)s->B + j0 * s->ldb + k0, s->ldb, k, n, (float *)dst);
}

// Packs the block's op(B) slice into Bp, `panels` NR-wide panels per task.
// A deep block has `chunks` tasks per depth slice: task t packs chunk t % chunks of slice t / chunks.
typedef struct { const gemm_block *blk; const nc_bsrc *B; int panels, chunks; } packb_job;
static void task_packB(void *vctx, int t, int thread) {
  (void)thread;
  const packb_job *g = (const packb_job *)vctx;
  const gemm_block *blk = g->blk;
  int d = blk->pc + t / g->chunks * KC, left = blk->kc - (d - blk->pc);
  int kc = blk->deep ? (left < KC ? left : KC) : blk->kc;
  int p0 = t % g->chunks * g->panels, np = (blk->nc + NC_NR - 1) / NC_NR;
  int p1 = p0 + g->panels < np ? p0 + g->panels : np;
  if (p0 >= p1) return;
  int j0 = blk->jc + p0 * NC_NR, j1 = blk->jc + p1 * NC_NR;
  if (j1 > blk->jc + blk->nc) j1 = blk->jc + blk->nc;
  g->B->pack(g->B, d, j0, kc, j1 - j0, block_slice(blk, d - blk->pc) + (long)p0 * kc * NC_NR);
}

// Task t packs row block t / nslices of op(A) over the block's depth and multiplies it by column slice
// t % nslices of Bp into C; depth slices after the first (pc > 0) accumulate. The nmb row blocks split
// the M rows evenly, in whole MR-row panels of at most MC rows: M = 4096 in blocks of MC = 192 leaves
// a 64-row 22nd block, and the thread that draws it idles ~3% of the product at the end.
typedef struct {
  const gemm_block *blk;
  int tA, M, acc, nslices, nmb, sym;
  const float *A; long lda;
  float *C; long ldc;
} compute_job;
static void task_compute(void *vctx, int t, int thread) {
  (void)thread;
  const compute_job *g = (const compute_job *)vctx;
  const gemm_block *blk = g->blk;
  int ib = t / g->nslices, sl = t % g->nslices;
  long panels = (g->M + NC_MR - 1) / NC_MR;
  int i0 = (int)(panels * ib / g->nmb) * NC_MR, i1 = (int)(panels * (ib + 1) / g->nmb) * NC_MR;
  int mc = (i1 < g->M ? i1 : g->M) - i0;
  int np = (blk->nc + NC_NR - 1) / NC_NR;
  int pps = (np + g->nslices - 1) / g->nslices;
  int p0 = sl * pps, p1 = p0 + pps < np ? p0 + pps : np;
  // symmetric C: only the panels that reach the diagonal or beyond (column >= i0); nc_mirror fills the rest
  if (g->sym && i0 - blk->jc >= NC_NR && p0 < (i0 - blk->jc) / NC_NR) p0 = (i0 - blk->jc) / NC_NR;
  if (p0 >= p1) return;
  int j0 = p0 * NC_NR, j1 = p1 * NC_NR < blk->nc ? p1 * NC_NR : blk->nc;
  float *c = g->C + (long)i0 * g->ldc + blk->jc + j0;
  int step = blk->deep ? KC : blk->kc;
  float *Ap = nc_ws(0, (size_t)nc_packA_size(mc, step));
  for (int d = 0; d < blk->kc; d += step) {  // one slice, or every slice of a deep block
    int pc = blk->pc + d, kc = blk->kc - d < step ? blk->kc - d : step;
    const float *src = g->tA ? g->A + (long)pc * g->lda + i0 : g->A + (long)i0 * g->lda + pc;
    nc_isa->packA(g->tA, src, g->lda, mc, kc, Ap);
    macro(mc, j1 - j0, kc, Ap, block_slice(blk, d) + (long)p0 * kc * NC_NR, c, g->ldc, pc > 0 || g->acc);
  }
}

// ---- skinny path: M <= NC_SKINNY, or NC_SKINNY_NT when B is transposed (one token per sequence when
// decoding). Packing B would move as many bytes as the product itself reads, so B is streamed once
// instead; threads split the columns.
// bf16 B (inference weights, stored [N, K]) streams the same way, 2 bytes per weight instead of 4.
typedef struct { int tB, M, K, acc; const float *A; long lda; const void *B; long ldb; int b16; float *C; long ldc, chunk, N; } sjob;
static void task_skinny(void *vctx, int t, int thread) {
  (void)thread;
  sjob *g = (sjob *)vctx;
  long j0 = t * g->chunk, j1 = j0 + g->chunk < g->N ? j0 + g->chunk : g->N;
  if (j0 >= j1) return;
  if (g->b16) nc_isa->gemv_nt_bf16(g->M, g->K, g->A, g->lda, (const uint16_t *)g->B, g->ldb, g->C, g->ldc, g->acc, j0, j1);
  else if (g->tB) nc_isa->gemv_nt(g->M, g->K, g->A, g->lda, (const float *)g->B, g->ldb, g->C, g->ldc, g->acc, j0, j1);
  else nc_isa->gemv_nn(g->M, g->K, g->A, g->lda, (const float *)g->B, g->ldb, g->C, g->ldc, g->acc, j0, j1);
}
static void skinny(int tA, int tB, int M, int N, int K, const float *A, long lda, const void *B, long ldb, int b16, float *C, long ldc, int acc, int parallel) {
  if (tA) {  // make op(A) row-major: it is only M x K floats
    float *At = nc_ws(0, (size_t)M * K);
    for (int k = 0; k < K; k++) for (int i = 0; i < M; i++) At[(long)i * K + k] = A[(long)k * lda + i];
    A = At; lda = K;
  }
  sjob g = { .tB = tB, .M = M, .K = K, .acc = acc, .A = A, .lda = lda, .B = B, .ldb = ldb, .b16 = b16, .C = C, .ldc = ldc,
             .chunk = N, .N = N };
  int T = parallel ? nc_threads() : 1;
  // split when B is over ~1 MiB: below that a wake-up costs more than the bandwidth gained
  if (T > 1 && (double)N * K >= 262144.0) {
    int nt = tB ? 4 * T : T;  // NN wants long row runs per task (see k_gemv_nn)
    g.chunk = ((N + nt - 1) / nt + 15) / 16 * 16;
    nc_parallel((int)((N + g.chunk - 1) / g.chunk), task_skinny, &g);
  } else task_skinny(&g, 0, 0);
}

// C[i][j] = C[j][i] for i > j: the strict lower triangle from the upper, in 32 x 32 blocks (a row of the block
// reads a column of the upper: 32 lines, all in L1). Square n x n, row stride ldc. Task t fills the lower part of
// one block of 32 rows, the last (longest) first so the dynamic split ends even; in one thread this was 12% of
// a symmetric 512 x 512 x 512 product (one Zen 5 core).
typedef struct { int n; float *C; long ldc; } mirror_job;
static void task_mirror(void *vctx, int t, int thread) {
  (void)thread;
  const mirror_job *g = (const mirror_job *)vctx;
  int n = g->n, i0 = 32 * ((n + 31) / 32 - 1 - t);
  float *C = g->C;
  long ldc = g->ldc;
  for (int j0 = 0; j0 <= i0; j0 += 32)
    for (int i = i0; i < i0 + 32 && i < n; i++)
      for (int j = j0; j < j0 + 32 && j < i; j++) C[(long)i * ldc + j] = C[(long)j * ldc + i];
}
void nc_mirror(int n, float *C, long ldc, int parallel) {
  mirror_job g = { .n = n, .C = C, .ldc = ldc };
  int nt = (n + 31) / 32;
  if (parallel && nc_threads() > 1 && n >= 256) nc_parallel(nt, task_mirror, &g);
  else for (int t = 0; t < nt; t++) task_mirror(&g, t, 0);
}

void nc_gemm_src(int tA, int M, int N, int K, const float *A, long lda, const nc_bsrc *B, float *C, long ldc, int acc,
                 int parallel, int sym) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) { zero_or_keep(M, N, C, ldc, acc); return; }
  int T = parallel ? nc_threads() : 1;
  // below ~2 MFLOP a parallel job costs more in wake-ups than it saves
  if ((double)M * N * K < 1e6) T = 1;
  gemm_block blk = { 0 };
  packb_job pb = { .blk = &blk, .B = B };
  sym = sym && M == N;
  compute_job cj = { .blk = &blk, .tA = tA, .M = M, .acc = acc, .A = A, .lda = lda, .C = C, .ldc = ldc, .sym = sym };
  int nmb = (M + MC - 1) / MC;
  // symmetric: row blocks of 64, so the part left of the diagonal that a block computes anyway is small (on
  // 512 x 512, 56% of the full product instead of 62.5% with 4 blocks); largest first for the dynamic balance
  if (sym && nmb < (M + 63) / 64) nmb = (M + 63) / 64;
  // Short M: rows in blocks down to 64 before the columns are sliced (below), since every column slice of a row
  // block packs that block again (512 x 4096 x 512 TN, a d8 weight gradient: 3 blocks of 192 rows in 4 slices
  // each packed A 4 times; 8 blocks of 64 pack it once: +3-8%). Only below 2 blocks a thread: at M = 1024 the
  // 6 blocks in 2 slices measured 5-10% faster than 8 blocks of 128 (Zen 5, 2 threads).
  if (T > 1 && nmb < 2 * T) nmb = (M + 63) / 64 < 4 * T ? (M + 63) / 64 : 4 * T;
  if (T > 1 && nmb % T) nmb += T - nmb % T;  // every thread the same number of equal row blocks
  if (nmb > (M + NC_MR - 1) / NC_MR) nmb = (M + NC_MR - 1) / NC_MR;
  cj.nmb = nmb;
  for (int jc = 0; jc < N; jc += NC) {
    blk.jc = jc; blk.nc = N - jc < NC ? N - jc : NC;
    int np = (blk.nc + NC_NR - 1) / NC_NR;
    // enough tasks for dynamic balance: at least 4 per thread when M is short, slicing columns
    cj.nslices = 1;
    if (T > 1) while (nmb * cj.nslices < 4 * T && cj.nslices * 2 <= np) cj.nslices *= 2;
    // Deep: with N narrow and K deep (the lm head's dx, 8192 x 8192 x 256 at d4), the row blocks of C would be
    // read and written once per depth slice (32 times, 16 MiB each); instead op(B) is packed whole (up to
    // DEEP_B_BYTES, in L3) and each task carries its block of C, in L2, through all of K.
    blk.deep = K > KC && (double)nc_packB_size(K, blk.nc) * sizeof(float) <= DEEP_B_BYTES;
    for (int pc = 0; pc < K; pc += blk.deep ? K : KC) {
      blk.pc = pc; blk.kc = blk.deep ? K : K - pc < KC ? K - pc : KC;
      // the shared packed-B block lives in the caller's thread scratch (slot 1); workers only read it
      blk.Bp = nc_ws(1, (size_t)nc_packB_size(blk.kc, blk.nc));
      // a deep block with enough depth slices packs each slice whole: op(B) stored [K, N] is then read in full
      // rows (N floats at a time) instead of 64-column pieces of rows a row stride apart, which the hardware
      // prefetcher does not follow (the loads were 86% of the bf16 pack of 512 x 4096 x 512 TN)
      int ptasks = T > 1 ? (blk.deep && (K + KC - 1) / KC >= 2 * T ? 1 : 4 * T) : 1;
      pb.panels = (np + ptasks - 1) / ptasks;
      pb.chunks = (np + pb.panels - 1) / pb.panels;
      int nt = pb.chunks * (blk.deep ? (K + KC - 1) / KC : 1);
      if (T > 1) nc_parallel(nt, task_packB, &pb); else for (int t = 0; t < nt; t++) task_packB(&pb, t, 0);
      int ntc = nmb * cj.nslices;
      if (T > 1) nc_parallel(ntc, task_compute, &cj); else for (int t = 0; t < ntc; t++) task_compute(&cj, t, 0);
    }
  }
  if (sym) nc_mirror(M, C, ldc, T > 1);
}

void nc_gemm_sym(int tA, int tB, int M, int N, int K, const float *A, long lda, const float *B, long ldb, float *C, long ldc,
                 int acc, int parallel, int sym) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) { zero_or_keep(M, N, C, ldc, acc); return; }
  if (M <= NC_SKINNY || (tB && M <= NC_SKINNY_NT)) { skinny(tA, tB, M, N, K, A, lda, B, ldb, 0, C, ldc, acc, parallel); return; }
  nc_bsrc src = { .B = B, .ldb = ldb, .trans = tB, .pack = pack_f32 };
  nc_gemm_src(tA, M, N, K, A, lda, &src, C, ldc, acc, parallel, sym);
}

void nc_gemm_bf16w(int tA, int M, int N, int K, const float *A, long lda, const uint16_t *B, long ldb, float *C, long ldc,
                   int acc, int parallel) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) { zero_or_keep(M, N, C, ldc, acc); return; }
  if (M <= NC_SKINNY_NT) { skinny(tA, 1, M, N, K, A, lda, B, ldb, 1, C, ldc, acc, parallel); return; }
  nc_bsrc src = { .B = B, .ldb = ldb, .trans = 1, .pack = pack_bf16_widen };
  nc_gemm_src(tA, M, N, K, A, lda, &src, C, ldc, acc, parallel, 0);
}

void nc_gemm(int tA, int tB, int M, int N, int K, const float *A, long lda, const float *B, long ldb, float *C, long ldc, int acc, int parallel) {
  nc_gemm_sym(tA, tB, M, N, K, A, lda, B, ldb, C, ldc, acc, parallel, 0);
}

// Shared declarations of the nanochat native kernels (C only; all glue lives in binding.c / TS).
#ifndef NC_H
#define NC_H
#include <stddef.h>
#include <stdint.h>

// ---- GEMM register tile: the micro-kernel computes an MR x NR block of C.
// 8 x 32 on AVX-512 = 16 zmm accumulators (2 per row), 2 B loads + 8 broadcasts per k step
// for 16 FMAs; the AVX2 and scalar kernels consume the same packed layout.
#define NC_MR 8
#define NC_NR 32
// at most this many rows of C take the unpacked path (packing would cost as much as the product):
// NN (rank-1 updates, cost grows with every row) up to 4, NT (column-blocked dot products) up to 8
#define NC_SKINNY 4
#define NC_SKINNY_NT 8

// ---- thread pool (pool.c). A process-wide pool; jobs are serialized by nc_lock().
typedef void (*nc_task_fn)(void *ctx, int task, int thread);
int nc_threads(void);                 // pool size including the calling thread
void nc_lock(void);                   // every entry point that may run parallel work holds this
void nc_unlock(void);
void nc_parallel(int ntasks, nc_task_fn fn, void *ctx);  // runs fn(ctx, t, thread) for t < ntasks; caller helps
void nc_pool_shutdown(void);          // joins the workers (env cleanup); a later job restarts them
// peak.c: float32 FMA FLOP/s of `threads` pool threads (0 = all), best of `reps` short runs, widest ISA that wins;
// with bf16 set, the vdpbf16ps FLOP/s instead (0 and isa "none" without AVX512_BF16)
typedef struct { double flops; const char *isa; int chains, threads, runs; } nc_peak_t;
void nc_peak_measure(int threads, int reps, int bf16, nc_peak_t *out);
// per-OS-thread scratch: slot-indexed, 64-byte aligned, grows and never shrinks
float *nc_ws(int slot, size_t nfloats);
void nc_ws_init(void);                // addon load: creates the key whose destructor frees a pool worker's scratch
void nc_ws_release_thread(int last);  // env cleanup: free this thread's scratch; `last` also deletes the key

// ---- instruction-set specific kernels: one table per instruction set (kern_*.c), chosen in isa.c
typedef void (*nc_uk_fn)(int kc, const float *a, const float *b, float *c, long ldc, int mr, int nr, int acc);
typedef void (*nc_packA_fn)(int trans, const float *A, long lda, int m, int k, float *dst);
typedef void (*nc_packB_fn)(int trans, const float *B, long ldb, int k, int n, float *dst);
// B stored as bf16 bits [N x K] (inference weights, transposed as a linear layer's): packed to the f32 layout, exact
typedef void (*nc_packB_bf16_fn)(const uint16_t *B, long ldb, int k, int n, float *dst);

// op(B) as the GEMM drivers (gemm.c, gemm_bf16.c) see it: where it is stored and how the [k x n] slice at depth
// k0, columns j0 is packed into the driver's panel layout (f32 panels for nc_gemm_src, bf16 pairs for the bf16
// driver). The stored type (f32, bf16) is the packer's business; the drivers only call it.
typedef struct nc_bsrc {
  const void *B;
  long ldb;   // row stride of the stored matrix, in its elements
  int trans;  // B stored [N, K] instead of [K, N]
  void (*pack)(const struct nc_bsrc *s, long k0, long j0, int k, int n, void *dst);
} nc_bsrc;

typedef struct {
  const char *name;
  nc_uk_fn uk;
  nc_packA_fn packA;
  nc_packB_fn packB;
  // skinny GEMM (M <= NC_SKINNY rows, NT up to NC_SKINNY_NT; decoding): columns [j0, j1) of C; A row-major [M x K] (ld lda)
  void (*gemv_nn)(int M, int K, const float *A, long lda, const float *B, long ldb, float *C, long ldc, int acc, long j0, long j1);
  void (*gemv_nt)(int M, int K, const float *A, long lda, const float *B, long ldb, float *C, long ldc, int acc, long j0, long j1);
  // the same NT product with B stored as bf16 bits [N x K], each weight widened to f32 as it is read
  void (*gemv_nt_bf16)(int M, int K, const float *A, long lda, const uint16_t *B, long ldb, float *C, long ldc, int acc, long j0, long j1);
  nc_packB_bf16_fn packB_bf16;
  // elementwise, on [0, n)
  void (*add)(const float *a, const float *b, float *o, long n, int acc);
  void (*mul)(const float *a, const float *b, float *o, long n, int acc);
  void (*scale)(const float *x, float alpha, float *o, long n, int acc);
  void (*lerp)(float *d, const float *s, float t, long n);
  double (*sum)(const float *x, long n);
  double (*sumsq)(const float *x, long n);
  void (*relu2_fwd)(const float *x, float *y, long n);
  void (*relu2_bwd)(const float *dy, const float *x, float *dx, long n, int acc);
  void (*softcap_fwd)(const float *x, float *y, long n, float cap);
  void (*softcap_bwd)(const float *dy, const float *y, float *dx, long n, float cap, int acc);
  void (*adamw)(float *p, const float *g, float *m, float *v, long n, float lr, float b1, float b2, float eps, float wd, float bc1, float bc2);
  // rowwise, rows [r0, r1)
  void (*rms_fwd)(const float *x, float *y, float *rstd, long r0, long r1, long dim, float eps);
  void (*rms_bwd)(const float *dy, const float *y, const float *rstd, float *dx, long r0, long r1, long dim, int acc);
  void (*rope)(const float *src, float *dst, const float *cos, const float *sin, long r0, long r1, long T, long H, long D, long pos0, int inv, int acc);
  void (*ce_fwd)(const float *logits, const int32_t *t, float *loss, float *lse, long r0, long r1, long V, long stride);
  void (*ce_bwd)(const float *logits, const int32_t *t, const float *lse, const float *dloss, float *dl, long r0, long r1, long V, long stride);
  // cross-entropy of cap * tanh(raw / cap), fused (kern_softcap_ce.h): raw lm_head rows in, dloss/draw out
  void (*scce_fwd)(const float *raw, const int32_t *t, float *loss, float *lse, long r0, long r1, long V, long stride,
                   float cap);
  void (*scce_bwd)(const float *raw, const int32_t *t, const float *lse, const float *dloss, float *dl, long r0, long r1,
                   long V, long stride, float cap);
  // attention helpers on one (rows x cols) score block S (row stride ld), see attention.c
  void (*att_softmax)(float *S, long ld, int rows, int cols, float scale, long qpos0, long kpos0, float *m, float *l,
                      float *alpha);
  void (*att_p)(float *S, long ld, int rows, int cols, float scale, long qpos0, long kpos0, const float *lse);
  void (*att_ds)(const float *P, float *dP, long ld, int rows, int cols, const float *delta, float scale);
  // one query row that sees all Tk keys (decoding): o (D floats) and its log-sum-exp; S: Tk floats of scratch
  void (*att_row)(const float *q, const float *k, const float *v, long ldk, int Tk, int D, float scale, float *S, float *o, float *lse);
} nc_isa_t;

extern const nc_isa_t *nc_isa;  // the table in use
extern const nc_isa_t nc_isa_generic, nc_isa_avx2, nc_isa_avx512;  // the AVX tables exist in x86 builds only
int nc_cpu_has_avx512(void);      // this CPU runs the AVX-512 table (F, VL, BW, DQ, FMA)
int nc_cpu_has_avx2(void);        // this CPU runs the AVX2 table (AVX2, FMA)
const char *nc_set_isa(const char *name);  // "avx512" | "avx2" | "generic" | "auto"; returns the name in use
void nc_isa_init(void);           // first load: the table NANOCHAT_ISA names, else the best this CPU runs

// ---- GEMM (gemm.c): C = op(A) op(B) (+ C when acc); lda/ldb/ldc are row strides of the stored matrices.
void nc_gemm(int tA, int tB, int M, int N, int K, const float *A, long lda, const float *B, long ldb, float *C, long ldc, int acc, int parallel);
// The driver alone (no skinny path): op(B) from any source `B` packs into f32 panels (nc_bsrc).
// sym: the caller promises that C (M = N) is symmetric, op(A) op(B) and, when accumulating, C itself (X X^T, or A A
// with A symmetric: Muon's Newton-Schulz products); only the tiles on or right of the diagonal are computed, and
// the lower triangle is copied from the upper (nc_mirror): about half the work.
void nc_gemm_src(int tA, int M, int N, int K, const float *A, long lda, const nc_bsrc *B, float *C, long ldc, int acc,
                 int parallel, int sym);
void nc_gemm_sym(int tA, int tB, int M, int N, int K, const float *A, long lda, const float *B, long ldb, float *C, long ldc,
                 int acc, int parallel, int sym);
void nc_mirror(int n, float *C, long ldc, int parallel);  // C[i][j] = C[j][i] for i > j
int nc_gemm_kc(int bf16);  // the depth of a GEMM block (from the L1 data cache; NANOCHAT_GEMM_KC overrides)
// C = op(A) B^T (+ C) with B stored as bf16 bits [N x K] (inference weights), f32 products and sums: skinny M
// streams B's bf16 rows once; larger M packs B widened to f32 panels for the f32 micro-kernel.
void nc_gemm_bf16w(int tA, int M, int N, int K, const float *A, long lda, const uint16_t *B, long ldb, float *C, long ldc,
                   int acc, int parallel);
// C = Ap Bp (+C) on packed operands: Ap holds ceil(M/MR) panels (MR floats per k), `as` floats apart;
// Bp holds ceil(N/NR) panels (NR floats per k), `bs` floats apart (a K-slice of a longer panel is fine).
void nc_gemm_packed(int M, int N, int K, const float *Ap, long as, const float *Bp, long bs, float *C, long ldc, int acc);
static inline long nc_packA_size(int m, int k) { return (long)((m + NC_MR - 1) / NC_MR) * NC_MR * k; }
static inline long nc_packB_size(int k, int n) { return (long)((n + NC_NR - 1) / NC_NR) * NC_NR * k; }
void nc_packA_ref(int trans, const float *A, long lda, int m, int k, float *dst);
void nc_packB_ref(int trans, const float *B, long ldb, int k, int n, float *dst);
void nc_packB_bf16_ref(const uint16_t *B, long ldb, int k, int n, float *dst);
// one bf16 (the top half of an f32) as the f32 it stands for: exact
static inline float nc_bf16_to_f32(uint16_t h) { union { uint32_t u; float f; } v = { (uint32_t)h << 16 }; return v.f; }
void nc_uk_ref(int kc, const float *a, const float *b, float *c, long ldc, int mr, int nr, int acc);

// ---- attention (attention.c)
typedef struct { int B, Tq, Tk, H, Hkv, D; float scale; long kvStride; } nc_att_shape;
void nc_attention_fwd(const float *q, const float *k, const float *v, float *out, float *lse, const nc_att_shape *s);
void nc_attention_bwd(const float *dout, const float *q, const float *k, const float *v, const float *out, const float *lse,
                      float *dq, float *dk, float *dv, const nc_att_shape *s);
#endif

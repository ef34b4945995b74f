// Threaded wrappers: split the big elementwise/rowwise kernels across the pool, and the
// few kernels that need no ISA-specific code (transpose, embedding, batched matmul dispatch).
// Each wrapper fills a job that holds only what its task reads, then hands the task to the pool.
#include "kernels.h"
#include <math.h>
#include <string.h>

// Split below 64 Ki elements is not worth a wake-up (~5 us of memory traffic vs ~5-20 us of sync).
#define PAR_MIN 65536L
// A sum keeps one partial result per piece, in an array of this size.
#define MAX_PIECES 256

// Items [0, n) cut into pieces of `chunk` items, one piece per task; every split job holds one.
typedef struct { long n, chunk; } pieces;

static inline void piece_of(const pieces *p, int t, long *s, long *e) {
  *s = t * p->chunk;
  *e = *s + p->chunk < p->n ? *s + p->chunk : p->n;
}

// n items of `cost` floats each: >= PAR_MIN floats per piece, <= 4 pieces per thread. Runs `task` on
// every piece of `job` (whose pieces are `p`) and returns how many there were: 0 when n is 0.
static int split(pieces *p, long n, long cost, nc_task_fn task, void *job) {
  if (n <= 0) return 0;
  int T = nc_threads();
  long total = n * cost;
  int nt = 1;
  if (T > 1 && total >= 2 * PAR_MIN) {
    long byvol = total / PAR_MIN;
    nt = byvol < 4L * T ? (int)byvol : 4 * T;
    if (nt > n) nt = (int)n;
    if (nt > MAX_PIECES) nt = MAX_PIECES;
  }
  p->n = n;
  p->chunk = (n + nt - 1) / nt;
  nt = (int)((n + p->chunk - 1) / p->chunk);  // rounding the chunk up can leave fewer pieces
  nc_parallel(nt, task, job);
  return nt;
}

// ---- elementwise: piece [s, e) of every array

// o (+)= a op b: add, mul, and relu2_bwd (dy, x -> dx) share this shape
typedef void (*binary_fn)(const float *a, const float *b, float *o, long n, int acc);
typedef struct { pieces p; binary_fn kernel; const float *a, *b; float *o; int acc; } binary_job;
static void binary_task(void *job, int t, int thread) {
  (void)thread;
  const binary_job *j = (const binary_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  j->kernel(j->a + s, j->b + s, j->o + s, e - s, j->acc);
}
static void binary(binary_fn kernel, const float *a, const float *b, float *o, long n, int acc) {
  binary_job j = { .kernel = kernel, .a = a, .b = b, .o = o, .acc = acc };
  split(&j.p, n, 1, binary_task, &j);
}
void nc_k_add(const float *a, const float *b, float *o, long n, int acc) { binary(nc_isa->add, a, b, o, n, acc); }
void nc_k_mul(const float *a, const float *b, float *o, long n, int acc) { binary(nc_isa->mul, a, b, o, n, acc); }
void nc_k_relu2_bwd(const float *dy, const float *x, float *dx, long n, int acc) {
  binary(nc_isa->relu2_bwd, dy, x, dx, n, acc);
}

typedef struct { pieces p; const float *x; float alpha; float *o; int acc; } scale_job;
static void scale_task(void *job, int t, int thread) {
  (void)thread;
  const scale_job *j = (const scale_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  nc_isa->scale(j->x + s, j->alpha, j->o + s, e - s, j->acc);
}
void nc_k_scale(const float *x, float al, float *o, long n, int acc) {
  scale_job j = { .x = x, .alpha = al, .o = o, .acc = acc };
  split(&j.p, n, 1, scale_task, &j);
}

typedef struct { pieces p; float *d; const float *s; float t; } lerp_job;
static void lerp_task(void *job, int t, int thread) {
  (void)thread;
  const lerp_job *j = (const lerp_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  nc_isa->lerp(j->d + s, j->s + s, j->t, e - s);
}
void nc_k_lerp(float *d, const float *s, float t, long n) {
  lerp_job j = { .d = d, .s = s, .t = t };
  split(&j.p, n, 1, lerp_task, &j);
}

typedef struct { pieces p; float *d; float v; } fill_job;
static void fill_task(void *job, int t, int thread) {
  (void)thread;
  const fill_job *j = (const fill_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  float v = j->v, *d = j->d;
  for (long i = s; i < e; i++) d[i] = v;
}
void nc_k_fill(float *d, float v, long n) {
  fill_job j = { .d = d, .v = v };
  split(&j.p, n, 1, fill_task, &j);
}

typedef struct { pieces p; const float *s; float *d; } copy_job;
static void copy_task(void *job, int t, int thread) {
  (void)thread;
  const copy_job *j = (const copy_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  memmove(j->d + s, j->s + s, sizeof(float) * (e - s));
}
void nc_k_copy(const float *s, float *d, long n) {
  copy_job j = { .s = s, .d = d };
  split(&j.p, n, 1, copy_task, &j);
}

// sum and sum of squares: one partial per piece, added in piece order (the same total for a given
// thread count, whichever thread ran which piece)
typedef double (*reduce_fn)(const float *x, long n);
typedef struct { pieces p; reduce_fn kernel; const float *x; double part[MAX_PIECES]; } reduce_job;
static void reduce_task(void *job, int t, int thread) {
  (void)thread;
  reduce_job *j = (reduce_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  j->part[t] = j->kernel(j->x + s, e - s);
}
static double reduce(reduce_fn kernel, const float *x, long n) {
  reduce_job j = { .kernel = kernel, .x = x };
  int np = split(&j.p, n, 1, reduce_task, &j);
  double s = 0;
  for (int t = 0; t < np; t++) s += j.part[t];
  return s;
}
double nc_k_sum(const float *x, long n) { return reduce(nc_isa->sum, x, n); }
double nc_k_sumsq(const float *x, long n) { return reduce(nc_isa->sumsq, x, n); }

typedef struct { pieces p; const float *x; float *y; } relu2_fwd_job;
static void relu2_fwd_task(void *job, int t, int thread) {
  (void)thread;
  const relu2_fwd_job *j = (const relu2_fwd_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  nc_isa->relu2_fwd(j->x + s, j->y + s, e - s);
}
void nc_k_relu2_fwd(const float *x, float *y, long n) {
  relu2_fwd_job j = { .x = x, .y = y };
  split(&j.p, n, 1, relu2_fwd_task, &j);
}

typedef struct { pieces p; const float *x; float *y; float cap; } softcap_fwd_job;
static void softcap_fwd_task(void *job, int t, int thread) {
  (void)thread;
  const softcap_fwd_job *j = (const softcap_fwd_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  nc_isa->softcap_fwd(j->x + s, j->y + s, e - s, j->cap);
}
void nc_k_softcap_fwd(const float *x, float *y, long n, float cap) {
  softcap_fwd_job j = { .x = x, .y = y, .cap = cap };
  split(&j.p, n, 8, softcap_fwd_task, &j);  // a tanh per element, weighted as 8 floats
}

typedef struct { pieces p; const float *dy, *y; float *dx; float cap; int acc; } softcap_bwd_job;
static void softcap_bwd_task(void *job, int t, int thread) {
  (void)thread;
  const softcap_bwd_job *j = (const softcap_bwd_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  nc_isa->softcap_bwd(j->dy + s, j->y + s, j->dx + s, e - s, j->cap, j->acc);
}
void nc_k_softcap_bwd(const float *dy, const float *y, float *dx, long n, float cap, int acc) {
  softcap_bwd_job j = { .dy = dy, .y = y, .dx = dx, .cap = cap, .acc = acc };
  split(&j.p, n, 1, softcap_bwd_task, &j);
}

// bc1, bc2: the bias corrections 1 - beta^step
typedef struct { pieces p; float *param; const float *g; float *m, *v; float lr, b1, b2, eps, wd, bc1, bc2; } adamw_job;
static void adamw_task(void *job, int t, int thread) {
  (void)thread;
  const adamw_job *j = (const adamw_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  nc_isa->adamw(j->param + s, j->g + s, j->m + s, j->v + s, e - s, j->lr, j->b1, j->b2, j->eps, j->wd, j->bc1, j->bc2);
}
void nc_k_adamw(float *p, const float *g, float *m, float *v, long n, double lr, double b1, double b2, double eps,
                double wd, double step) {
  adamw_job j = { .param = p, .g = g, .m = m, .v = v, .lr = (float)lr, .b1 = (float)b1, .b2 = (float)b2,
                  .eps = (float)eps, .wd = (float)wd,
                  .bc1 = (float)(1.0 - pow(b1, step)), .bc2 = (float)(1.0 - pow(b2, step)) };
  split(&j.p, n, 2, adamw_task, &j);  // 4 arrays read, 3 written: weighted as 2 floats
}

// ---- rowwise: piece [s, e) is a range of rows

typedef struct { pieces p; const float *x; float *y, *rstd; long dim; float eps; } rms_fwd_job;
static void rms_fwd_task(void *job, int t, int thread) {
  (void)thread;
  const rms_fwd_job *j = (const rms_fwd_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  nc_isa->rms_fwd(j->x, j->y, j->rstd, s, e, j->dim, j->eps);
}
void nc_k_rms_fwd(const float *x, float *y, float *rstd, long rows, long dim, float eps) {
  rms_fwd_job j = { .x = x, .y = y, .rstd = rstd, .dim = dim, .eps = eps };
  split(&j.p, rows, dim, rms_fwd_task, &j);
}

typedef struct { pieces p; const float *dy, *y, *rstd; float *dx; long dim; int acc; } rms_bwd_job;
static void rms_bwd_task(void *job, int t, int thread) {
  (void)thread;
  const rms_bwd_job *j = (const rms_bwd_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  nc_isa->rms_bwd(j->dy, j->y, j->rstd, j->dx, s, e, j->dim, j->acc);
}
void nc_k_rms_bwd(const float *dy, const float *y, const float *rstd, float *dx, long rows, long dim, int acc) {
  rms_bwd_job j = { .dy = dy, .y = y, .rstd = rstd, .dx = dx, .dim = dim, .acc = acc };
  split(&j.p, rows, dim, rms_bwd_task, &j);
}

// rows are the B * T positions, each H heads of D channels
typedef struct {
  pieces p;
  const float *src; float *dst; const float *cos, *sin;
  long T, H, D, pos0;
  int inv, acc;
} rope_job;
static void rope_task(void *job, int t, int thread) {
  (void)thread;
  const rope_job *j = (const rope_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  nc_isa->rope(j->src, j->dst, j->cos, j->sin, s, e, j->T, j->H, j->D, j->pos0, j->inv, j->acc);
}
void nc_k_rope(const float *src, float *dst, const float *cs, const float *sn, long B, long T, long H, long D,
               long pos0, int inv, int acc) {
  rope_job j = { .src = src, .dst = dst, .cos = cs, .sin = sn, .T = T, .H = H, .D = D, .pos0 = pos0,
                 .inv = inv, .acc = acc };
  split(&j.p, B * T, H * D, rope_task, &j);
}

// cross-entropy rows are V logits `stride` floats apart; an exp per logit, weighted as 4 floats
typedef struct { pieces p; const float *logits; const int32_t *t; float *loss, *lse; long V, stride; } ce_fwd_job;
static void ce_fwd_task(void *job, int t, int thread) {
  (void)thread;
  const ce_fwd_job *j = (const ce_fwd_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  nc_isa->ce_fwd(j->logits, j->t, j->loss, j->lse, s, e, j->V, j->stride);
}
void nc_k_ce_fwd(const float *logits, const int32_t *t, float *loss, float *lse, long rows, long V, long stride) {
  ce_fwd_job j = { .logits = logits, .t = t, .loss = loss, .lse = lse, .V = V, .stride = stride };
  split(&j.p, rows, V * 4, ce_fwd_task, &j);
}

typedef struct {
  pieces p;
  const float *logits; const int32_t *t; const float *lse, *dloss;
  float *dlogits;
  long V, stride;
} ce_bwd_job;
static void ce_bwd_task(void *job, int t, int thread) {
  (void)thread;
  const ce_bwd_job *j = (const ce_bwd_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  nc_isa->ce_bwd(j->logits, j->t, j->lse, j->dloss, j->dlogits, s, e, j->V, j->stride);
}
void nc_k_ce_bwd(const float *logits, const int32_t *t, const float *lse, const float *dloss, float *dl, long rows,
                 long V, long stride) {
  ce_bwd_job j = { .logits = logits, .t = t, .lse = lse, .dloss = dloss, .dlogits = dl, .V = V, .stride = stride };
  split(&j.p, rows, V * 4, ce_bwd_task, &j);
}

// the same on raw logits with the soft-cap fused in (kern_softcap_ce.h): a tanh and an exp per logit, weighted 8
typedef struct {
  pieces p;
  const float *raw; const int32_t *t; const float *lse, *dloss;
  float *loss, *lse_out, *draw;
  long V, stride; float cap;
} scce_job;
static void scce_fwd_task(void *job, int t, int thread) {
  (void)thread;
  const scce_job *j = (const scce_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  nc_isa->scce_fwd(j->raw, j->t, j->loss, j->lse_out, s, e, j->V, j->stride, j->cap);
}
void nc_k_scce_fwd(const float *raw, const int32_t *t, float *loss, float *lse, long rows, long V, long stride, float cap) {
  scce_job j = { .raw = raw, .t = t, .loss = loss, .lse_out = lse, .V = V, .stride = stride, .cap = cap };
  split(&j.p, rows, V * 8, scce_fwd_task, &j);
}
static void scce_bwd_task(void *job, int t, int thread) {
  (void)thread;
  const scce_job *j = (const scce_job *)job;
  long s, e;
  piece_of(&j->p, t, &s, &e);
  nc_isa->scce_bwd(j->raw, j->t, j->lse, j->dloss, j->draw, s, e, j->V, j->stride, j->cap);
}
void nc_k_scce_bwd(const float *raw, const int32_t *t, const float *lse, const float *dloss, float *dl, long rows, long V,
                   long stride, float cap) {
  scce_job j = { .raw = raw, .t = t, .lse = lse, .dloss = dloss, .draw = dl, .V = V, .stride = stride, .cap = cap };
  split(&j.p, rows, V * 8, scce_bwd_task, &j);
}

// ---- transpose: 32 x 32 tiles so both the reads and the writes stay within a few cache lines
typedef struct { const float *s; float *d; long rows, cols; } transpose_job;
static void transpose_task(void *job, int t, int thread) {
  (void)thread;
  const transpose_job *j = (const transpose_job *)job;
  long r0 = (long)t * 32, r1 = r0 + 32 < j->rows ? r0 + 32 : j->rows;
  for (long c0 = 0; c0 < j->cols; c0 += 32) {
    long c1 = c0 + 32 < j->cols ? c0 + 32 : j->cols;
    for (long r = r0; r < r1; r++)
      for (long c = c0; c < c1; c++) j->d[c * j->rows + r] = j->s[r * j->cols + c];
  }
}
void nc_k_transpose(const float *src, float *dst, long rows, long cols) {
  transpose_job j = { .s = src, .d = dst, .rows = rows, .cols = cols };
  int nt = (int)((rows + 31) / 32);
  if (rows * cols < 2 * PAR_MIN) for (int t = 0; t < nt; t++) transpose_task(&j, t, 0);
  else nc_parallel(nt, transpose_task, &j);
}

// ---- embedding
void nc_k_emb_fwd(const float *table, const int32_t *ids, float *out, long n, long dim) {
  for (long i = 0; i < n; i++) memcpy(out + i * dim, table + (long)ids[i] * dim, sizeof(float) * dim);
}
// scatter-add; threads split the channels so two threads never touch the same row element
typedef struct { const float *dout; const int32_t *ids; float *dtable; long n, dim, chunk; } emb_bwd_job;
static void emb_bwd_task(void *job, int t, int thread) {
  (void)thread;
  const emb_bwd_job *j = (const emb_bwd_job *)job;
  long c0 = t * j->chunk, c1 = c0 + j->chunk < j->dim ? c0 + j->chunk : j->dim;
  for (long i = 0; i < j->n; i++) {
    float *d = j->dtable + (long)j->ids[i] * j->dim;
    const float *s = j->dout + i * j->dim;
    for (long c = c0; c < c1; c++) d[c] += s[c];
  }
}
void nc_k_emb_bwd(const float *dout, const int32_t *ids, float *dtable, long n, long dim) {
  emb_bwd_job j = { .dout = dout, .ids = ids, .dtable = dtable, .n = n, .dim = dim, .chunk = dim };
  int T = nc_threads();
  if (T > 1 && n * dim >= 2 * PAR_MIN && dim >= 64) {
    j.chunk = ((dim + T - 1) / T + 15) / 16 * 16;
    nc_parallel((int)((dim + j.chunk - 1) / j.chunk), emb_bwd_task, &j);
  } else emb_bwd_task(&j, 0, 0);
}

// ---- batched matmul: parallel over the batch when it has enough items, else inside each product
typedef struct { int tA, tB, M, N, K, acc, sym; const float *A, *B; float *C; long sA, sB, sC; } batch_job;
static void batch_task(void *job, int t, int thread) {
  (void)thread;
  const batch_job *j = (const batch_job *)job;
  nc_gemm_sym(j->tA, j->tB, j->M, j->N, j->K, j->A + t * j->sA, j->tA ? j->M : j->K, j->B + t * j->sB, j->tB ? j->K : j->N,
              j->C + t * j->sC, j->N, j->acc, 0, j->sym);
}
void nc_k_matmul(const float *A, const float *B, float *C, int batch, int M, int N, int K, int tA, int tB, int acc,
                 long sA, long sB, long sC, int sym) {
  if (batch <= 0) return;
  batch_job j = { .tA = tA, .tB = tB, .M = M, .N = N, .K = K, .acc = acc, .sym = sym, .A = A, .B = B, .C = C,
                  .sA = sA, .sB = sB, .sC = sC };
  // sC == 0 with batch > 1 would make tasks race on one output: run those in order (like ref, the last write wins)
  if (batch >= 2 * nc_threads() && sC != 0) { nc_parallel(batch, batch_task, &j); return; }
  for (int b = 0; b < batch; b++)
    nc_gemm_sym(tA, tB, M, N, K, A + b * sA, tA ? M : K, B + b * sB, tB ? K : N, C + b * sC, N, acc, 1, sym);
}

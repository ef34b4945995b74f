// Threaded wrappers: split the big elementwise/rowwise kernels across the pool, and the
// few kernels that need no ISA-specific code (transpose, embedding, batched matmul dispatch).
#include "kernels.h"
#include <math.h>
#include <string.h>

// Split below 64 Ki elements is not worth a wake-up (~5 us of memory traffic vs ~5-20 us of sync).
#define PAR_MIN 65536L

typedef struct {
  int op;
  const float *a, *b; float *o, *o2, *o3;
  const int32_t *ids;
  float f0, f1, f2, f3, f4, f5, f6;
  long n, chunk, rows_dim, V, stride, T, H, D, pos0;
  int acc, inv;
  double part[256];
} ejob;

enum { OP_ADD, OP_MUL, OP_SCALE, OP_LERP, OP_SUM, OP_SUMSQ, OP_R2F, OP_R2B, OP_SCF, OP_SCB, OP_ADAM, OP_FILL, OP_COPY,
       OP_RMSF, OP_RMSB, OP_ROPE, OP_CEF, OP_CEB };

static void etask(void *vctx, int t, int thread) {
  (void)thread;
  ejob *j = (ejob *)vctx;
  long s = t * j->chunk, e = s + j->chunk < j->n ? s + j->chunk : j->n;
  if (s >= e) { if (j->op == OP_SUM || j->op == OP_SUMSQ) j->part[t] = 0; return; }
  long len = e - s;
  const nc_isa_t *I = nc_isa;
  switch (j->op) {
    case OP_ADD: I->add(j->a + s, j->b + s, j->o + s, len, j->acc); break;
    case OP_MUL: I->mul(j->a + s, j->b + s, j->o + s, len, j->acc); break;
    case OP_SCALE: I->scale(j->a + s, j->f0, j->o + s, len, j->acc); break;
    case OP_LERP: I->lerp(j->o + s, j->a + s, j->f0, len); break;
    case OP_SUM: j->part[t] = I->sum(j->a + s, len); break;
    case OP_SUMSQ: j->part[t] = I->sumsq(j->a + s, len); break;
    case OP_R2F: I->relu2_fwd(j->a + s, j->o + s, len); break;
    case OP_R2B: I->relu2_bwd(j->a + s, j->b + s, j->o + s, len, j->acc); break;
    case OP_SCF: I->softcap_fwd(j->a + s, j->o + s, len, j->f0); break;
    case OP_SCB: I->softcap_bwd(j->a + s, j->b + s, j->o + s, len, j->f0, j->acc); break;
    case OP_ADAM: I->adamw(j->o + s, j->a + s, j->o2 + s, j->o3 + s, len, j->f0, j->f1, j->f2, j->f3, j->f4, j->f5, j->f6); break;
    case OP_FILL: { float v = j->f0; float *o = j->o + s; for (long i = 0; i < len; i++) o[i] = v; } break;
    case OP_COPY: memmove(j->o + s, j->a + s, sizeof(float) * len); break;
    case OP_RMSF: I->rms_fwd(j->a, j->o, j->o2, s, e, j->rows_dim, j->f0); break;
    case OP_RMSB: I->rms_bwd(j->a, j->b, j->o3, j->o, s, e, j->rows_dim, j->acc); break;
    case OP_ROPE: I->rope(j->a, j->o, j->b, j->o3, s, e, j->T, j->H, j->D, j->pos0, j->inv, j->acc); break;
    case OP_CEF: I->ce_fwd(j->a, j->ids, j->o, j->o2, s, e, j->V, j->stride); break;
    case OP_CEB: I->ce_bwd(j->a, j->ids, j->b, j->o3, j->o, s, e, j->V, j->stride); break;
  }
}

// n work items of `cost` floats each: pick a chunking with >= PAR_MIN floats per task, <= 4 tasks per thread
static void run(ejob *j, long n, long cost) {
  int T = nc_threads();
  long total = n * cost;
  int nt = 1;
  if (T > 1 && total >= 2 * PAR_MIN) {
    long byvol = total / PAR_MIN;
    nt = byvol < 4L * T ? (int)byvol : 4 * T;
    if (nt > n) nt = (int)n;
    if (nt > 256) nt = 256;
  }
  j->n = n;
  j->chunk = (n + nt - 1) / nt;
  nt = (int)((n + j->chunk - 1) / j->chunk);
  if (nt <= 1) { j->chunk = n; etask(j, 0, 0); if (j->op == OP_SUM || j->op == OP_SUMSQ) j->n = 1; else j->n = 1; return; }
  nc_parallel(nt, etask, j);
  j->n = nt;
}

void nc_k_add(const float *a, const float *b, float *o, long n, int acc) { ejob j = { .op = OP_ADD, .a = a, .b = b, .o = o, .acc = acc }; run(&j, n, 1); }
void nc_k_mul(const float *a, const float *b, float *o, long n, int acc) { ejob j = { .op = OP_MUL, .a = a, .b = b, .o = o, .acc = acc }; run(&j, n, 1); }
void nc_k_scale(const float *x, float al, float *o, long n, int acc) { ejob j = { .op = OP_SCALE, .a = x, .f0 = al, .o = o, .acc = acc }; run(&j, n, 1); }
void nc_k_lerp(float *d, const float *s, float t, long n) { ejob j = { .op = OP_LERP, .a = s, .o = d, .f0 = t }; run(&j, n, 1); }
void nc_k_fill(float *d, float v, long n) { ejob j = { .op = OP_FILL, .o = d, .f0 = v }; run(&j, n, 1); }
void nc_k_copy(const float *s, float *d, long n) { ejob j = { .op = OP_COPY, .a = s, .o = d }; run(&j, n, 1); }
static double reduce(ejob *j, long n) {
  run(j, n, 1);
  double s = 0;
  if (j->n == 1 && j->chunk == n) return j->part[0];
  for (long t = 0; t < j->n; t++) s += j->part[t];
  return s;
}
double nc_k_sum(const float *x, long n) { ejob j = { .op = OP_SUM, .a = x }; return n <= 0 ? 0 : reduce(&j, n); }
double nc_k_sumsq(const float *x, long n) { ejob j = { .op = OP_SUMSQ, .a = x }; return n <= 0 ? 0 : reduce(&j, n); }
void nc_k_relu2_fwd(const float *x, float *y, long n) { ejob j = { .op = OP_R2F, .a = x, .o = y }; run(&j, n, 1); }
void nc_k_relu2_bwd(const float *dy, const float *x, float *dx, long n, int acc) { ejob j = { .op = OP_R2B, .a = dy, .b = x, .o = dx, .acc = acc }; run(&j, n, 1); }
void nc_k_softcap_fwd(const float *x, float *y, long n, float cap) { ejob j = { .op = OP_SCF, .a = x, .o = y, .f0 = cap }; run(&j, n, 8); }
void nc_k_softcap_bwd(const float *dy, const float *y, float *dx, long n, float cap, int acc) { ejob j = { .op = OP_SCB, .a = dy, .b = y, .o = dx, .f0 = cap, .acc = acc }; run(&j, n, 1); }
void nc_k_adamw(float *p, const float *g, float *m, float *v, long n, double lr, double b1, double b2, double eps, double wd, double step) {
  float bc1 = (float)(1.0 - pow(b1, step)), bc2 = (float)(1.0 - pow(b2, step));
  ejob j = { .op = OP_ADAM, .o = p, .a = g, .o2 = m, .o3 = v, .f0 = (float)lr, .f1 = (float)b1, .f2 = (float)b2, .f3 = (float)eps, .f4 = (float)wd, .f5 = bc1, .f6 = bc2 };
  run(&j, n, 2);
}
void nc_k_rms_fwd(const float *x, float *y, float *rstd, long rows, long dim, float eps) {
  ejob j = { .op = OP_RMSF, .a = x, .o = y, .o2 = rstd, .rows_dim = dim, .f0 = eps }; run(&j, rows, dim);
}
void nc_k_rms_bwd(const float *dy, const float *y, const float *rstd, float *dx, long rows, long dim, int acc) {
  ejob j = { .op = OP_RMSB, .a = dy, .b = y, .o3 = (float *)rstd, .o = dx, .rows_dim = dim, .acc = acc }; run(&j, rows, dim);
}
void nc_k_rope(const float *src, float *dst, const float *cs, const float *sn, long B, long T, long H, long D, long pos0, int inv, int acc) {
  ejob j = { .op = OP_ROPE, .a = src, .o = dst, .b = cs, .o3 = (float *)sn, .T = T, .H = H, .D = D, .pos0 = pos0, .inv = inv, .acc = acc };
  run(&j, B * T, H * D);
}
void nc_k_ce_fwd(const float *logits, const int32_t *t, float *loss, float *lse, long rows, long V, long stride) {
  ejob j = { .op = OP_CEF, .a = logits, .ids = t, .o = loss, .o2 = lse, .V = V, .stride = stride }; run(&j, rows, V * 4);
}
void nc_k_ce_bwd(const float *logits, const int32_t *t, const float *lse, const float *dloss, float *dl, long rows, long V, long stride) {
  ejob j = { .op = OP_CEB, .a = logits, .ids = t, .b = lse, .o3 = (float *)dloss, .o = dl, .V = V, .stride = stride }; run(&j, rows, V * 4);
}

// ---- transpose: 32 x 32 tiles so both the reads and the writes stay within a few cache lines
typedef struct { const float *s; float *d; long rows, cols; } tjob;
static void ttask(void *vctx, int t, int thread) {
  (void)thread;
  tjob *j = (tjob *)vctx;
  long r0 = (long)t * 32, r1 = r0 + 32 < j->rows ? r0 + 32 : j->rows;
  for (long c0 = 0; c0 < j->cols; c0 += 32) {
    long c1 = c0 + 32 < j->cols ? c0 + 32 : j->cols;
    for (long r = r0; r < r1; r++)
      for (long c = c0; c < c1; c++) j->d[c * j->rows + r] = j->s[r * j->cols + c];
  }
}
void nc_k_transpose(const float *src, float *dst, long rows, long cols) {
  tjob j = { src, dst, rows, cols };
  int nt = (int)((rows + 31) / 32);
  if (rows * cols < 2 * PAR_MIN) for (int t = 0; t < nt; t++) ttask(&j, t, 0);
  else nc_parallel(nt, ttask, &j);
}

// ---- embedding
void nc_k_emb_fwd(const float *table, const int32_t *ids, float *out, long n, long dim) {
  for (long i = 0; i < n; i++) memcpy(out + i * dim, table + (long)ids[i] * dim, sizeof(float) * dim);
}
// scatter-add; threads split the channels so two threads never touch the same row element
typedef struct { const float *dout; const int32_t *ids; float *dt; long n, dim, chunk; } embjob;
static void embtask(void *vctx, int t, int thread) {
  (void)thread;
  embjob *j = (embjob *)vctx;
  long c0 = t * j->chunk, c1 = c0 + j->chunk < j->dim ? c0 + j->chunk : j->dim;
  for (long i = 0; i < j->n; i++) {
    float *d = j->dt + (long)j->ids[i] * j->dim;
    const float *s = j->dout + i * j->dim;
    for (long c = c0; c < c1; c++) d[c] += s[c];
  }
}
void nc_k_emb_bwd(const float *dout, const int32_t *ids, float *dtable, long n, long dim) {
  embjob j = { dout, ids, dtable, n, dim, dim };
  int T = nc_threads();
  if (T > 1 && n * dim >= 2 * PAR_MIN && dim >= 64) {
    j.chunk = ((dim + T - 1) / T + 15) / 16 * 16;
    nc_parallel((int)((dim + j.chunk - 1) / j.chunk), embtask, &j);
  } else embtask(&j, 0, 0);
}

// ---- batched matmul: parallel over the batch when it has enough items, else inside each product
typedef struct { int tA, tB, M, N, K, acc; const float *A, *B; float *C; long sA, sB, sC; } bjob;
static void btask(void *vctx, int t, int thread) {
  (void)thread;
  bjob *j = (bjob *)vctx;
  nc_gemm(j->tA, j->tB, j->M, j->N, j->K, j->A + t * j->sA, j->tA ? j->M : j->K, j->B + t * j->sB, j->tB ? j->K : j->N,
          j->C + t * j->sC, j->N, j->acc, 0);
}
void nc_k_matmul(const float *A, const float *B, float *C, int batch, int M, int N, int K, int tA, int tB, int acc, long sA, long sB, long sC) {
  if (batch <= 0) return;
  bjob j = { tA, tB, M, N, K, acc, A, B, C, sA, sB, sC };
  // sC == 0 with batch > 1 would make tasks race on one output: run those in order (like ref, the last write wins)
  if (batch >= 2 * nc_threads() && sC != 0) { nc_parallel(batch, btask, &j); return; }
  for (int b = 0; b < batch; b++)
    nc_gemm(tA, tB, M, N, K, A + b * sA, tA ? M : K, B + b * sB, tB ? K : N, C + b * sC, N, acc, 1);
}

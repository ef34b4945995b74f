// Fused causal attention, flash-attention style: 64 x 64 blocks of queries x keys, online softmax,
// and in the backward P recomputed from the saved log-sum-exp. Every block product is a small GEMM
// on packed operands run by the same register-tiled micro-kernel as nc_gemm (see gemm.c), so the
// inner products go at GEMM speed; the softmax work per block is done by the ISA's att_* helpers.
//
// Forward: one task per (batch, head). Backward: one task per (batch, kv head), which owns dk/dv of
// that kv head and dq of its query heads, so tasks never write the same memory (no atomics).
#include "nc.h"
#include <math.h>
#include <string.h>

#define BQ 64
#define BK 64

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline long rup(long x, long m) { return (x + m - 1) / m * m; }

// forward (and decoding): inputs q, k, v; outputs o and the log-sum-exp l of every query row
typedef struct { const nc_att_shape *s; const float *q, *k, *v; float *o, *l; } fwd_job;

static void fwd_task(void *vctx, int task, int thread) {
  (void)thread;
  const fwd_job *j = (const fwd_job *)vctx;
  const nc_att_shape *s = j->s;
  const nc_isa_t *isa = nc_isa;
  int b = task / s->H, h = task % s->H, hk = h / (s->H / s->Hkv), D = s->D, Tq = s->Tq, Tk = s->Tk;
  long off = Tk - Tq, ldq = (long)s->H * D, ldk = (long)s->Hkv * D;
  const float *qb = j->q + (long)b * Tq * ldq + (long)h * D;
  const float *kb = j->k + (long)b * s->kvStride + (long)hk * D;
  const float *vb = j->v + (long)b * s->kvStride + (long)hk * D;
  float *ob = j->o + (long)b * Tq * ldq + (long)h * D;
  float *lseb = j->l + ((long)b * s->H + h) * Tq;
  // K^T as the B operand of S = Q K^T: panels of 32 keys, D deep. V as the B operand of O += P V: panels of 32 channels, Tk deep.
  float *Kp = nc_ws(2, nc_packB_size(D, Tk));
  float *Vp = nc_ws(3, nc_packB_size(Tk, D));
  float *Qp = nc_ws(4, nc_packA_size(BQ, D));
  float *S = nc_ws(5, BQ * BK);
  float *Pp = nc_ws(6, BQ * BK);
  float *O = nc_ws(7, (size_t)BQ * D);
  float *ml = nc_ws(8, 3 * BQ);
  float *m = ml, *l = ml + BQ, *alpha = ml + 2 * BQ;
  isa->packB(1, kb, ldk, D, Tk, Kp);
  isa->packB(0, vb, ldk, Tk, D, Vp);
  for (int i0 = 0; i0 < Tq; i0 += BQ) {
    int bq = imin(BQ, Tq - i0);
    long qpos0 = i0 + off, last = qpos0 + bq - 1;  // last key any row of this block sees
    isa->packA(0, qb + (long)i0 * ldq, ldq, bq, D, Qp);
    for (int i = 0; i < bq; i++) { m[i] = -INFINITY; l[i] = 0.f; }
    memset(O, 0, sizeof(float) * bq * D);
    for (int j0 = 0; j0 <= last && j0 < Tk; j0 += BK) {
      int bk = imin(BK, Tk - j0);
      nc_gemm_packed(bq, bk, D, Qp, (long)D * NC_MR, Kp + (long)j0 * D, (long)D * NC_NR, S, BK, 0);
      isa->att_softmax(S, BK, bq, bk, s->scale, qpos0, j0, m, l, alpha);
      for (int i = 0; i < bq; i++)
        if (alpha[i] != 1.f) { float a = alpha[i]; float *oi = O + (long)i * D; for (int d = 0; d < D; d++) oi[d] *= a; }
      isa->packA(0, S, BK, bq, bk, Pp);
      nc_gemm_packed(bq, D, bk, Pp, (long)bk * NC_MR, Vp + (long)j0 * NC_NR, (long)Tk * NC_NR, O, D, 1);
    }
    for (int i = 0; i < bq; i++) {
      float inv = 1.f / l[i];
      float *dst = ob + (long)(i0 + i) * ldq, *oi = O + (long)i * D;
      for (int d = 0; d < D; d++) dst[d] = oi[d] * inv;
      lseb[i0 + i] = m[i] + logf(l[i]);
    }
  }
}

// Decoding (Tq = 1): the row sees every key; one pass over K and V in place, no packing.
static void row_task(void *vctx, int task, int thread) {
  (void)thread;
  const fwd_job *j = (const fwd_job *)vctx;
  const nc_att_shape *s = j->s;
  int b = task / s->H, h = task % s->H, hk = h / (s->H / s->Hkv), D = s->D;
  long ldq = (long)s->H * D, ldk = (long)s->Hkv * D;
  nc_isa->att_row(j->q + (long)b * ldq + (long)h * D, j->k + (long)b * s->kvStride + (long)hk * D, j->v + (long)b * s->kvStride + (long)hk * D,
                  ldk, s->Tk, D, s->scale, nc_ws(5, s->Tk), j->o + (long)b * ldq + (long)h * D, j->l + (long)b * s->H + h);
}

void nc_attention_fwd(const float *q, const float *k, const float *v, float *out, float *lse, const nc_att_shape *s) {
  fwd_job j = { .s = s, .q = q, .k = k, .v = v, .o = out, .l = lse };
  nc_parallel(s->B * s->H, s->Tq == 1 ? row_task : fwd_task, &j);
}

// backward: the forward's inputs, its output and log-sum-exp, and dout; dq, dk, dv are accumulated into
typedef struct {
  const nc_att_shape *s;
  const float *q, *k, *v, *out, *lse, *dout;
  float *dq, *dk, *dv;
} bwd_job;

static void bwd_task(void *vctx, int task, int thread) {
  (void)thread;
  const bwd_job *j = (const bwd_job *)vctx;
  const nc_att_shape *s = j->s;
  const nc_isa_t *isa = nc_isa;
  int b = task / s->Hkv, hk = task % s->Hkv, G = s->H / s->Hkv, D = s->D, Tq = s->Tq, Tk = s->Tk;
  long off = Tk - Tq, ldq = (long)s->H * D, ldk = (long)s->Hkv * D;
  const float *kb = j->k + (long)b * s->kvStride + (long)hk * D;
  const float *vb = j->v + (long)b * s->kvStride + (long)hk * D;
  float *KTp = nc_ws(2, nc_packB_size(D, Tk));   // B of S = Q K^T
  float *VTp = nc_ws(3, nc_packB_size(D, Tk));   // B of dP = dO V^T
  float *Kp = nc_ws(4, nc_packB_size(Tk, D));    // B of dQ = dS K
  float *Qa = nc_ws(5, nc_packA_size(Tq, D));    // A of S
  float *Qb = nc_ws(6, nc_packB_size(Tq, D));    // B of dK = dS^T Q
  float *dOa = nc_ws(7, nc_packA_size(Tq, D));   // A of dP
  float *dOb = nc_ws(8, nc_packB_size(Tq, D));   // B of dV = P^T dO
  float *dQ = nc_ws(9, (size_t)Tq * D);
  float *dKV = nc_ws(10, (size_t)2 * Tk * D);
  float *dK = dKV, *dV = dKV + (long)Tk * D;
  float *small = nc_ws(11, 5 * BQ * BK + rup(Tq, 16));
  float *S = small, *dP = S + BQ * BK, *PTa = dP + BQ * BK, *dSa = PTa + BQ * BK, *dSTa = dSa + BQ * BK, *delta = dSTa + BQ * BK;
  isa->packB(1, kb, ldk, D, Tk, KTp);
  isa->packB(1, vb, ldk, D, Tk, VTp);
  isa->packB(0, kb, ldk, Tk, D, Kp);
  memset(dKV, 0, sizeof(float) * 2 * Tk * D);
  for (int h = hk * G; h < (hk + 1) * G; h++) {
    const float *qb = j->q + (long)b * Tq * ldq + (long)h * D;
    const float *dob = j->dout + (long)b * Tq * ldq + (long)h * D;
    const float *ob = j->out + (long)b * Tq * ldq + (long)h * D;
    const float *lseb = j->lse + ((long)b * s->H + h) * Tq;
    isa->packA(0, qb, ldq, Tq, D, Qa);
    isa->packB(0, qb, ldq, Tq, D, Qb);
    isa->packA(0, dob, ldq, Tq, D, dOa);
    isa->packB(0, dob, ldq, Tq, D, dOb);
    for (int i = 0; i < Tq; i++) {  // delta_i = rowsum(dO * O), the softmax-backward correction
      const float *x = dob + (long)i * ldq, *y = ob + (long)i * ldq;
      float acc = 0;
      for (int d = 0; d < D; d++) acc += x[d] * y[d];
      delta[i] = acc;
    }
    memset(dQ, 0, sizeof(float) * Tq * D);
    for (int j0 = 0; j0 < Tk; j0 += BK) {
      int bk = imin(BK, Tk - j0);
      long first = j0 - off;  // first query that sees key j0
      int istart = first <= 0 ? 0 : (int)(first / BQ * BQ);
      for (int i0 = istart; i0 < Tq; i0 += BQ) {
        int bq = imin(BQ, Tq - i0);
        nc_gemm_packed(bq, bk, D, Qa + (long)i0 * D, (long)D * NC_MR, KTp + (long)j0 * D, (long)D * NC_NR, S, BK, 0);
        isa->att_p(S, BK, bq, bk, s->scale, i0 + off, j0, lseb + i0);
        isa->packA(1, S, BK, bk, bq, PTa);
        nc_gemm_packed(bk, D, bq, PTa, (long)bq * NC_MR, dOb + (long)i0 * NC_NR, (long)Tq * NC_NR, dV + (long)j0 * D, D, 1);
        nc_gemm_packed(bq, bk, D, dOa + (long)i0 * D, (long)D * NC_MR, VTp + (long)j0 * D, (long)D * NC_NR, dP, BK, 0);
        isa->att_ds(S, dP, BK, bq, bk, delta + i0, s->scale);
        isa->packA(0, dP, BK, bq, bk, dSa);
        isa->packA(1, dP, BK, bk, bq, dSTa);
        nc_gemm_packed(bk, D, bq, dSTa, (long)bq * NC_MR, Qb + (long)i0 * NC_NR, (long)Tq * NC_NR, dK + (long)j0 * D, D, 1);
        nc_gemm_packed(bq, D, bk, dSa, (long)bk * NC_MR, Kp + (long)j0 * NC_NR, (long)Tk * NC_NR, dQ + (long)i0 * D, D, 1);
      }
    }
    float *dqb = j->dq + (long)b * Tq * ldq + (long)h * D;
    for (int i = 0; i < Tq; i++) { float *d = dqb + (long)i * ldq, *x = dQ + (long)i * D; for (int e = 0; e < D; e++) d[e] += x[e]; }
  }
  float *dkb = j->dk + (long)b * s->kvStride + (long)hk * D, *dvb = j->dv + (long)b * s->kvStride + (long)hk * D;
  for (int t = 0; t < Tk; t++) {
    float *a = dkb + (long)t * ldk, *c = dvb + (long)t * ldk, *x = dK + (long)t * D, *y = dV + (long)t * D;
    for (int e = 0; e < D; e++) { a[e] += x[e]; c[e] += y[e]; }
  }
}

void nc_attention_bwd(const float *dout, const float *q, const float *k, const float *v, const float *out, const float *lse,
                      float *dq, float *dk, float *dv, const nc_att_shape *s) {
  bwd_job j = { .s = s, .q = q, .k = k, .v = v, .out = out, .lse = lse, .dout = dout,
                .dq = dq, .dk = dk, .dv = dv };
  nc_parallel(s->B * s->Hkv, bwd_task, &j);
}

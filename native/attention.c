// Fused causal attention, flash-attention style: blocks of 64 queries x 256 keys (forward) or 64 x 64
// (backward), online softmax, and in the backward P recomputed from the saved log-sum-exp. Every block product is a small GEMM
// on packed operands run by the same register-tiled micro-kernel as nc_gemm (see gemm.c), so the
// inner products go at GEMM speed; the softmax work per block is done by the ISA's att_* helpers.
//
// Forward: one task per (batch, head). Backward: one task per (batch, kv head), which owns dk/dv of
// that kv head and dq of its query heads, so tasks never write the same memory (no atomics).
#include "nc.h"
#include <math.h>
#include <string.h>

// Block sizes (multiples of NC_MR and NC_NR; -DBQ= -DBK= -DBKF= for experiments). The forward's key
// block BKF is 256: P V then runs 256 deep instead of 64, the micro-kernel loads and stores its C tile a
// quarter as often and O is rescaled a quarter as often; +9% forward (AVX-512) and +3% (AVX2) over 64
// on one Zen 5 core. The backward measured best at 64 x 64 (larger blocks lost 1-9%).
#ifndef BQ
#define BQ 64
#endif
#ifndef BK
#define BK 64
#endif
#ifndef BKF
#define BKF 256
#endif

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline long rup(long x, long m) { return (x + m - 1) / m * m; }

// ---- block products that skip what the causal mask zeroes. `diag` = qpos0 - kpos0: query row i of
// the block sees key columns c <= i + diag. On a diagonal 64 x 64 block a third of the 8 x 32 register
// tiles of S lie wholly past the diagonal, and P's row tile r is zero past depth 8 r + 8: skipping both
// saves ~1/3 of a diagonal block; measured +5% forward and +6% backward at T = 512 (one Zen 5 core).
static inline long clampl(long x, long lo, long hi) { return x < lo ? lo : x > hi ? hi : x; }

// S[m x n] = A B over depth K (S-type: Q K^T, dO V^T). Tiles wholly past the diagonal are set to 0
// rather than computed, so every entry is finite for the softmax helpers that read the block.
static void scores(int m, int n, int K, const float *Ap, long as, const float *Bp, long bs, float *S, long lds, long diag) {
  if (diag >= n - 1) { nc_gemm_packed(m, n, K, Ap, as, Bp, bs, S, lds, 0); return; }
  for (int i = 0; i < m; i += NC_MR) {
    int mr = imin(NC_MR, m - i);
    int nv = (int)clampl(rup(i + mr + diag, NC_NR), 0, n);  // the columns some row of this tile sees
    if (nv > 0) nc_gemm_packed(mr, nv, K, Ap + (long)(i / NC_MR) * as, as, Bp, bs, S + (long)i * lds, lds, 0);
    for (int r = i; r < i + mr; r++) memset(S + (long)r * lds + nv, 0, sizeof(float) * (n - nv));
  }
}
// C[m x n] += P B over depth K where P's row i is zero at depth >= i + diag + 1 (O += P V, dQ += dS K).
static void rows_causal(int m, int n, int K, const float *Ap, long as, const float *Bp, long bs, float *C, long ldc,
                        long diag) {
  if (diag >= K - 1) { nc_gemm_packed(m, n, K, Ap, as, Bp, bs, C, ldc, 1); return; }
  for (int i = 0; i < m; i += NC_MR) {
    int mr = imin(NC_MR, m - i);
    int kd = (int)clampl(i + mr + diag, 0, K);
    if (kd > 0) nc_gemm_packed(mr, n, kd, Ap + (long)(i / NC_MR) * as, as, Bp, bs, C + (long)i * ldc, ldc, 1);
  }
}
// C[m x n] += P^T B over depth K (queries) where row c of P^T (key c) is zero at depth < c - diag
// (dV += P^T dO, dK += dS^T Q): each row tile starts at the first query that sees its first key.
static void cols_causal(int m, int n, int K, const float *Ap, long as, const float *Bp, long bs, float *C, long ldc,
                        long diag) {
  if (diag >= m - 1) { nc_gemm_packed(m, n, K, Ap, as, Bp, bs, C, ldc, 1); return; }
  for (int c = 0; c < m; c += NC_MR) {
    int mr = imin(NC_MR, m - c);
    int k0 = (int)clampl(c - diag, 0, K);
    if (k0 < K)
      nc_gemm_packed(mr, n, K - k0, Ap + (long)(c / NC_MR) * as + (long)k0 * NC_MR, as, Bp + (long)k0 * NC_NR, bs,
                     C + (long)c * ldc, ldc, 1);
  }
}

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
  float *S = nc_ws(5, BQ * BKF);
  float *Pp = nc_ws(6, BQ * BKF);
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
    for (int j0 = 0; j0 <= last && j0 < Tk; j0 += BKF) {
      int bk = imin(BKF, Tk - j0);
      scores(bq, bk, D, Qp, (long)D * NC_MR, Kp + (long)j0 * D, (long)D * NC_NR, S, BKF, qpos0 - j0);
      isa->att_softmax(S, BKF, bq, bk, s->scale, qpos0, j0, m, l, alpha);
      // this file is built for the baseline ISA: the table's scale runs the row at full vector width
      for (int i = 0; i < bq; i++) if (alpha[i] != 1.f) isa->scale(O + (long)i * D, alpha[i], O + (long)i * D, D, 0);
      isa->packA(0, S, BKF, bq, bk, Pp);
      rows_causal(bq, D, bk, Pp, (long)bk * NC_MR, Vp + (long)j0 * NC_NR, (long)Tk * NC_NR, O, D, qpos0 - j0);
    }
    for (int i = 0; i < bq; i++) {
      isa->scale(O + (long)i * D, 1.f / l[i], ob + (long)(i0 + i) * ldq, D, 0);
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
  // dq, dk, dv accumulate in place (rows ldq / ldk apart): a private copy summed in at the end cost
  // ~10% of the backward in its three strided add passes (measured, B8 H2 T512 D128, Zen 5)
  float *dkb = j->dk + (long)b * s->kvStride + (long)hk * D, *dvb = j->dv + (long)b * s->kvStride + (long)hk * D;
  float *small = nc_ws(11, 5 * BQ * BK + rup(Tq, 16));
  float *S = small, *dP = S + BQ * BK, *PTa = dP + BQ * BK, *dSa = PTa + BQ * BK, *dSTa = dSa + BQ * BK, *delta = dSTa + BQ * BK;
  isa->packB(1, kb, ldk, D, Tk, KTp);
  isa->packB(1, vb, ldk, D, Tk, VTp);
  isa->packB(0, kb, ldk, Tk, D, Kp);
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
#pragma omp simd reduction(+ : acc)
      for (int d = 0; d < D; d++) acc += x[d] * y[d];
      delta[i] = acc;
    }
    float *dqb = j->dq + (long)b * Tq * ldq + (long)h * D;
    for (int j0 = 0; j0 < Tk; j0 += BK) {
      int bk = imin(BK, Tk - j0);
      long first = j0 - off;  // first query that sees key j0
      int istart = first <= 0 ? 0 : (int)(first / BQ * BQ);
      for (int i0 = istart; i0 < Tq; i0 += BQ) {
        int bq = imin(BQ, Tq - i0);
        long diag = i0 + off - j0;
        scores(bq, bk, D, Qa + (long)i0 * D, (long)D * NC_MR, KTp + (long)j0 * D, (long)D * NC_NR, S, BK, diag);
        isa->att_p(S, BK, bq, bk, s->scale, i0 + off, j0, lseb + i0);
        isa->packA(1, S, BK, bk, bq, PTa);
        cols_causal(bk, D, bq, PTa, (long)bq * NC_MR, dOb + (long)i0 * NC_NR, (long)Tq * NC_NR, dvb + (long)j0 * ldk, ldk,
                    diag);
        scores(bq, bk, D, dOa + (long)i0 * D, (long)D * NC_MR, VTp + (long)j0 * D, (long)D * NC_NR, dP, BK, diag);
        isa->att_ds(S, dP, BK, bq, bk, delta + i0, s->scale);
        isa->packA(0, dP, BK, bq, bk, dSa);
        isa->packA(1, dP, BK, bk, bq, dSTa);
        cols_causal(bk, D, bq, dSTa, (long)bq * NC_MR, Qb + (long)i0 * NC_NR, (long)Tq * NC_NR, dkb + (long)j0 * ldk, ldk,
                    diag);
        rows_causal(bq, D, bk, dSa, (long)bk * NC_MR, Kp + (long)j0 * NC_NR, (long)Tk * NC_NR, dqb + (long)i0 * ldq, ldq,
                    diag);
      }
    }
  }
}

void nc_attention_bwd(const float *dout, const float *q, const float *k, const float *v, const float *out, const float *lse,
                      float *dq, float *dk, float *dv, const nc_att_shape *s) {
  bwd_job j = { .s = s, .q = q, .k = k, .v = v, .out = out, .lse = lse, .dout = dout,
                .dq = dq, .dk = dk, .dv = dv };
  nc_parallel(s->B * s->Hkv, bwd_task, &j);
}

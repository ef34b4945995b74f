// Entry points called by binding.c (threaded wrappers around the ISA kernels).
#ifndef NC_KERNELS_H
#define NC_KERNELS_H
#include "nc.h"
void nc_k_add(const float *a, const float *b, float *o, long n, int acc);
void nc_k_mul(const float *a, const float *b, float *o, long n, int acc);
void nc_k_scale(const float *x, float al, float *o, long n, int acc);
void nc_k_lerp(float *d, const float *s, float t, long n);
void nc_k_fill(float *d, float v, long n);
void nc_k_copy(const float *s, float *d, long n);
double nc_k_sum(const float *x, long n);
double nc_k_sumsq(const float *x, long n);
void nc_k_relu2_fwd(const float *x, float *y, long n);
void nc_k_relu2_bwd(const float *dy, const float *x, float *dx, long n, int acc);
void nc_k_softcap_fwd(const float *x, float *y, long n, float cap);
void nc_k_softcap_bwd(const float *dy, const float *y, float *dx, long n, float cap, int acc);
void nc_k_adamw(float *p, const float *g, float *m, float *v, long n, double lr, double b1, double b2, double eps, double wd, double step);
void nc_k_rms_fwd(const float *x, float *y, float *rstd, long rows, long dim, float eps);
void nc_k_rms_bwd(const float *dy, const float *y, const float *rstd, float *dx, long rows, long dim, int acc);
void nc_k_rope(const float *src, float *dst, const float *cs, const float *sn, long B, long T, long H, long D, long pos0, int inv, int acc);
void nc_k_ce_fwd(const float *logits, const int32_t *t, float *loss, float *lse, long rows, long V, long stride);
void nc_k_ce_bwd(const float *logits, const int32_t *t, const float *lse, const float *dloss, float *dl, long rows, long V, long stride);
void nc_k_scce_fwd(const float *raw, const int32_t *t, float *loss, float *lse, long rows, long V, long stride, float cap);
void nc_k_scce_bwd(const float *raw, const int32_t *t, const float *lse, const float *dloss, float *dl, long rows, long V,
                   long stride, float cap);
void nc_k_transpose(const float *src, float *dst, long rows, long cols);
void nc_k_emb_fwd(const float *table, const int32_t *ids, float *out, long n, long dim);
void nc_k_emb_bwd(const float *dout, const int32_t *ids, float *dtable, long n, long dim);
// sym: C is symmetric (see nc_gemm_src), only its upper triangle is computed
void nc_k_matmul(const float *A, const float *B, float *C, int batch, int M, int N, int K, int tA, int tB, int acc, long sA, long sB, long sC,
                 int sym);
#endif

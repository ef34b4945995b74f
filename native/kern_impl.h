// Elementwise and rowwise kernels written once in plain C and compiled three times (kern_generic.c,
// kern_avx2.c, kern_avx512.c) under different `#pragma GCC target`s, so GCC auto-vectorizes each for
// its instruction set; the including file defines NC_SFX (name suffix) and which micro-kernel to use.
// Everything here is memory-bound except exp/tanh, which use the branch-free polynomial below so that
// they vectorize too (no libm call inside the loops).
#include "nc.h"
#include <math.h>
#include <string.h>

#define NC_CAT2(a, b) a##b
#define NC_CAT(a, b) NC_CAT2(a, b)
#define F(name) NC_CAT(name, NC_SFX)

// exp(x) = 2^k * e^r, k = round(x / ln 2), |r| <= ln2/2; degree-6 polynomial for e^r (Cephes expf
// coefficients), max relative error ~2e-7. Inputs are clamped to [-87.3, 88.0], so exp of very
// negative numbers returns ~1e-38 instead of 0: callers that need exact zeros (masked scores) select 0.
static inline float F(nc_expm1_r)(float x, float *kf);

static inline float F(nc_exp)(float x) {
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.0f ? 88.0f : x;
  float kf;
  float y = F(nc_expm1_r)(x, &kf) + 1.0f;
  int32_t bits = ((int32_t)kf + 127) << 23;
  float s;
  memcpy(&s, &bits, 4);
  return y * s;
}

// e^r - 1 for x = k ln2 + r, |r| <= ln2/2 (k, as a float, in *kf): the degree-6 polynomial above. Shared by
// nc_exp and the fused soft-cap cross-entropy, which needs e^x - 1 without cancellation.
static inline float F(nc_expm1_r)(float x, float *kf) {
  // adding and subtracting 1.5 * 2^23 rounds to nearest integer without a libm call
  float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - k * 0.693359375f;
  r = r + k * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  *kf = k;
  return p * r * r + r;
}

// tanh(u) = sign(u) (1 - 2 / (e^{2|u|} + 1)); for |u| < 0.04 the odd Taylor series (to u^5, error
// < 1e-9) avoids the cancellation of 1 - (value near 1).
static inline float F(nc_tanh)(float u) {
  float a = u < 0 ? -u : u;
  float e = F(nc_exp)(2.0f * a);
  float big = 1.0f - 2.0f / (e + 1.0f);
  float u2 = a * a;
  float small = a * (1.0f + u2 * (-0.333333333f + u2 * 0.133333333f));
  float t = a < 0.04f ? small : big;
  return u < 0 ? -t : t;
}

static void F(k_add)(const float *a, const float *b, float *o, long n, int acc) {
  if (acc) for (long i = 0; i < n; i++) o[i] += a[i] + b[i];
  else for (long i = 0; i < n; i++) o[i] = a[i] + b[i];
}
static void F(k_mul)(const float *a, const float *b, float *o, long n, int acc) {
  if (acc) for (long i = 0; i < n; i++) o[i] += a[i] * b[i];
  else for (long i = 0; i < n; i++) o[i] = a[i] * b[i];
}
static void F(k_scale)(const float *x, float alpha, float *o, long n, int acc) {
  if (acc) for (long i = 0; i < n; i++) o[i] += alpha * x[i];
  else for (long i = 0; i < n; i++) o[i] = alpha * x[i];
}
static void F(k_lerp)(float *d, const float *s, float t, long n) {
  for (long i = 0; i < n; i++) d[i] += t * (s[i] - d[i]);
}
static double F(k_sum)(const float *x, long n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (long i = 0; i < n; i++) s += (double)x[i];
  return s;
}
static double F(k_sumsq)(const float *x, long n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (long i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
  return s;
}
static void F(k_relu2_fwd)(const float *x, float *y, long n) {
  for (long i = 0; i < n; i++) { float r = x[i] > 0 ? x[i] : 0.f; y[i] = r * r; }
}
static void F(k_relu2_bwd)(const float *dy, const float *x, float *dx, long n, int acc) {
  if (acc) for (long i = 0; i < n; i++) dx[i] += x[i] > 0 ? 2.f * x[i] * dy[i] : 0.f;
  else for (long i = 0; i < n; i++) dx[i] = x[i] > 0 ? 2.f * x[i] * dy[i] : 0.f;
}
static void F(k_softcap_fwd)(const float *x, float *y, long n, float cap) {
  float inv = 1.0f / cap;
  for (long i = 0; i < n; i++) y[i] = cap * F(nc_tanh)(x[i] * inv);
}
static void F(k_softcap_bwd)(const float *dy, const float *y, float *dx, long n, float cap, int acc) {
  float inv = 1.0f / cap;
  if (acc) for (long i = 0; i < n; i++) { float t = y[i] * inv; dx[i] += dy[i] * (1.f - t * t); }
  else for (long i = 0; i < n; i++) { float t = y[i] * inv; dx[i] = dy[i] * (1.f - t * t); }
}
static void F(k_adamw)(float *p, const float *g, float *m, float *v, long n, float lr, float b1, float b2, float eps, float wd, float bc1, float bc2) {
  float ib1 = 1.f / bc1, ib2 = 1.f / bc2, c1 = 1.f - b1, c2 = 1.f - b2, lwd = lr * wd;
  for (long i = 0; i < n; i++) {
    float gi = g[i];
    float mi = b1 * m[i] + c1 * gi;
    float vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi; v[i] = vi;
    p[i] -= lwd * p[i] + lr * (mi * ib1) / (sqrtf(vi * ib2) + eps);
  }
}

static void F(k_rms_fwd)(const float *x, float *y, float *rstd, long r0, long r1, long dim, float eps) {
  for (long r = r0; r < r1; r++) {
    const float *xr = x + r * dim;
    float *yr = y + r * dim;
    float ss = 0;
#pragma omp simd reduction(+ : ss)
    for (long i = 0; i < dim; i++) ss += xr[i] * xr[i];
    float s = 1.0f / sqrtf(ss / (float)dim + eps);
    rstd[r] = s;
    for (long i = 0; i < dim; i++) yr[i] = xr[i] * s;
  }
}
static void F(k_rms_bwd)(const float *dy, const float *y, const float *rstd, float *dx, long r0, long r1, long dim, int acc) {
  for (long r = r0; r < r1; r++) {
    const float *dyr = dy + r * dim, *yr = y + r * dim;
    float *dxr = dx + r * dim;
    float dot = 0;
#pragma omp simd reduction(+ : dot)
    for (long i = 0; i < dim; i++) dot += dyr[i] * yr[i];
    float mm = dot / (float)dim, s = rstd[r];
    if (acc) for (long i = 0; i < dim; i++) dxr[i] += s * (dyr[i] - yr[i] * mm);
    else for (long i = 0; i < dim; i++) dxr[i] = s * (dyr[i] - yr[i] * mm);
  }
}

// rows r = b*T + t of x [B, T, H, D]; position pos0 + t
static void F(k_rope)(const float *src, float *dst, const float *cs, const float *sn, long r0, long r1, long T, long H, long D, long pos0, int inv, int acc) {
  long half = D / 2;
  float sg = inv ? -1.f : 1.f;
  for (long r = r0; r < r1; r++) {
    long t = r % T;
    const float *c = cs + (pos0 + t) * half, *s = sn + (pos0 + t) * half;
    for (long h = 0; h < H; h++) {
      const float *x = src + (r * H + h) * D;
      float *y = dst + (r * H + h) * D;
      if (acc)
        for (long i = 0; i < half; i++) {
          float x1 = x[i], x2 = x[half + i], si = sg * s[i];
          y[i] += x1 * c[i] + x2 * si;
          y[half + i] += -x1 * si + x2 * c[i];
        }
      else
        for (long i = 0; i < half; i++) {
          float x1 = x[i], x2 = x[half + i], si = sg * s[i];
          y[i] = x1 * c[i] + x2 * si;
          y[half + i] = -x1 * si + x2 * c[i];
        }
    }
  }
}

// cross-entropy: online-safe (max subtracted before exp)
static void F(k_ce_fwd)(const float *logits, const int32_t *tg, float *loss, float *lse, long r0, long r1, long V, long stride) {
  for (long r = r0; r < r1; r++) {
    const float *x = logits + r * stride;
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (long j = 0; j < V; j++) mx = x[j] > mx ? x[j] : mx;
    float z = 0;
#pragma omp simd reduction(+ : z)
    for (long j = 0; j < V; j++) z += F(nc_exp)(x[j] - mx);
    float l = mx + logf(z);
    lse[r] = l;
    loss[r] = tg[r] == -1 ? 0.f : l - x[tg[r]];
  }
}
static void F(k_ce_bwd)(const float *logits, const int32_t *tg, const float *lse, const float *dloss, float *dl, long r0, long r1, long V, long stride) {
  for (long r = r0; r < r1; r++) {
    const float *x = logits + r * stride;
    float *d = dl + r * stride;
    if (tg[r] == -1) { memset(d, 0, sizeof(float) * stride); continue; }
    float g = dloss[r], l = lse[r];
    for (long j = 0; j < V; j++) d[j] = g * F(nc_exp)(x[j] - l);
    d[tg[r]] -= g;
    for (long j = V; j < stride; j++) d[j] = 0.f;
  }
}

#include "kern_softcap_ce.h"

// ---- attention score blocks. Row i of the block is query at absolute position qpos0 + i; column c is
// key kpos0 + c; it is visible when kpos0 + c <= qpos0 + i. Invisible entries get P = 0.
static void F(k_att_softmax)(float *S, long ld, int rows, int cols, float scale, long qpos0, long kpos0, float *m, float *l,
                             float *alpha) {
  for (int i = 0; i < rows; i++) {
    float *s = S + i * ld;
    long lim = qpos0 + i - kpos0 + 1;
    if (lim > cols) lim = cols;
    if (lim <= 0) { for (int c = 0; c < cols; c++) s[c] = 0.f; alpha[i] = 1.f; continue; }
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (long c = 0; c < lim; c++) mx = s[c] > mx ? s[c] : mx;
    mx *= scale;  // scale > 0
    float mnew = m[i] > mx ? m[i] : mx;
    float a = m[i] == -INFINITY ? 0.f : expf(m[i] - mnew);
    float z = 0;
#pragma omp simd reduction(+ : z)
    for (long c = 0; c < lim; c++) { float p = F(nc_exp)(s[c] * scale - mnew); s[c] = p; z += p; }
    for (long c = lim; c < cols; c++) s[c] = 0.f;
    l[i] = l[i] * a + z;
    m[i] = mnew;
    alpha[i] = a;
  }
}
// One query row against Tk keys, the decoding case (the query is the last position: it sees every
// key). s_t = scale q.k_t; p = softmax(s); o = sum_t p_t v_t; lse = max + log(sum). K and V are read
// once, in place: the blocked kernel would pack all of K and V for this single row and run its
// 8-row micro-kernel 1/8 full. S is Tk floats of scratch; K and V rows are ldk apart.
static void F(k_att_row)(const float *q, const float *k, const float *v, long ldk, int Tk, int D, float scale, float *S, float *o, float *lse) {
  float mx = -INFINITY;
  for (int t = 0; t < Tk; t++) {
    const float *kt = k + (long)t * ldk;
    float acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int d = 0; d < D; d++) acc += q[d] * kt[d];
    acc *= scale;
    S[t] = acc;
    mx = acc > mx ? acc : mx;
  }
  float z = 0;
#pragma omp simd reduction(+ : z)
  for (int t = 0; t < Tk; t++) { float p = F(nc_exp)(S[t] - mx); S[t] = p; z += p; }
  for (int d = 0; d < D; d++) o[d] = 0.f;
  for (int t = 0; t < Tk; t++) {
    const float *vt = v + (long)t * ldk;
    float p = S[t];
    for (int d = 0; d < D; d++) o[d] += p * vt[d];
  }
  float inv = 1.f / z;
  for (int d = 0; d < D; d++) o[d] *= inv;
  *lse = mx + logf(z);
}
static void F(k_att_p)(float *S, long ld, int rows, int cols, float scale, long qpos0, long kpos0, const float *lse) {
  for (int i = 0; i < rows; i++) {
    float *s = S + i * ld;
    long lim = qpos0 + i - kpos0 + 1;
    if (lim > cols) lim = cols;
    if (lim < 0) lim = 0;
    float L = lse[i];
    for (long c = 0; c < lim; c++) s[c] = F(nc_exp)(s[c] * scale - L);
    for (long c = lim; c < cols; c++) s[c] = 0.f;
  }
}
static void F(k_att_ds)(const float *P, float *dP, long ld, int rows, int cols, const float *delta, float scale) {
  for (int i = 0; i < rows; i++) {
    const float *p = P + i * ld;
    float *d = dP + i * ld;
    float di = delta[i];
    for (int c = 0; c < cols; c++) d[c] = p[c] * (d[c] - di) * scale;
  }
}

// ---- skinny products (M <= 4): stream B once, no packing. NN: rank-1 updates of C rows, in column
// blocks of 4096 (16 KiB per row) so the M rows of C stay in L1/L2 while B rows stream from memory
// in long runs (short runs at a large row stride defeat the prefetcher and the TLB: 8 GB/s at 2 KiB).
static void F(k_gemv_nn)(int M, int K, const float *A, long lda, const float *B, long ldb, float *C, long ldc, int acc, long j0, long j1) {
  for (long jb = j0; jb < j1; jb += 4096) {
    long je = jb + 4096 < j1 ? jb + 4096 : j1;
    if (!acc) for (int i = 0; i < M; i++) memset(C + i * ldc + jb, 0, sizeof(float) * (je - jb));
    for (int k = 0; k < K; k++) {
      const float *b = B + (long)k * ldb;
      for (int i = 0; i < M; i++) {
        float a = A[i * lda + k];
        float *c = C + i * ldc;
        for (long j = jb; j < je; j++) c[j] += a * b[j];
      }
    }
  }
}
// NT products, included twice: B f32, and B as bf16 bits (inference weights) widened as they are read.
#define NC_GV_B float
#define NC_GV_LOAD(x) (x)
#define NC_GV(name) F(name)
#include "gemv_nt.h"
#ifndef NC_GEMV_NT_BF16  // an ISA without its own kernel (avx512 has one) instantiates the template
#define NC_GV_B uint16_t
#define NC_GV_LOAD(x) nc_bf16_to_f32(x)
#define NC_GV(name) F(name##_bf16)
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NC_GV_PREFETCH
#endif
#include "gemv_nt.h"
#endif

// Filled by field name: reordering the fields of nc_isa_t in nc.h cannot wire a kernel to the wrong
// slot, and a field left out is NULL (a crash at its first call, never a wrong kernel run silently).
const nc_isa_t NC_TABLE = {
  .name = NC_NAME,
  .uk = NC_UK,
  .packA = NC_PACKA,
  .packB = NC_PACKB,
  .gemv_nn = F(k_gemv_nn),
  .gemv_nt = F(k_gemv_nt),
#ifdef NC_GEMV_NT_BF16  // an ISA's own kernel, where it has one
  .gemv_nt_bf16 = NC_GEMV_NT_BF16,
#else
  .gemv_nt_bf16 = F(k_gemv_nt_bf16),
#endif
  .packB_bf16 = NC_PACKB_BF16,
  .add = F(k_add),
  .mul = F(k_mul),
  .scale = F(k_scale),
  .lerp = F(k_lerp),
  .sum = F(k_sum),
  .sumsq = F(k_sumsq),
  .relu2_fwd = F(k_relu2_fwd),
  .relu2_bwd = F(k_relu2_bwd),
  .softcap_fwd = F(k_softcap_fwd),
  .softcap_bwd = F(k_softcap_bwd),
  .adamw = F(k_adamw),
  .rms_fwd = F(k_rms_fwd),
  .rms_bwd = F(k_rms_bwd),
  .rope = F(k_rope),
  .ce_fwd = F(k_ce_fwd),
  .ce_bwd = F(k_ce_bwd),
  .scce_fwd = F(k_scce_fwd),
  .scce_bwd = F(k_scce_bwd),
  .att_softmax = F(k_att_softmax),
  .att_p = F(k_att_p),
  .att_ds = F(k_att_ds),
  .att_row = F(k_att_row),
};

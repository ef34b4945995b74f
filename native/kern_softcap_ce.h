// Cross-entropy of soft-capped logits, fused: the loss of c = cap * tanh(z / cap) read straight from the
// raw lm_head output z, row by row, so the capped [rows, Vpad] array is never written or read back.
// Included by kern_impl.h (compiled once per instruction set, like the rest of it).
//
// Forward, per row over the V real columns (the padding columns are never read):
//   c_j = cap tanh(z_j / cap)
//   lse = log sum_j exp(c_j) = m + log sum_j exp(c_j - m), m = max_j c_j = cap tanh(max_j z_j / cap)
//   loss = lse - c_t  (0 where t = -1)
// tanh is increasing, so the max is taken on the raw row (a pass of compares, no tanh) and capped once.
// Only lse is saved: the backward recomputes c from z.
//
// Backward: dloss/dc_j = softmax(c)_j - [j == t] (times the row's upstream gradient g), and
//   d/dz [cap tanh(z / cap)] = cap * (1 / cap) * (1 - tanh^2(z / cap)) = 1 - tanh^2(z / cap) = 1 - (c / cap)^2,
// so dz_j = g (exp(c_j - lse) - [j == t]) (1 - tanh^2(z_j / cap)), one pass; padding columns get 0,
// and a whole ignored row (t = -1) gets 0.
//
// Both passes are compute-bound (a tanh, an exp and a division per logit: ~25 cycles of arithmetic per 16
// logits on one Zen 5 core at 2.6 GHz, measured, vs ~5-10 of memory traffic), so tanh is built from one
// expm1 and shares it with the derivative: with E = e^{2u}, tanh u = (E - 1) / (E + 1) and
// 1 - tanh^2 u = 4 E / (E + 1)^2, one division for both, no sign or small-|u| special cases (the nc_tanh of
// kern_impl.h has both), and no cancellation: E - 1 comes from expm1 and 1 - tanh^2 is never formed.
// With nc_tanh and nc_exp instead, the fused pair was 0.67x the speed of the unfused ops (131 vs 88 ms
// for 8192 x 8192 logits, AVX-512, 2 threads); as written, with the chunked passes below, it is 1.8x faster with
// AVX-512 and 1.4x with AVX2 (4096 x 8192, 2 Zen 5 threads: 17 vs 31 ms and 30 vs 42 ms).

// e^x and e^x - 1 together: x = k ln2 + r with |r| <= ln2/2, e^r - 1 = r + r^2 P(r) (the Cephes polynomial
// of nc_exp), then e^x = 2^k (e^r - 1) + 2^k and e^x - 1 = 2^k (e^r - 1) + (2^k - 1), where 2^k - 1 is
// exact for -24 <= k <= 24 and within an ulp of -1 below (where e^x - 1 is -1 in float32 anyway).
// Relative error ~2e-7 for both. No clamp here: the callers clamp x to [-87.3, 87.3] (2^k stays normal).
static inline void F(scce_exp2)(float x, float *e, float *em1) {
  float kf;
  float q = F(nc_expm1_r)(x, &kf);  // e^r - 1
  int32_t bits = ((int32_t)kf + 127) << 23;
  float s;
  memcpy(&s, &bits, 4);
  *e = s * q + s;
  *em1 = s * q + (s - 1.0f);
}

// The clamp limits, read once per call from a volatile: with literal limits GCC folds the clamped path of
// the exp into a constant, which splits the loop's one store into two conditional ones, and the AVX2 and
// SSE builds (no masked stores) then leave the whole loop scalar (measured: 2x slower than unfused).
// |u| <= 20 for tanh (tanh(20) is 1 in float32, and e^40 keeps (E + 1)^-2 normal); |x| <= 87.3 for exp.
static volatile const float scce_limits[2] = { 20.0f, 87.3f };

static inline float F(scce_exp)(float x, float lim) {
  x = x < -lim ? -lim : x;
  x = x > lim ? lim : x;
  float e, em1;
  F(scce_exp2)(x, &e, &em1);
  return e;
}

// tanh(u) and 1 - tanh^2(u) from E = e^{2u}: (E - 1) / (E + 1) and 4 E / (E + 1)^2
static inline void F(scce_tanh)(float u, float lim, float *th, float *dth) {
  u = u < -lim ? -lim : u;
  u = u > lim ? lim : u;
  float e, em1;
  F(scce_exp2)(2.0f * u, &e, &em1);
  float inv = 1.0f / (e + 1.0f);
  *th = em1 * inv;
  *dth = 4.0f * e * inv * inv;
}

// The loops run a row in chunks of SCCE_CHUNK logits, twice over each chunk: first the tanh (and its derivative)
// into buffers on the stack, then the exp that needs it. One pass doing both makes each logit a chain of two
// exps and a division (~100 cycles of latency), and the out-of-order window then covers too few logits to fill
// the pipes: on AVX2 (16 registers, spills) the fused pair ran 0.8-0.9x the unfused kernels, which do one
// transcendental per pass. Split, the chains are half as long and the buffers stay in L1 (2 x 2 KiB).
#define SCCE_CHUNK 512

static void F(k_scce_fwd)(const float *raw, const int32_t *tg, float *loss, float *lse, long r0, long r1, long V,
                          long stride, float cap) {
  const float ic = 1.0f / cap, ulim = scce_limits[0], elim = scce_limits[1];
  float tb[SCCE_CHUNK];
  for (long r = r0; r < r1; r++) {
    const float *x = raw + r * stride;
    float zmax = -INFINITY;
#pragma omp simd reduction(max : zmax)
    for (long j = 0; j < V; j++) zmax = x[j] > zmax ? x[j] : zmax;
    float th, dth;
    F(scce_tanh)(zmax * ic, ulim, &th, &dth);
    float m = cap * th;
    float s = 0;
    for (long j0 = 0; j0 < V; j0 += SCCE_CHUNK) {
      long n = V - j0 < SCCE_CHUNK ? V - j0 : SCCE_CHUNK;
#pragma omp simd
      for (long j = 0; j < n; j++) {
        float t, d;
        F(scce_tanh)(x[j0 + j] * ic, ulim, &t, &d);
        tb[j] = cap * t - m;
      }
#pragma omp simd reduction(+ : s)
      for (long j = 0; j < n; j++) s += F(scce_exp)(tb[j], elim);
    }
    float l = m + logf(s);
    lse[r] = l;
    if (tg[r] == -1) { loss[r] = 0.f; continue; }
    F(scce_tanh)(x[tg[r]] * ic, ulim, &th, &dth);
    loss[r] = l - cap * th;
  }
}

static void F(k_scce_bwd)(const float *raw, const int32_t *tg, const float *lse, const float *dloss, float *dl, long r0,
                          long r1, long V, long stride, float cap) {
  const float ic = 1.0f / cap, ulim = scce_limits[0], elim = scce_limits[1];
  float tb[SCCE_CHUNK], db[SCCE_CHUNK];
  for (long r = r0; r < r1; r++) {
    const float *x = raw + r * stride;
    float *d = dl + r * stride;
    long t = tg[r];
    if (t == -1) { memset(d, 0, sizeof(float) * stride); continue; }
    float g = dloss[r], l = lse[r];
    for (long j0 = 0; j0 < V; j0 += SCCE_CHUNK) {
      long n = V - j0 < SCCE_CHUNK ? V - j0 : SCCE_CHUNK;
#pragma omp simd
      for (long j = 0; j < n; j++) {
        float th, dth;
        F(scce_tanh)(x[j0 + j] * ic, ulim, &th, &dth);
        tb[j] = cap * th - l;
        db[j] = g * dth;
      }
#pragma omp simd
      for (long j = 0; j < n; j++) d[j0 + j] = F(scce_exp)(tb[j], elim) * db[j];
    }
    float th, dth;
    F(scce_tanh)(x[t] * ic, ulim, &th, &dth);
    d[t] -= g * dth;
    for (long j = V; j < stride; j++) d[j] = 0.f;
  }
}

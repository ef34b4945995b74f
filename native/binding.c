// N-API glue: argument checks (a buffer too short for the sizes throws, never writes out of bounds),
// then one call into the kernels. Arguments are positional numbers/typed arrays (no option objects)
// so a call costs ~0.2-0.5 us of overhead.
#include <node_api.h>
#include <stdio.h>
#include "kernels.h"
#include "gemm_bf16.h"

#define MAXARGS 20

typedef struct { napi_env env; napi_value v[MAXARGS]; size_t n; int err; } A;

static void fail(A *a, const char *msg) {
  if (!a->err) napi_throw_error(a->env, "ERR_NANOCHAT_NATIVE", msg);
  a->err = 1;
}

static int get_args(napi_env env, napi_callback_info info, A *a, size_t want) {
  a->env = env; a->err = 0; a->n = MAXARGS;
  if (napi_get_cb_info(env, info, &a->n, a->v, NULL, NULL) != napi_ok) { fail(a, "bad call"); return 0; }
  if (a->n < want) { char m[96]; snprintf(m, sizeof m, "expected %zu arguments, got %zu", want, a->n); fail(a, m); return 0; }
  return 1;
}

// typed array of the given type with at least `need` elements; napi returns data already offset by byte_offset
static void *arr(A *a, int i, napi_typedarray_type want, double need, const char *name) {
  if (a->err) return NULL;
  bool is = false;
  napi_is_typedarray(a->env, a->v[i], &is);
  char m[160];
  const char *type = want == napi_float32_array ? "Float32Array" : want == napi_uint16_array ? "Uint16Array" : "Int32Array";
  if (!is) { snprintf(m, sizeof m, "%s must be a %s", name, type); fail(a, m); return NULL; }
  napi_typedarray_type t; size_t len; void *data; napi_value ab; size_t off;
  napi_get_typedarray_info(a->env, a->v[i], &t, &len, &data, &ab, &off);
  if (t != want) { snprintf(m, sizeof m, "%s must be a %s", name, type); fail(a, m); return NULL; }
  if (need < 0 || (double)len < need) { snprintf(m, sizeof m, "%s is too short: %zu elements, the sizes need %.0f", name, len, need); fail(a, m); return NULL; }
  return data;
}
#define F32(i, need, name) ((float *)arr(&a, i, napi_float32_array, (double)(need), name))
#define U16(i, need, name) ((uint16_t *)arr(&a, i, napi_uint16_array, (double)(need), name))
#define I32(i, need, name) ((int32_t *)arr(&a, i, napi_int32_array, (double)(need), name))

static double num(A *a, int i) {
  double d = 0;
  if (a->err) return 0;
  if (napi_get_value_double(a->env, a->v[i], &d) != napi_ok) {
    bool b;
    if (napi_get_value_bool(a->env, a->v[i], &b) == napi_ok) return b ? 1 : 0;
    fail(a, "expected a number");
  }
  return d;
}
// non-negative integer size
static long sz(A *a, int i, const char *name) {
  double d = num(a, i);
  if (a->err) return 0;
  if (!(d >= 0) || d != (double)(long)d || d > 9.0e15) { char m[96]; snprintf(m, sizeof m, "%s must be a non-negative integer", name); fail(a, m); return 0; }
  return (long)d;
}

static napi_value undef(napi_env env) { napi_value u; napi_get_undefined(env, &u); return u; }
static napi_value dbl(napi_env env, double d) { napi_value u; napi_create_double(env, d, &u); return u; }

#define BEGIN(nargs) A a; if (!get_args(env, info, &a, nargs)) return NULL;
#define CHECK if (a.err) return NULL;
#define LOCKED(stmt) do { nc_lock(); stmt; nc_unlock(); } while (0)

// The arguments of matmul and matmulBf16, checked: sizes that fit in 32 bits, buffers long enough for them.
typedef struct { const float *a, *b; float *c; int batch, M, N, K, tA, tB, acc, sym; long sA, sB, sC; } MM;

static int matmul_args(A *ap, MM *m) {
  A a = *ap;  // the F32 macro reads `a`
  long batch = sz(&a, 3, "batch"), M = sz(&a, 4, "M"), N = sz(&a, 5, "N"), K = sz(&a, 6, "K");
  m->tA = num(&a, 7) != 0; m->tB = num(&a, 8) != 0; m->acc = num(&a, 9) != 0;
  m->sA = sz(&a, 10, "strideA"); m->sB = sz(&a, 11, "strideB"); m->sC = sz(&a, 12, "strideC");
  m->sym = a.n > 13 && num(&a, 13) != 0;  // optional: C is symmetric, the upper triangle is computed and mirrored
  if (!a.err && (M > 2147483647L || N > 2147483647L || K > 2147483647L || batch > 2147483647L)) fail(&a, "matmul sizes must fit in 32 bits");
  if (a.err) { *ap = a; return 0; }
  double nb = batch > 0 ? (double)(batch - 1) : 0;
  double nA = batch ? nb * m->sA + (double)M * K : 0, nB = batch ? nb * m->sB + (double)K * N : 0;
  double nC = batch ? nb * m->sC + (double)M * N : 0;
  m->a = F32(0, nA, "a"); m->b = F32(1, nB, "b"); m->c = F32(2, nC, "c");
  m->batch = (int)batch; m->M = (int)M; m->N = (int)N; m->K = (int)K;
  *ap = a;
  return !a.err;
}

// bf16 products run only with AVX512_BF16 and the avx512 table: otherwise a failure saying which is missing
static int require_bf16(A *a) {
  if (nc_bf16_available()) return 1;
  char m[160];
  snprintf(m, sizeof m, "bf16 matmul needs a CPU with AVX512_BF16 and the avx512 kernels (this CPU %s it; kernels in use: %s)",
           nc_cpu_has_avx512bf16() ? "has" : "lacks", nc_isa->name);
  fail(a, m);
  return 0;
}

// matmul(a, b, c, batch, M, N, K, transA, transB, accumulate, strideA, strideB, strideC[, symmetric])
static napi_value js_matmul(napi_env env, napi_callback_info info) {
  BEGIN(13);
  MM m;
  if (!matmul_args(&a, &m)) return NULL;
  LOCKED(nc_k_matmul(m.a, m.b, m.c, m.batch, m.M, m.N, m.K, m.tA, m.tB, m.acc, m.sA, m.sB, m.sC, m.sym));
  return undef(env);
}

// matmulBf16(same arguments as matmul): A and B rounded to bf16 when packed, f32 sums (gemm_bf16.c)
static napi_value js_matmul_bf16(napi_env env, napi_callback_info info) {
  BEGIN(13);
  if (!require_bf16(&a)) return NULL;
  MM m;
  if (!matmul_args(&a, &m)) return NULL;
  LOCKED(nc_k_matmul_bf16(m.a, m.b, m.c, m.batch, m.M, m.N, m.K, m.tA, m.tB, m.acc, m.sA, m.sB, m.sC, m.sym));
  return undef(env);
}

// matmulBf16w(a, bBits, c, batch, M, N, K, transA, accumulate, roundA, strideA, strideB, strideC): C = op(A) B^T with
// B the bf16 bits (Uint16Array) of a weight stored [N, K]; roundA rounds op(A) to bf16 as well (vdpbf16ps: needs
// bf16()), else op(A) stays f32 and each weight widens exactly to f32 (every instruction set).
static napi_value js_matmul_bf16w(napi_env env, napi_callback_info info) {
  BEGIN(13);
  long batch = sz(&a, 3, "batch"), M = sz(&a, 4, "M"), N = sz(&a, 5, "N"), K = sz(&a, 6, "K");
  int tA = num(&a, 7) != 0, acc = num(&a, 8) != 0, round_a = num(&a, 9) != 0;
  long sA = sz(&a, 10, "strideA"), sB = sz(&a, 11, "strideB"), sC = sz(&a, 12, "strideC");
  if (!a.err && (M > 2147483647L || N > 2147483647L || K > 2147483647L || batch > 2147483647L)) fail(&a, "matmul sizes must fit in 32 bits");
  if (!a.err && round_a) require_bf16(&a);
  CHECK
  double nb = batch > 0 ? (double)(batch - 1) : 0;
  const float *A_ = F32(0, batch ? nb * sA + (double)M * K : 0, "a");
  const uint16_t *B_ = U16(1, batch ? nb * sB + (double)K * N : 0, "b (bf16 bits)");
  float *C_ = F32(2, batch ? nb * sC + (double)M * N : 0, "c");
  CHECK
  LOCKED(nc_k_matmul_bf16w(A_, B_, C_, (int)batch, (int)M, (int)N, (int)K, tA, acc, round_a, sA, sB, sC));
  return undef(env);
}

// bf16(): whether matmulBf16 runs here now (AVX512_BF16 and the avx512 table in use)
static napi_value js_bf16(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r; napi_get_boolean(env, nc_bf16_available(), &r); return r;
}

static napi_value js_transpose(napi_env env, napi_callback_info info) {
  BEGIN(4);
  long r = sz(&a, 2, "rows"), c = sz(&a, 3, "cols");
  const float *s = F32(0, (double)r * c, "src"); float *d = F32(1, (double)r * c, "dst");
  CHECK;
  LOCKED(nc_k_transpose(s, d, r, c));
  return undef(env);
}

static napi_value js_fill(napi_env env, napi_callback_info info) {
  BEGIN(3);
  double v = num(&a, 1); long n = sz(&a, 2, "n");
  float *d = F32(0, n, "dst");
  CHECK;
  LOCKED(nc_k_fill(d, (float)v, n));
  return undef(env);
}
static napi_value js_copy(napi_env env, napi_callback_info info) {
  BEGIN(3);
  long n = sz(&a, 2, "n");
  const float *s = F32(0, n, "src"); float *d = F32(1, n, "dst");
  CHECK;
  LOCKED(nc_k_copy(s, d, n));
  return undef(env);
}
// binary(a, b, out, n, accumulate)
static napi_value binary(napi_env env, napi_callback_info info, int op) {
  BEGIN(5);
  long n = sz(&a, 3, "n"); int acc = num(&a, 4) != 0;
  const float *x = F32(0, n, "a"), *y = F32(1, n, "b"); float *o = F32(2, n, "out");
  CHECK;
  LOCKED(op ? nc_k_mul(x, y, o, n, acc) : nc_k_add(x, y, o, n, acc));
  return undef(env);
}
static napi_value js_add(napi_env env, napi_callback_info info) { return binary(env, info, 0); }
static napi_value js_mul(napi_env env, napi_callback_info info) { return binary(env, info, 1); }
// scale(x, alpha, out, n, accumulate)
static napi_value js_scale(napi_env env, napi_callback_info info) {
  BEGIN(5);
  double al = num(&a, 1); long n = sz(&a, 3, "n"); int acc = num(&a, 4) != 0;
  const float *x = F32(0, n, "x"); float *o = F32(2, n, "out");
  CHECK;
  LOCKED(nc_k_scale(x, (float)al, o, n, acc));
  return undef(env);
}
// lerp(dst, src, t, n)
static napi_value js_lerp(napi_env env, napi_callback_info info) {
  BEGIN(4);
  double t = num(&a, 2); long n = sz(&a, 3, "n");
  float *d = F32(0, n, "dst"); const float *s = F32(1, n, "src");
  CHECK;
  LOCKED(nc_k_lerp(d, s, (float)t, n));
  return undef(env);
}
static napi_value reduce(napi_env env, napi_callback_info info, int sq) {
  BEGIN(2);
  long n = sz(&a, 1, "n");
  const float *x = F32(0, n, "x");
  CHECK;
  double r;
  LOCKED(r = sq ? nc_k_sumsq(x, n) : nc_k_sum(x, n));
  return dbl(env, r);
}
static napi_value js_sum(napi_env env, napi_callback_info info) { return reduce(env, info, 0); }
static napi_value js_sumsq(napi_env env, napi_callback_info info) { return reduce(env, info, 1); }

// relu2Fwd(x, y, n); relu2Bwd(dy, x, dx, n, acc)
static napi_value js_relu2f(napi_env env, napi_callback_info info) {
  BEGIN(3);
  long n = sz(&a, 2, "n");
  const float *x = F32(0, n, "x"); float *y = F32(1, n, "y");
  CHECK;
  LOCKED(nc_k_relu2_fwd(x, y, n));
  return undef(env);
}
static napi_value js_relu2b(napi_env env, napi_callback_info info) {
  BEGIN(5);
  long n = sz(&a, 3, "n"); int acc = num(&a, 4) != 0;
  const float *dy = F32(0, n, "dy"), *x = F32(1, n, "x"); float *dx = F32(2, n, "dx");
  CHECK;
  LOCKED(nc_k_relu2_bwd(dy, x, dx, n, acc));
  return undef(env);
}
// softcapFwd(x, y, n, cap); softcapBwd(dy, y, dx, n, cap, acc)
static napi_value js_softcapf(napi_env env, napi_callback_info info) {
  BEGIN(4);
  long n = sz(&a, 2, "n"); double cap = num(&a, 3);
  const float *x = F32(0, n, "x"); float *y = F32(1, n, "y");
  CHECK;
  LOCKED(nc_k_softcap_fwd(x, y, n, (float)cap));
  return undef(env);
}
static napi_value js_softcapb(napi_env env, napi_callback_info info) {
  BEGIN(6);
  long n = sz(&a, 3, "n"); double cap = num(&a, 4); int acc = num(&a, 5) != 0;
  const float *dy = F32(0, n, "dy"), *y = F32(1, n, "y"); float *dx = F32(2, n, "dx");
  CHECK;
  LOCKED(nc_k_softcap_bwd(dy, y, dx, n, (float)cap, acc));
  return undef(env);
}
// rmsFwd(x, y, rstd, rows, dim, eps); rmsBwd(dy, y, rstd, dx, rows, dim, acc)
static napi_value js_rmsf(napi_env env, napi_callback_info info) {
  BEGIN(6);
  long r = sz(&a, 3, "rows"), d = sz(&a, 4, "dim"); double eps = num(&a, 5);
  const float *x = F32(0, (double)r * d, "x"); float *y = F32(1, (double)r * d, "y"), *rs = F32(2, r, "rstd");
  CHECK;
  LOCKED(nc_k_rms_fwd(x, y, rs, r, d, (float)eps));
  return undef(env);
}
static napi_value js_rmsb(napi_env env, napi_callback_info info) {
  BEGIN(7);
  long r = sz(&a, 4, "rows"), d = sz(&a, 5, "dim"); int acc = num(&a, 6) != 0;
  const float *dy = F32(0, (double)r * d, "dy"), *y = F32(1, (double)r * d, "y"), *rs = F32(2, r, "rstd");
  float *dx = F32(3, (double)r * d, "dx");
  CHECK;
  LOCKED(nc_k_rms_bwd(dy, y, rs, dx, r, d, acc));
  return undef(env);
}
// rope(src, dst, cos, sin, B, T, H, D, pos0, inverse, acc)
static napi_value js_rope(napi_env env, napi_callback_info info) {
  BEGIN(11);
  long B = sz(&a, 4, "B"), T = sz(&a, 5, "T"), H = sz(&a, 6, "H"), D = sz(&a, 7, "D"), p0 = sz(&a, 8, "pos0");
  int inv = num(&a, 9) != 0, acc = num(&a, 10) != 0;
  CHECK;
  if (D % 2) { fail(&a, "rope: D must be even"); return NULL; }
  double n = (double)B * T * H * D, tab = (double)(p0 + T) * (D / 2);
  const float *s = F32(0, n, "src"); float *d = F32(1, n, "dst");
  const float *c = F32(2, T ? tab : 0, "cos"), *sn = F32(3, T ? tab : 0, "sin");
  CHECK;
  if (s == d && n > 0) { fail(&a, "rope: dst must not alias src"); return NULL; }
  LOCKED(nc_k_rope(s, d, c, sn, B, T, H, D, p0, inv, acc));
  return undef(env);
}

static int att_shape(A *a, int i, nc_att_shape *s) {
  long B = sz(a, i, "B"), Tq = sz(a, i + 1, "Tq"), Tk = sz(a, i + 2, "Tk"), H = sz(a, i + 3, "H"), Hkv = sz(a, i + 4, "Hkv"), D = sz(a, i + 5, "D");
  double scale = num(a, i + 6);
  long kvs = sz(a, i + 7, "kvBatchStride");
  if (a->err) return 0;
  if (Hkv == 0 || H % Hkv) { fail(a, "attention: H must be a multiple of Hkv"); return 0; }
  if (Tq > Tk) { fail(a, "attention: Tq must be <= Tk"); return 0; }
  if (Tq == 0 && B && H) { fail(a, "attention: Tq must be >= 1"); return 0; }
  if (!(scale > 0)) { fail(a, "attention: scale must be > 0"); return 0; }
  if (kvs < Tk * Hkv * D) { fail(a, "attention: kvBatchStride must be >= Tk*Hkv*D"); return 0; }
  if (B > 1e9 || Tk > 1e9 || H > 1e6 || D > 1e6) { fail(a, "attention: sizes too large"); return 0; }
  s->B = (int)B; s->Tq = (int)Tq; s->Tk = (int)Tk; s->H = (int)H; s->Hkv = (int)Hkv; s->D = (int)D; s->scale = (float)scale; s->kvStride = kvs;
  return 1;
}
#define QN(s) ((double)(s).B * (s).Tq * (s).H * (s).D)
#define KN(s) ((s).B ? (double)((s).B - 1) * (s).kvStride + (double)(s).Tk * (s).Hkv * (s).D : 0)
#define LN(s) ((double)(s).B * (s).H * (s).Tq)

// attFwd(q, k, v, out, lse, B, Tq, Tk, H, Hkv, D, scale, kvBatchStride)
static napi_value js_attf(napi_env env, napi_callback_info info) {
  BEGIN(13);
  nc_att_shape s;
  if (!att_shape(&a, 5, &s)) return NULL;
  const float *q = F32(0, QN(s), "q"), *k = F32(1, KN(s), "k"), *v = F32(2, KN(s), "v");
  float *o = F32(3, QN(s), "out"), *l = F32(4, LN(s), "lse");
  CHECK;
  LOCKED(nc_attention_fwd(q, k, v, o, l, &s));
  return undef(env);
}
// attBwd(dout, q, k, v, out, lse, dq, dk, dv, B, Tq, Tk, H, Hkv, D, scale, kvBatchStride)
static napi_value js_attb(napi_env env, napi_callback_info info) {
  BEGIN(17);
  nc_att_shape s;
  if (!att_shape(&a, 9, &s)) return NULL;
  const float *dout = F32(0, QN(s), "dout"), *q = F32(1, QN(s), "q"), *k = F32(2, KN(s), "k"), *v = F32(3, KN(s), "v");
  const float *o = F32(4, QN(s), "out"), *l = F32(5, LN(s), "lse");
  float *dq = F32(6, QN(s), "dq"), *dk = F32(7, KN(s), "dk"), *dv = F32(8, KN(s), "dv");
  CHECK;
  LOCKED(nc_attention_bwd(dout, q, k, v, o, l, dq, dk, dv, &s));
  return undef(env);
}

// embFwd(table, ids, out, n, dim); embBwd(dout, ids, dtable, n, dim)
static int check_ids(A *a, const int32_t *ids, long n, long rows) {
  for (long i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= rows) { char m[128]; snprintf(m, sizeof m, "embedding: id %d at %ld is outside [0, %ld)", ids[i], i, rows); fail(a, m); return 0; }
  return 1;
}
static long f32len(A *a, int i) {
  napi_typedarray_type t; size_t len = 0; void *d; napi_value ab; size_t off;
  bool is = false;
  napi_is_typedarray(a->env, a->v[i], &is);
  if (!is || napi_get_typedarray_info(a->env, a->v[i], &t, &len, &d, &ab, &off) != napi_ok) return 0;
  return (long)len;
}
static napi_value js_embf(napi_env env, napi_callback_info info) {
  BEGIN(5);
  long n = sz(&a, 3, "n"), dim = sz(&a, 4, "dim");
  const float *t = F32(0, 0, "table"); const int32_t *ids = I32(1, n, "ids"); float *o = F32(2, (double)n * dim, "out");
  CHECK;
  if (dim && !check_ids(&a, ids, n, f32len(&a, 0) / dim)) return NULL;
  LOCKED(nc_k_emb_fwd(t, ids, o, n, dim));
  return undef(env);
}
static napi_value js_embb(napi_env env, napi_callback_info info) {
  BEGIN(5);
  long n = sz(&a, 3, "n"), dim = sz(&a, 4, "dim");
  const float *d = F32(0, (double)n * dim, "dout"); const int32_t *ids = I32(1, n, "ids"); float *t = F32(2, 0, "dtable");
  CHECK;
  if (dim && !check_ids(&a, ids, n, f32len(&a, 2) / dim)) return NULL;
  LOCKED(nc_k_emb_bwd(d, ids, t, n, dim));
  return undef(env);
}

static int check_targets(A *a, const int32_t *t, long rows, long V) {
  for (long r = 0; r < rows; r++)
    if (t[r] < -1 || t[r] >= V) { char m[128]; snprintf(m, sizeof m, "cross-entropy: target %d at row %ld is outside [-1, %ld)", t[r], r, V); fail(a, m); return 0; }
  return 1;
}
#define CEN(rows, stride, V) ((rows) ? (double)((rows) - 1) * (stride) + (V) : 0)
// ceFwd(logits, targets, losses, lse, rows, V, stride)
static napi_value js_cef(napi_env env, napi_callback_info info) {
  BEGIN(7);
  long r = sz(&a, 4, "rows"), V = sz(&a, 5, "V"), st = sz(&a, 6, "stride");
  CHECK;
  if (st < V || V == 0) { fail(&a, "cross-entropy: need 0 < V <= stride"); return NULL; }
  const float *lg = F32(0, CEN(r, st, V), "logits"); const int32_t *t = I32(1, r, "targets");
  float *loss = F32(2, r, "losses"), *lse = F32(3, r, "lse");
  CHECK;
  if (!check_targets(&a, t, r, V)) return NULL;
  LOCKED(nc_k_ce_fwd(lg, t, loss, lse, r, V, st));
  return undef(env);
}
// ceBwd(logits, targets, lse, dloss, dlogits, rows, V, stride)
static napi_value js_ceb(napi_env env, napi_callback_info info) {
  BEGIN(8);
  long r = sz(&a, 5, "rows"), V = sz(&a, 6, "V"), st = sz(&a, 7, "stride");
  CHECK;
  if (st < V || V == 0) { fail(&a, "cross-entropy: need 0 < V <= stride"); return NULL; }
  const float *lg = F32(0, CEN(r, st, V), "logits"); const int32_t *t = I32(1, r, "targets");
  const float *lse = F32(2, r, "lse"), *dl = F32(3, r, "dloss");
  float *dlg = F32(4, (double)r * st, "dlogits");
  CHECK;
  if (!check_targets(&a, t, r, V)) return NULL;
  LOCKED(nc_k_ce_bwd(lg, t, lse, dl, dlg, r, V, st));
  return undef(env);
}
// scceFwd(raw, targets, losses, lse, rows, V, stride, cap); scceBwd(raw, targets, lse, dloss, draw, rows, V, stride, cap):
// cross-entropy of cap * tanh(raw / cap), the soft-cap fused in; cap must be a positive finite number
static napi_value js_sccef(napi_env env, napi_callback_info info) {
  BEGIN(8);
  long r = sz(&a, 4, "rows"), V = sz(&a, 5, "V"), st = sz(&a, 6, "stride"); double cap = num(&a, 7);
  CHECK;
  if (st < V || V == 0) { fail(&a, "cross-entropy: need 0 < V <= stride"); return NULL; }
  if (!(cap > 0 && cap < 1e30)) { fail(&a, "soft-capped cross-entropy: cap must be positive and finite"); return NULL; }
  const float *lg = F32(0, CEN(r, st, V), "raw"); const int32_t *t = I32(1, r, "targets");
  float *loss = F32(2, r, "losses"), *lse = F32(3, r, "lse");
  CHECK;
  if (!check_targets(&a, t, r, V)) return NULL;
  LOCKED(nc_k_scce_fwd(lg, t, loss, lse, r, V, st, (float)cap));
  return undef(env);
}
static napi_value js_scceb(napi_env env, napi_callback_info info) {
  BEGIN(9);
  long r = sz(&a, 5, "rows"), V = sz(&a, 6, "V"), st = sz(&a, 7, "stride"); double cap = num(&a, 8);
  CHECK;
  if (st < V || V == 0) { fail(&a, "cross-entropy: need 0 < V <= stride"); return NULL; }
  if (!(cap > 0 && cap < 1e30)) { fail(&a, "soft-capped cross-entropy: cap must be positive and finite"); return NULL; }
  const float *lg = F32(0, CEN(r, st, V), "raw"); const int32_t *t = I32(1, r, "targets");
  const float *lse = F32(2, r, "lse"), *dl = F32(3, r, "dloss");
  float *dlg = F32(4, (double)r * st, "draw");
  CHECK;
  if (!check_targets(&a, t, r, V)) return NULL;
  LOCKED(nc_k_scce_bwd(lg, t, lse, dl, dlg, r, V, st, (float)cap));
  return undef(env);
}
// adamw(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step)
static napi_value js_adamw(napi_env env, napi_callback_info info) {
  BEGIN(11);
  long n = sz(&a, 4, "n");
  double lr = num(&a, 5), b1 = num(&a, 6), b2 = num(&a, 7), eps = num(&a, 8), wd = num(&a, 9), step = num(&a, 10);
  float *p = F32(0, n, "param"); const float *g = F32(1, n, "grad"); float *m = F32(2, n, "m"), *v = F32(3, n, "v");
  CHECK;
  if (!(step >= 1)) { fail(&a, "adamw: step must be >= 1"); return NULL; }
  LOCKED(nc_k_adamw(p, g, m, v, n, lr, b1, b2, eps, wd, step));
  return undef(env);
}

static napi_value js_threads(napi_env env, napi_callback_info info) { (void)info; return dbl(env, nc_threads()); }
// gemmKc(): the f32 GEMM's depth block (from the L1 data cache, or NANOCHAT_GEMM_KC)
static napi_value js_gemm_kc(napi_env env, napi_callback_info info) { (void)info; return dbl(env, nc_gemm_kc(0)); }
// peakFlops(threads, reps, bf16): { flops, isa, chains, threads, runs } (threads 0 = all; bf16 0 or 1), see peak.c
static napi_value js_peak(napi_env env, napi_callback_info info) {
  BEGIN(3);
  long threads = sz(&a, 0, "threads"), reps = sz(&a, 1, "reps"), bf16 = sz(&a, 2, "bf16");
  CHECK;
  nc_peak_t r;
  LOCKED(nc_peak_measure(threads > 256 ? 256 : (int)threads, reps > 1000 ? 1000 : (int)reps, bf16 != 0, &r));
  napi_value o, s;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "flops", dbl(env, r.flops));
  napi_create_string_utf8(env, r.isa, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, o, "isa", s);
  napi_set_named_property(env, o, "chains", dbl(env, r.chains));
  napi_set_named_property(env, o, "threads", dbl(env, r.threads));
  napi_set_named_property(env, o, "runs", dbl(env, r.runs));
  return o;
}
static napi_value js_isa(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value s; napi_create_string_utf8(env, nc_isa->name, NAPI_AUTO_LENGTH, &s); return s;
}
// setIsa(name): "avx512" | "avx2" | "generic" | "auto"; returns the ISA now in use (tests run every code path)
static napi_value js_setisa(napi_env env, napi_callback_info info) {
  BEGIN(1);
  char buf[32] = { 0 }; size_t len;
  if (napi_get_value_string_utf8(env, a.v[0], buf, sizeof buf, &len) != napi_ok) { fail(&a, "setIsa: expected a string"); return NULL; }
  const char *r;
  LOCKED(r = nc_set_isa(buf));
  napi_value s; napi_create_string_utf8(env, r, NAPI_AUTO_LENGTH, &s); return s;
}

// One pool per process; the last environment (main thread or worker) to go away joins its threads.
static int env_count = 0;
static void env_cleanup(void *arg) {
  (void)arg;
  nc_lock();
  int last = --env_count == 0;
  nc_unlock();
  if (last) nc_pool_shutdown();  // joins the workers (their scratch is freed by the key destructor)
  nc_lock();
  nc_ws_release_thread(last && env_count == 0);
  nc_unlock();
}

static napi_value Init(napi_env env, napi_value exports) {
  nc_lock();
  if (env_count++ == 0) nc_isa_init();
  nc_ws_init();
  nc_unlock();
  napi_add_env_cleanup_hook(env, env_cleanup, NULL);
  static const struct { const char *name; napi_callback fn; } fns[] = {
    { "matmul", js_matmul }, { "transpose", js_transpose }, { "fill", js_fill }, { "copy", js_copy },
    { "add", js_add }, { "mul", js_mul }, { "scale", js_scale }, { "lerp", js_lerp }, { "sum", js_sum }, { "sumSquares", js_sumsq },
    { "relu2Fwd", js_relu2f }, { "relu2Bwd", js_relu2b }, { "softcapFwd", js_softcapf }, { "softcapBwd", js_softcapb },
    { "rmsFwd", js_rmsf }, { "rmsBwd", js_rmsb }, { "rope", js_rope }, { "attFwd", js_attf }, { "attBwd", js_attb },
    { "embFwd", js_embf }, { "embBwd", js_embb }, { "ceFwd", js_cef }, { "ceBwd", js_ceb }, { "adamw", js_adamw },
    { "scceFwd", js_sccef }, { "scceBwd", js_scceb },
    { "threads", js_threads }, { "gemmKc", js_gemm_kc }, { "isa", js_isa }, { "setIsa", js_setisa }, { "peakFlops", js_peak },
    { "matmulBf16", js_matmul_bf16 }, { "matmulBf16w", js_matmul_bf16w }, { "bf16", js_bf16 },
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)

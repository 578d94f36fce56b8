/*
 * tfppl's optional native accelerator: kernels that run on the tfjs wasm
 * backend's heap from outside it. JavaScript passes the heap's ArrayBuffer and
 * byte offsets of tensors (inputs, and outputs it has just allocated); every
 * access is bounds-checked here against the buffer's current length.
 *
 *   gemm(heap, batch, m, n, k, transA, transB, offA, strideA, offB, strideB, offC)
 *       C_i = op(A_i) · op(B_i) for i < batch, with OpenBLAS's cblas_sgemm
 *       (row-major; strides in elements, 0 for a broadcast operand).
 *   unary(kind, heap, offIn, offOut, n)    softplus, exp, log, sigmoid, tanh, sqrt
 *       (glibc's vector math, AVX2, where the CPU has it; scalar libm otherwise).
 *   adam(heap, n, offX, offG, offM, offV, offX2, offM2, offV2, lr, b1, b2, eps, c1, c2)
 *       m' = b1·m + (1−b1)·g, v' = b2·v + (1−b2)·g², x' = x − lr·(m'/c1) / (√(v'/c2) + ε),
 *       into fresh outputs; returns whether every g was finite.
 *   dense(heap, m, n, k, act, offX, offW, offB, offY)
 *       Y = act(X·W + b), X m×k, W k×n, b n (act: 0 linear, 1 softplus, 2 relu, 3 tanh).
 *   denseGrad(heap, which, m, n, k, act, offDy, offY, offOther, offOut)
 *       with dpre = dy ⊙ act′ (from Y: softplus′ = −expm1(−y), relu′ = [y > 0], tanh′ = 1 − y²):
 *       which 0: dX = dpre·Wᵀ (other = W), 1: dW = Xᵀ·dpre (other = X), 2: db = Σ_rows dpre.
 *   setThreads(n)    BLAS threads.
 */
#include <node_api.h>
#include <cblas.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 16

/* glibc's libmvec, AVX2 variants (8 floats). */
__m256 _ZGVdN8v_expf(__m256);
__m256 _ZGVdN8v_logf(__m256);
__m256 _ZGVdN8v_log1pf(__m256);
__m256 _ZGVdN8v_tanhf(__m256);
__m256 _ZGVdN8v_expm1f(__m256);

typedef struct { napi_env env; napi_value argv[MAX_ARGS]; size_t argc; int failed; } Args;

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_range_error(env, "TFPPL_NATIVE", msg);
  return NULL;
}

static double num(Args *a, size_t i) {
  double v = 0;
  if (i >= a->argc || napi_get_value_double(a->env, a->argv[i], &v) != napi_ok) a->failed = 1;
  return v;
}

static int64_t whole(Args *a, size_t i) {
  double v = num(a, i);
  if (v != floor(v) || v < 0 || v > 9007199254740991.0) a->failed = 1;
  return (int64_t)v;
}

/* The heap: base pointer and length of the ArrayBuffer in argument i. */
static float *heap(Args *a, size_t i, size_t *bytes) {
  void *data = NULL;
  bool is_buffer = false;
  if (i >= a->argc || napi_is_arraybuffer(a->env, a->argv[i], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_arraybuffer_info(a->env, a->argv[i], &data, bytes) != napi_ok || data == NULL) {
    a->failed = 1;
    return NULL;
  }
  return (float *)data;
}

/* Whether [off, off + 4·count) is an aligned float range inside the heap. */
static int inside(int64_t off, int64_t count, size_t bytes) {
  return off >= 0 && count >= 0 && off % 4 == 0 && (uint64_t)off + 4 * (uint64_t)count <= bytes;
}

static Args args_of(napi_env env, napi_callback_info info) {
  Args a = { env, { 0 }, MAX_ARGS, 0 };
  if (napi_get_cb_info(env, info, &a.argc, a.argv, NULL, NULL) != napi_ok) a.failed = 1;
  return a;
}

static napi_value gemm(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  int64_t batch = whole(&a, 1), m = whole(&a, 2), n = whole(&a, 3), k = whole(&a, 4);
  int ta = num(&a, 5) != 0, tb = num(&a, 6) != 0;
  int64_t offA = whole(&a, 7), strideA = whole(&a, 8), offB = whole(&a, 9), strideB = whole(&a, 10), offC = whole(&a, 11);
  if (a.failed) return fail(env, "gemm: expected (ArrayBuffer, batch, m, n, k, transA, transB, offA, strideA, offB, strideB, offC) as non-negative integers");
  if (batch < 1 || m < 1 || n < 1 || k < 1 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) return fail(env, "gemm: batch, m, n, k must be positive 32-bit sizes");
  if (!inside(offA, strideA * (batch - 1) + m * k, bytes) || !inside(offB, strideB * (batch - 1) + k * n, bytes) ||
      !inside(offC, batch * m * n, bytes)) return fail(env, "gemm: an operand lies outside the wasm heap");
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f,
                base + offA / 4 + i * strideA, ta ? (int)m : (int)k, base + offB / 4 + i * strideB, tb ? (int)k : (int)n,
                0.0f, base + offC / 4 + i * m * n, (int)n);
  }
  return NULL;
}

enum { SOFTPLUS, EXP, LOG, SIGMOID, TANH, SQRT, KINDS };

static float scalar_unary(int kind, float x) {
  switch (kind) {
    case SOFTPLUS: return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
    case EXP: return expf(x);
    case LOG: return logf(x);
    case SIGMOID: return 1.0f / (1.0f + expf(-x));
    case TANH: return tanhf(x);
    default: return sqrtf(x);
  }
}

__attribute__((target("avx2,fma"))) static __m256 vector_unary(int kind, __m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
  switch (kind) {
    case SOFTPLUS: {
      __m256 negAbs = _mm256_or_ps(x, sign);   /* −|x| */
      /* max(x, 0) + log1p(e^−|x|); NaN stays NaN (the max keeps x when either is NaN). */
      __m256 relu = _mm256_max_ps(_mm256_setzero_ps(), x);
      return _mm256_add_ps(relu, _ZGVdN8v_log1pf(_ZGVdN8v_expf(negAbs)));
    }
    case EXP: return _ZGVdN8v_expf(x);
    case LOG: return _ZGVdN8v_logf(x);
    case SIGMOID: return _mm256_div_ps(one, _mm256_add_ps(one, _ZGVdN8v_expf(_mm256_xor_ps(x, sign))));
    case TANH: return _ZGVdN8v_tanhf(x);
    default: return _mm256_sqrt_ps(x);
  }
}

__attribute__((target("avx2,fma"))) static void unary_avx2(int kind, const float *in, float *out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, vector_unary(kind, _mm256_loadu_ps(in + i)));
  if (i < n) {   /* the tail through the same vector code (padded), so every element gets the same function */
    float pad[8] = { 0 };
    memcpy(pad, in + i, (size_t)(n - i) * sizeof(float));
    _mm256_storeu_ps(pad, vector_unary(kind, _mm256_loadu_ps(pad)));
    memcpy(out + i, pad, (size_t)(n - i) * sizeof(float));
  }
}

static napi_value unary(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  int64_t kind = whole(&a, 0);
  size_t bytes = 0;
  float *base = heap(&a, 1, &bytes);
  int64_t offIn = whole(&a, 2), offOut = whole(&a, 3), n = whole(&a, 4);
  if (a.failed || kind >= KINDS) return fail(env, "unary: expected (kind 0–5, ArrayBuffer, offIn, offOut, n)");
  if (!inside(offIn, n, bytes) || !inside(offOut, n, bytes)) return fail(env, "unary: an operand lies outside the wasm heap");
  const float *in = base + offIn / 4;
  float *out = base + offOut / 4;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) unary_avx2((int)kind, in, out, n);
  else for (int64_t i = 0; i < n; i++) out[i] = scalar_unary((int)kind, in[i]);
  return NULL;
}

enum { ACT_LINEAR, ACT_SOFTPLUS, ACT_RELU, ACT_TANH, ACTS };

static float scalar_act(int act, float v) {
  return act == ACT_SOFTPLUS ? scalar_unary(SOFTPLUS, v) : act == ACT_TANH ? tanhf(v) : act == ACT_RELU ? (v > 0.0f || isnan(v) ? v : 0.0f) : v;
}

/* One row of a dense layer after the product: y += b, then the activation, in place (the output is fresh). */
__attribute__((target("avx2,fma"))) static void bias_act_avx2(int act, float *y, const float *b, int64_t n) {
  for (int64_t j = 0; j < n; j += 8) {
    const int64_t w = n - j < 8 ? n - j : 8;
    float py[8] = { 0 }, pb[8] = { 0 };   /* a short tail goes through the same vector code, padded */
    if (w < 8) { memcpy(py, y + j, (size_t)w * sizeof(float)); memcpy(pb, b + j, (size_t)w * sizeof(float)); }
    float *ty = w < 8 ? py : y + j;
    __m256 v = _mm256_add_ps(_mm256_loadu_ps(ty), _mm256_loadu_ps(w < 8 ? pb : b + j));
    if (act == ACT_SOFTPLUS) v = vector_unary(SOFTPLUS, v);
    else if (act == ACT_TANH) v = vector_unary(TANH, v);
    else if (act == ACT_RELU) v = _mm256_max_ps(_mm256_setzero_ps(), v);   /* NaN stays NaN */
    _mm256_storeu_ps(ty, v);
    if (w < 8) memcpy(y + j, py, (size_t)w * sizeof(float));
  }
}

static void bias_act(int act, float *y, const float *b, int64_t n) {
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) bias_act_avx2(act, y, b, n);
  else for (int64_t j = 0; j < n; j++) y[j] = scalar_act(act, y[j] + b[j]);
}

static napi_value dense(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  int64_t m = whole(&a, 1), n = whole(&a, 2), k = whole(&a, 3), act = whole(&a, 4);
  int64_t offX = whole(&a, 5), offW = whole(&a, 6), offB = whole(&a, 7), offY = whole(&a, 8);
  if (a.failed || act >= ACTS) return fail(env, "dense: expected (ArrayBuffer, m, n, k, act 0–3, offX, offW, offB, offY) as non-negative integers");
  if (m < 1 || n < 1 || k < 1 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) return fail(env, "dense: m, n, k must be positive 32-bit sizes");
  if (!inside(offX, m * k, bytes) || !inside(offW, k * n, bytes) || !inside(offB, n, bytes) || !inside(offY, m * n, bytes)) {
    return fail(env, "dense: an operand lies outside the wasm heap");
  }
  float *y = base + offY / 4;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, base + offX / 4, (int)k, base + offW / 4, (int)n, 0.0f, y, (int)n);
  for (int64_t i = 0; i < m; i++) bias_act((int)act, y + i * n, base + offB / 4, n);
  return NULL;
}

/* dpre = dy ⊙ act′(y) for one row. */
__attribute__((target_clones("avx2", "default")))
static void act_grad(int act, const float *restrict dy, const float *restrict y, float *restrict d, int64_t n) {
  if (act == ACT_RELU) for (int64_t j = 0; j < n; j++) d[j] = y[j] > 0.0f ? dy[j] : 0.0f;
  else if (act == ACT_TANH) for (int64_t j = 0; j < n; j++) d[j] = dy[j] * (1.0f - y[j] * y[j]);
  else for (int64_t j = 0; j < n; j++) d[j] = dy[j];
}

__attribute__((target("avx2,fma"))) static void softplus_grad_avx2(const float *dy, const float *y, float *d, int64_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 s = _mm256_xor_ps(_ZGVdN8v_expm1f(_mm256_xor_ps(_mm256_loadu_ps(y + j), sign)), sign);   /* −expm1(−y) = σ(x) */
    _mm256_storeu_ps(d + j, _mm256_mul_ps(_mm256_loadu_ps(dy + j), s));
  }
  for (; j < n; j++) d[j] = dy[j] * -expm1f(-y[j]);
}

/* dpre = dy ⊙ act′(y) into d (m·n floats). */
static void pre_grad(int act, const float *dy, const float *y, float *d, int64_t m, int64_t n) {
  const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  for (int64_t i = 0; i < m; i++) {
    if (act == ACT_SOFTPLUS && avx2) softplus_grad_avx2(dy + i * n, y + i * n, d + i * n, n);
    else if (act == ACT_SOFTPLUS) for (int64_t j = 0; j < n; j++) d[i * n + j] = dy[i * n + j] * -expm1f(-y[i * n + j]);
    else act_grad(act, dy + i * n, y + i * n, d + i * n, n);
  }
}

static napi_value dense_grad(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  int64_t which = whole(&a, 1), m = whole(&a, 2), n = whole(&a, 3), k = whole(&a, 4), act = whole(&a, 5);
  int64_t offDy = whole(&a, 6), offY = whole(&a, 7), offOther = whole(&a, 8), offOut = whole(&a, 9);
  if (a.failed || act >= ACTS || which > 2) return fail(env, "denseGrad: expected (ArrayBuffer, which 0–2, m, n, k, act 0–3, offDy, offY, offOther, offOut)");
  if (m < 1 || n < 1 || k < 1 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) return fail(env, "denseGrad: m, n, k must be positive 32-bit sizes");
  const int64_t other = which == 0 ? k * n : which == 1 ? m * k : 0, out = which == 0 ? m * k : which == 1 ? k * n : n;
  if (!inside(offDy, m * n, bytes) || !inside(offY, m * n, bytes) || !inside(offOther, other, bytes) || !inside(offOut, out, bytes)) {
    return fail(env, "denseGrad: an operand lies outside the wasm heap");
  }
  const float *dy = base + offDy / 4, *o = base + offOther / 4;
  float *res = base + offOut / 4, *scratch = NULL;
  if (act != ACT_LINEAR) {
    if ((scratch = malloc((size_t)(m * n) * sizeof(float))) == NULL) return fail(env, "denseGrad: out of memory");
    pre_grad((int)act, dy, base + offY / 4, scratch, m, n);
  }
  const float *d = scratch != NULL ? scratch : dy;
  if (which == 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)k, (int)n, 1.0f, d, (int)n, o, (int)n, 0.0f, res, (int)k);
  else if (which == 1) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)n, (int)m, 1.0f, o, (int)k, d, (int)n, 0.0f, res, (int)n);
  else {
    memset(res, 0, (size_t)n * sizeof(float));
    for (int64_t i = 0; i < m; i++) for (int64_t j = 0; j < n; j++) res[j] += d[i * n + j];
  }
  free(scratch);
  return NULL;
}

/* Whether some element is NaN or ±∞: its exponent bits all set (an integer OR reduction, which vectorises). */
__attribute__((target_clones("avx2", "default")))
static int any_non_finite(const float *g, int64_t n) {
  const uint32_t *bits = (const uint32_t *)g;
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; i++) bad |= (uint32_t)((bits[i] & 0x7f800000u) == 0x7f800000u);
  return bad != 0;
}

/* The Adam update, in tfjs's order of float32 operations; an AVX2 clone where the CPU has it. */
__attribute__((target_clones("avx2", "default")))
static void adam_loop(int64_t n, const float *restrict x, const float *restrict g, const float *restrict m, const float *restrict v,
                      float *restrict x2, float *restrict m2, float *restrict v2,
                      float b1, float b2, float ob1, float ob2, float eps, float c1, float c2, float neglr) {
  for (int64_t i = 0; i < n; i++) {
    const float mi = m[i] * b1 + g[i] * ob1;
    const float vi = v[i] * b2 + (g[i] * g[i]) * ob2;
    m2[i] = mi;
    v2[i] = vi;
    x2[i] = ((mi / c1) / (sqrtf(vi / c2) + eps)) * neglr + x[i];
  }
}

static napi_value adam(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  int64_t n = whole(&a, 1), off[7];
  for (int j = 0; j < 7; j++) off[j] = whole(&a, 2 + j);
  double b1d = num(&a, 10), b2d = num(&a, 11);
  /* As tfjs: each constant is a double rounded to float32 once, 1 − β included. */
  float b1 = (float)b1d, b2 = (float)b2d, eps = (float)num(&a, 12);
  float ob1 = (float)(1.0 - b1d), ob2 = (float)(1.0 - b2d), neglr = (float)-num(&a, 9);
  float c1 = (float)num(&a, 13), c2 = (float)num(&a, 14);
  if (a.failed) return fail(env, "adam: expected (ArrayBuffer, n, 7 offsets, lr, beta1, beta2, epsilon, 1 − beta1^t, 1 − beta2^t)");
  for (int j = 0; j < 7; j++) if (!inside(off[j], n, bytes)) return fail(env, "adam: an operand lies outside the wasm heap");
  const float *x = base + off[0] / 4, *g = base + off[1] / 4, *m = base + off[2] / 4, *v = base + off[3] / 4;
  float *x2 = base + off[4] / 4, *m2 = base + off[5] / 4, *v2 = base + off[6] / 4;
  const int bad = any_non_finite(g, n);
  adam_loop(n, x, g, m, v, x2, m2, v2, b1, b2, ob1, ob2, eps, c1, c2, neglr);
  napi_value result;
  napi_get_boolean(env, !bad, &result);
  return result;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  int64_t n = whole(&a, 0);
  if (a.failed || n < 1 || n > 256) return fail(env, "setThreads: expected a thread count from 1 to 256");
  openblas_set_num_threads((int)n);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL },
    { "unary", NULL, unary, NULL, NULL, NULL, napi_default, NULL },
    { "adam", NULL, adam, NULL, NULL, NULL, napi_default, NULL },
    { "dense", NULL, dense, NULL, NULL, NULL, napi_default, NULL },
    { "denseGrad", NULL, dense_grad, NULL, NULL, NULL, napi_default, NULL },
    { "setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  openblas_set_num_threads(1);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

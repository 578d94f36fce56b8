/*
 * unary(kind, heap, offIn, offOut, n): softplus, exp, log, sigmoid, tanh, sqrt over n floats
 * (glibc's vector math, AVX2, where the CPU has it; scalar libm otherwise).
 */
#include "common.h"
#include "unary.h"
#include <immintrin.h>
#include <math.h>
#include <string.h>

/* glibc's libmvec, AVX2 variants (8 floats). */
__m256 _ZGVdN8v_expf(__m256);
__m256 _ZGVdN8v_logf(__m256);
__m256 _ZGVdN8v_log1pf(__m256);
__m256 _ZGVdN8v_tanhf(__m256);
__m256 _ZGVdN8v_expm1f(__m256);

static float scalar_unary(int kind, float x) {
  switch (kind) {
    case SOFTPLUS: return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
    case EXP: return expf(x);
    case LOG: return logf(x);
    case SIGMOID: return 1.0f / (1.0f + expf(-x));
    case TANH: return tanhf(x);
    case SIGMOID_OF_SOFTPLUS: return -expm1f(-x);
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
    case SIGMOID_OF_SOFTPLUS: return _mm256_xor_ps(_ZGVdN8v_expm1f(_mm256_xor_ps(x, sign)), sign);   /* −expm1(−y) */
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

void unary_apply(int kind, const float *in, float *out, int64_t n) {
  if (has_avx2()) unary_avx2(kind, in, out, n);
  else for (int64_t i = 0; i < n; i++) out[i] = scalar_unary(kind, in[i]);
}

napi_value unary(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  int64_t kind = whole(&a, 0);
  size_t bytes = 0;
  float *base = heap(&a, 1, &bytes);
  int64_t offIn = whole(&a, 2), offOut = whole(&a, 3), n = whole(&a, 4);
  if (a.failed || kind >= UNARY_KINDS) return fail(env, "unary: expected (kind 0–5, ArrayBuffer, offIn, offOut, n)");
  if (!inside(offIn, n, bytes) || !inside(offOut, n, bytes)) return fail(env, "unary: an operand lies outside the wasm heap");
  unary_apply((int)kind, base + offIn / 4, base + offOut / 4, n);
  return NULL;
}

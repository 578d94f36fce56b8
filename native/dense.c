/*
 * dense(heap, m, n, k, act, offX, offW, offB, offY)
 *   Y = act(X·W + b), X m×k, W k×n, b n (act: 0 linear, 1 softplus, 2 relu, 3 tanh).
 * denseGrad(heap, which, m, n, k, act, offDy, offY, offOther, offOut)
 *   with dpre = dy ⊙ act′ (from Y: softplus′ = −expm1(−y), relu′ = [y > 0], tanh′ = 1 − y²):
 *   which 0: dX = dpre·Wᵀ (other = W), 1: dW = Xᵀ·dpre (other = X), 2: db = Σ_rows dpre,
 *   3: dpre itself (m×n; other unused), so a layer asked for several gradients computes it once.
 */
#include "common.h"
#include "dense.h"
#include "unary.h"
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

/* Rows after the product: y += b on each, then the activation over all of them, in place (the output is fresh). */
void bias_act(int act, float *restrict y, const float *restrict b, int64_t rows, int64_t n) {
  for (int64_t i = 0; i < rows; i++) {
    float *restrict row = y + i * n;
    if (act == ACT_RELU) {   /* one pass: the sum, then the same select as a pass of its own (NaN stays NaN) */
      for (int64_t j = 0; j < n; j++) { const float v = row[j] + b[j]; row[j] = v < 0.0f ? 0.0f : v; }
    } else for (int64_t j = 0; j < n; j++) row[j] += b[j];
  }
  const int64_t count = rows * n;
  if (act == ACT_SOFTPLUS) unary_apply(SOFTPLUS, y, y, count);
  else if (act == ACT_TANH) unary_apply(TANH, y, y, count);
}

napi_value dense(napi_env env, napi_callback_info info) {
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
  bias_act((int)act, y, base + offB / 4, m, n);
  return NULL;
}

/* dpre = dy ⊙ act′(y) into d (count floats). */
static void pre_grad(int act, const float *restrict dy, const float *restrict y, float *restrict d, int64_t count) {
  if (act == ACT_SOFTPLUS) {
    unary_apply(SIGMOID_OF_SOFTPLUS, y, d, count);
    for (int64_t j = 0; j < count; j++) d[j] *= dy[j];
  } else if (act == ACT_RELU) {
    /* dy read unconditionally, so the select vectorises (a conditional load stays a branch: 5 ns a float on random signs) */
    for (int64_t j = 0; j < count; j++) { const float g = dy[j]; d[j] = y[j] > 0.0f ? g : 0.0f; }
  } else for (int64_t j = 0; j < count; j++) d[j] = dy[j] * (1.0f - y[j] * y[j]);
}

/* out = the gradient `which` asks for, from d = dpre (m×n) and the other operand o. */
static void grad_of(int64_t which, int64_t m, int64_t n, int64_t k, const float *d, const float *o, float *out) {
  if (which == 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)k, (int)n, 1.0f, d, (int)n, o, (int)n, 0.0f, out, (int)k);
  else if (which == 1) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)n, (int)m, 1.0f, o, (int)k, d, (int)n, 0.0f, out, (int)n);
  else sum_rows(d, m, n, out);
}

napi_value dense_grad(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  int64_t which = whole(&a, 1), m = whole(&a, 2), n = whole(&a, 3), k = whole(&a, 4), act = whole(&a, 5);
  int64_t offDy = whole(&a, 6), offY = whole(&a, 7), offOther = whole(&a, 8), offOut = whole(&a, 9);
  if (a.failed || act >= ACTS || which > 3) return fail(env, "denseGrad: expected (ArrayBuffer, which 0–3, m, n, k, act 0–3, offDy, offY, offOther, offOut)");
  if (m < 1 || n < 1 || k < 1 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) return fail(env, "denseGrad: m, n, k must be positive 32-bit sizes");
  const int64_t other = which == 0 ? k * n : which == 1 ? m * k : 0, out = which == 0 ? m * k : which == 1 ? k * n : which == 2 ? n : m * n;
  if (!inside(offDy, m * n, bytes) || !inside(offY, m * n, bytes) || !inside(offOther, other, bytes) || !inside(offOut, out, bytes)) {
    return fail(env, "denseGrad: an operand lies outside the wasm heap");
  }
  const float *dy = base + offDy / 4;
  if (which == 3) {
    if (act == ACT_LINEAR) memcpy(base + offOut / 4, dy, (size_t)(m * n) * sizeof(float));
    else pre_grad((int)act, dy, base + offY / 4, base + offOut / 4, m * n);
    return NULL;
  }
  float *scratch = NULL;
  if (act != ACT_LINEAR) {
    if ((scratch = malloc((size_t)(m * n) * sizeof(float))) == NULL) return fail(env, "denseGrad: out of memory");
    pre_grad((int)act, dy, base + offY / 4, scratch, m * n);
  }
  grad_of(which, m, n, k, scratch != NULL ? scratch : dy, base + offOther / 4, base + offOut / 4);
  free(scratch);
  return NULL;
}

/*
 * sumLeading(heap, m, n, offX, offOut): out[j] = Σ_{i<m} x[i·n + j], the sum over the leading dims of
 * a row-major [m, n] float32 array (a bias gradient: NHWC activations summed to their channels).
 * Each column accumulates in float32 from 0 in ascending i, as tfjs-wasm's Sum kernel sums a row
 * after transposing the reduced dims innermost: bit-identical to it, without the transpose.
 */
#include "common.h"
#include <string.h>

napi_value sum_leading(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  const int64_t m = whole(&a, 1), n = whole(&a, 2), offX = whole(&a, 3), offOut = whole(&a, 4);
  if (a.failed || n < 1) return fail(env, "sumLeading: expected (ArrayBuffer, m, n, offX, offOut) as non-negative integers, n ≥ 1");
  if (m > INT64_MAX / n || !inside(offX, m * n, bytes) || !inside(offOut, n, bytes)) return fail(env, "sumLeading: an operand lies outside the wasm heap");
  const float *x = base + offX / 4;
  float *out = base + offOut / 4;
  memset(out, 0, (size_t)n * sizeof(float));
  for (int64_t i = 0; i < m; i++) {
    const float *row = x + i * n;
    for (int64_t j = 0; j < n; j++) out[j] += row[j];
  }
  return NULL;
}

/*
 * sumLeading(heap, m, n, offX, offOut): out[j] = Σ_{i<m} x[i·n + j], the sum over the leading dims of
 * a row-major [m, n] float32 array (a bias gradient: NHWC activations summed to their channels).
 * With n ≥ LANES columns each column accumulates in float32 from 0 in ascending i, as tfjs-wasm's Sum
 * kernel sums a row after transposing the reduced dims innermost: bit-identical to it, without the
 * transpose (the loop over j vectorises). With fewer columns one chain of m dependent adds per column
 * would be latency-bound (a conv VAE's 1-channel bias gradient, m = 100,352: 0.36 ms), so rows are taken
 * in blocks of R = ⌈LANES / n⌉: row i adds into partial (i mod R) of its column, and a column's R partials
 * are added in order at the end. Not bit-identical there; the rounding error bound shrinks from
 * (m − 1)·u·Σ|x| to (⌈m / R⌉ + R − 2)·u·Σ|x| (u = 2⁻²⁴).
 */
#include "common.h"
#include <string.h>

/* Columns below which the rows are summed into R = ⌈LANES / n⌉ partial sums per column. */
#define LANES 32

/* out[j] = Σᵢ x[i·n + j] for n < LANES, by R = ⌈LANES / n⌉ partial sums per column (see above). */
static void sum_narrow(const float *restrict x, int64_t m, int64_t n, float *restrict out) {
  const int64_t r = (LANES + n - 1) / n, block = r * n, blocks = m / r;
  float acc[2 * LANES] = {0};   /* partial (i mod r) of column j at acc[(i mod r)·n + j]; block < 2·LANES */
  for (int64_t b = 0; b < blocks; b++) {
    const float *rows = x + b * block;
    for (int64_t t = 0; t < block; t++) acc[t] += rows[t];
  }
  for (int64_t t = 0; t < (m - blocks * r) * n; t++) acc[t] += x[blocks * block + t];
  for (int64_t j = 0; j < n; j++) {
    float s = 0.0f;
    for (int64_t p = 0; p < r; p++) s += acc[p * n + j];
    out[j] = s;
  }
}

/* out[j] = Σᵢ x[i·n + j] for n ≥ LANES, each column in ascending i (bit-identical to tfjs-wasm's Sum). */
static void sum_wide(const float *restrict x, int64_t m, int64_t n, float *restrict out) {
  memset(out, 0, (size_t)n * sizeof(float));
  for (int64_t i = 0; i < m; i++) {
    const float *restrict row = x + i * n;
    for (int64_t j = 0; j < n; j++) out[j] += row[j];
  }
}

void sum_rows(const float *x, int64_t m, int64_t n, float *out) {
  if (n < LANES) sum_narrow(x, m, n, out);
  else sum_wide(x, m, n, out);
}

napi_value sum_leading(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  const int64_t m = whole(&a, 1), n = whole(&a, 2), offX = whole(&a, 3), offOut = whole(&a, 4);
  if (a.failed || n < 1) return fail(env, "sumLeading: expected (ArrayBuffer, m, n, offX, offOut) as non-negative integers, n ≥ 1");
  if (m > INT64_MAX / n || !inside(offX, m * n, bytes) || !inside(offOut, n, bytes)) return fail(env, "sumLeading: an operand lies outside the wasm heap");
  const float *x = base + offX / 4;
  float *out = base + offOut / 4;
  sum_rows(x, m, n, out);
  return NULL;
}

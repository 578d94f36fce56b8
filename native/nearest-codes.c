/*
 * nearestCodes(heap, n, k, d, offX, offBook, offOut)
 *   out[i] = argmin_c ‖x_i − e_c‖² (int32) for the n rows x_i of X [n, d] and the k codes e_c of the
 *   codebook E [k, d], as the composite of `nearestCodes` (src/backend/nearest-codes.ts) computes it on
 *   wasm, bit for bit: ‖x_i‖² and ‖e_c‖² summed in ascending order in float32, the cross term from one
 *   sgemm of X by Eᵀ (Eᵀ copied first, as the composite's transpose does), dist = (‖x‖² − 2 x·e) + ‖e‖²
 *   rounded at each step, and the first minimum (a NaN distance is never less; all NaN → code 0).
 *   Rows go in blocks of BLOCK, whose distances stay in cache.
 */
#include "common.h"
#include <cblas.h>
#include <stdlib.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#define BLOCK 256

/* zz[i] = Σ_j x[i·d + j]², each in ascending j in float32; ROWS rows at a time (independent chains). */
#define ROWS 8
static void squared_norms(const float *restrict x, int64_t m, int64_t d, float *restrict zz) {
  int64_t i = 0;
  for (; i + ROWS <= m; i += ROWS) {
    float acc[ROWS] = {0};
    for (int64_t j = 0; j < d; j++) for (int r = 0; r < ROWS; r++) { const float v = x[(i + r) * d + j]; acc[r] += v * v; }
    for (int r = 0; r < ROWS; r++) zz[i + r] = acc[r];
  }
  for (; i < m; i++) {
    float s = 0.0f;
    for (int64_t j = 0; j < d; j++) s += x[i * d + j] * x[i * d + j];
    zz[i] = s;
  }
}

/*
 * The first c minimising dist[c] for c < k, as a scan keeping dist[c] < best (strictly) finds it: a NaN is
 * never less, so a NaN at 0 gives 0. By the minimum value first (SSE: minps keeps its second operand
 * unless the first is less, NaN included), then the first c equal to it: no branch per element.
 */
static int32_t first_min(const float *dist, int64_t k) {
  if (dist[0] != dist[0]) return 0;
  int64_t c = 0;
#if defined(__SSE2__)
  __m128 lo = _mm_set1_ps(dist[0]), hi = lo;
  for (; c + 8 <= k; c += 8) { lo = _mm_min_ps(_mm_loadu_ps(dist + c), lo); hi = _mm_min_ps(_mm_loadu_ps(dist + c + 4), hi); }
  float lanes[4];
  _mm_storeu_ps(lanes, _mm_min_ps(lo, hi));
  float best = lanes[0];
  for (int p = 1; p < 4; p++) best = lanes[p] < best ? lanes[p] : best;
#else
  float best = dist[0];
#endif
  for (; c < k; c++) best = dist[c] < best ? dist[c] : best;
  c = 0;
#if defined(__SSE2__)
  const __m128 wanted = _mm_set1_ps(best);
  for (; c + 4 <= k; c += 4) {
    const int equal = _mm_movemask_ps(_mm_cmpeq_ps(_mm_loadu_ps(dist + c), wanted));
    if (equal != 0) return (int32_t)(c + __builtin_ctz((unsigned)equal));
  }
#endif
  for (; c < k; c++) if (dist[c] == best) return (int32_t)c;
  return 0;
}

/* cross[i·k + c] ← (zz[i] − 2·cross[i·k + c]) + ee[c], rounded at each step as the composite's ops round. */
static void to_distances(float *restrict cross, const float *restrict zz, const float *restrict ee, int64_t m, int64_t k) {
  for (int64_t i = 0; i < m; i++) {
    float *restrict row = cross + i * k;
    const float z = zz[i];
    for (int64_t c = 0; c < k; c++) { const float t = z - 2.0f * row[c]; row[c] = t + ee[c]; }
  }
}

/* Codes for rows [r0, r0 + m) of x: cross = X_block · Eᵀ into `cross`, then each row's first minimum. */
static void block_codes(const float *x, const float *et, const float *ee, int64_t r0, int64_t m, int64_t k, int64_t d, float *cross, float *zz, int32_t *out) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)k, (int)d, 1.0f, x + r0 * d, (int)d, et, (int)k, 0.0f, cross, (int)k);
  squared_norms(x + r0 * d, m, d, zz);
  to_distances(cross, zz, ee, m, k);
  for (int64_t i = 0; i < m; i++) out[r0 + i] = first_min(cross + i * k, k);
}

napi_value nearest_codes(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  const int64_t n = whole(&a, 1), k = whole(&a, 2), d = whole(&a, 3), offX = whole(&a, 4), offBook = whole(&a, 5), offOut = whole(&a, 6);
  if (a.failed) return fail(env, "nearestCodes: expected (ArrayBuffer, n, k, d, offX, offBook, offOut) as non-negative integers");
  if (n < 1 || k < 1 || d < 1 || n > INT32_MAX || k > INT32_MAX || d > INT32_MAX) return fail(env, "nearestCodes: n, k, d must be positive 32-bit sizes");
  if (!inside(offX, n * d, bytes) || !inside(offBook, k * d, bytes) || !inside(offOut, n, bytes)) return fail(env, "nearestCodes: an operand lies outside the wasm heap");
  const float *x = base + offX / 4, *book = base + offBook / 4;
  float *et = malloc((size_t)(k * d + k + BLOCK * k + BLOCK) * sizeof(float));
  if (et == NULL) return fail(env, "nearestCodes: out of memory");
  float *ee = et + k * d, *cross = ee + k, *zz = cross + BLOCK * k;
  for (int64_t c = 0; c < k; c++) for (int64_t j = 0; j < d; j++) et[j * k + c] = book[c * d + j];
  squared_norms(book, k, d, ee);
  for (int64_t r0 = 0; r0 < n; r0 += BLOCK) block_codes(x, et, ee, r0, n - r0 < BLOCK ? n - r0 : BLOCK, k, d, cross, zz, (int32_t *)(base + offOut / 4));
  free(et);
  return NULL;
}

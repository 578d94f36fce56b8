/*
 * adam(heap, n, offX, offG, offM, offV, offX2, offM2, offV2, lr, b1, b2, eps, c1, c2)
 *   m' = b1·m + (1−b1)·g, v' = b2·v + (1−b2)·g², x' = x − lr·(m'/c1) / (√(v'/c2) + ε),
 *   into fresh outputs; returns whether every g and every x' was finite.
 */
#include "common.h"
#include <math.h>
#include <string.h>

/* The Adam update, in tfjs's order of float32 operations, and whether some g or some x' was NaN or ±∞
 * (x' overflows when lr or x is huge; in the same pass: the outputs are fresh, so what it writes for a
 * rejected step is simply dropped);
 * an AVX2 clone where the CPU has it. */
__attribute__((target_clones("avx2", "default")))
static int adam_loop(int64_t n, const float *restrict x, const float *restrict g, const float *restrict m, const float *restrict v,
                     float *restrict x2, float *restrict m2, float *restrict v2,
                     float b1, float b2, float ob1, float ob2, float eps, float c1, float c2, float neglr) {
  const uint32_t *bits = (const uint32_t *)g;
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; i++) {
    bad |= (uint32_t)((bits[i] & 0x7f800000u) == 0x7f800000u);
    const float mi = m[i] * b1 + g[i] * ob1;
    const float vi = v[i] * b2 + (g[i] * g[i]) * ob2;
    m2[i] = mi;
    v2[i] = vi;
    const float xi = ((mi / c1) / (sqrtf(vi / c2) + eps)) * neglr + x[i];
    uint32_t xb;
    memcpy(&xb, &xi, sizeof xb);
    bad |= (uint32_t)((xb & 0x7f800000u) == 0x7f800000u);
    x2[i] = xi;
  }
  return bad != 0;
}

napi_value adam(napi_env env, napi_callback_info info) {
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
  const int bad = adam_loop(n, x, g, m, v, x2, m2, v2, b1, b2, ob1, ob2, eps, c1, c2, neglr);
  napi_value result;
  napi_get_boolean(env, !bad, &result);
  return result;
}

/*
 * check(kind, heap, off, n): whether every one of the n floats at off lies in a set —
 * 0 finite, 1 positive (x > 0, finite), 2 boolean (x ∈ {0, 1}), 3 unit interval (0 ≤ x ≤ 1) —
 * in one pass (validation's read-back without a chain of tfjs reductions). NaN is in none.
 */
#include "common.h"

enum { FINITE, POSITIVE, BOOLEAN, UNIT, CHECKS };

/* Whether some of the n floats at g is NaN or ±∞ (exponent bits all set). */
__attribute__((target_clones("avx2", "default")))
static int any_non_finite(const float *g, int64_t n) {
  const uint32_t *bits = (const uint32_t *)g;
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; i++) bad |= (uint32_t)((bits[i] & 0x7f800000u) == 0x7f800000u);
  return bad != 0;
}

/* Whether some element fails the comparison test of `kind` (NaN fails every one); branch-free, so it vectorises. */
__attribute__((target_clones("avx2", "default")))
static int any_outside(int kind, const float *x, int64_t n) {
  uint32_t bad = 0;
  if (kind == POSITIVE) for (int64_t i = 0; i < n; i++) bad |= (uint32_t)!(x[i] > 0.0f);
  else if (kind == BOOLEAN) for (int64_t i = 0; i < n; i++) bad |= (uint32_t)!((x[i] == 0.0f) | (x[i] == 1.0f));
  else for (int64_t i = 0; i < n; i++) bad |= (uint32_t)!((x[i] >= 0.0f) & (x[i] <= 1.0f));
  return bad != 0;
}

napi_value check(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  int64_t kind = whole(&a, 0);
  size_t bytes = 0;
  float *base = heap(&a, 1, &bytes);
  int64_t off = whole(&a, 2), n = whole(&a, 3);
  if (a.failed || kind >= CHECKS) return fail(env, "check: expected (kind 0–3, ArrayBuffer, offset, n)");
  if (!inside(off, n, bytes)) return fail(env, "check: the operand lies outside the wasm heap");
  const float *x = base + off / 4;
  /* +∞ passes x > 0 and −∞ nothing, so positive also needs the finiteness pass. */
  const int ok = kind == FINITE ? !any_non_finite(x, n) : !any_outside((int)kind, x, n) && (kind != POSITIVE || !any_non_finite(x, n));
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

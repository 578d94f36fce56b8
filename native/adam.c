/*
 * adam(heap, n, offX, offG, offM, offV, offX2, offM2, offV2, lr, b1, b2, eps, c1, c2)
 *   m' = b1·m + (1−b1)·g, v' = b2·v + (1−b2)·g², x' = x − lr·(m'/c1) / (√(v'/c2) + ε),
 *   into fresh outputs; returns whether every g and every x' was finite.
 * adamAll(heap, table, lr, b1, b2, eps, c1, c2)
 *   the same update of every variable of a step in one call: `table` is a Float64Array of 8 numbers
 *   per variable, n and the byte offsets of x, g, m, v, x', m', v'; returns whether every g and
 *   every x' of every variable was finite. With setThreads(n ≥ 2) and ≥ 2^16 elements in all, the elements
 *   are shared between n threads (parallel.c): bit-identical to one thread.
 */
#include "common.h"
#include <math.h>
#include <string.h>

/* The update's float32 constants: β₁, β₂, 1 − β₁, 1 − β₂, ε, c₁, c₂, −lr. */
typedef struct { float b1, b2, ob1, ob2, eps, c1, c2, neglr; } AdamConstants;

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

/* Arguments first..first+5 (lr, β₁, β₂, ε, c₁, c₂) as tfjs uses them: each a double rounded to float32 once, 1 − β included. */
static AdamConstants constants_of(Args *a, size_t first) {
  double b1 = num(a, first + 1), b2 = num(a, first + 2);
  AdamConstants c = { (float)b1, (float)b2, (float)(1.0 - b1), (float)(1.0 - b2), (float)num(a, first + 3),
                      (float)num(a, first + 4), (float)num(a, first + 5), (float)-num(a, first) };
  return c;
}

/* One variable's update at byte offsets off[0..6] (x, g, m, v, x', m', v'), after the bounds checks. */
static int adam_at(float *base, int64_t n, const int64_t *off, const AdamConstants *c) {
  return adam_loop(n, base + off[0] / 4, base + off[1] / 4, base + off[2] / 4, base + off[3] / 4,
                   base + off[4] / 4, base + off[5] / 4, base + off[6] / 4,
                   c->b1, c->b2, c->ob1, c->ob2, c->eps, c->c1, c->c2, c->neglr);
}

/* Whether all 7 operands of n floats lie inside the heap. */
static int all_inside(const int64_t *off, int64_t n, size_t bytes) {
  for (int j = 0; j < 7; j++) if (!inside(off[j], n, bytes)) return 0;
  return 1;
}

static napi_value boolean(napi_env env, int value) {
  napi_value result;
  napi_get_boolean(env, value, &result);
  return result;
}

napi_value adam(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  int64_t n = whole(&a, 1), off[7];
  for (int j = 0; j < 7; j++) off[j] = whole(&a, 2 + j);
  const AdamConstants c = constants_of(&a, 9);
  if (a.failed) return fail(env, "adam: expected (ArrayBuffer, n, 7 offsets, lr, beta1, beta2, epsilon, 1 − beta1^t, 1 − beta2^t)");
  if (!all_inside(off, n, bytes)) return fail(env, "adam: an operand lies outside the wasm heap");
  return boolean(env, !adam_at(base, n, off, &c));
}

/* A table row's 7 byte offsets (after its n). */
static void offsets_of(const double *row, int64_t *off) {
  for (int j = 0; j < 7; j++) off[j] = (int64_t)row[1 + j];
}

/* A Float64Array argument: its values and their count (0, and a.failed set, when it is not one). */
static size_t table_of(Args *a, size_t i, const double **values) {
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (i >= a->argc || napi_get_typedarray_info(a->env, a->argv[i], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || (length > 0 && data == NULL)) {
    a->failed = 1;
    return 0;
  }
  *values = (const double *)data;
  return length;
}

/* Elements from which adamAll splits the update between setThreads' threads (≈ 0.1 ms of updates). */
#define SPLIT_FLOATS (1 << 16)

/* One adamAll call: its table, and each share's "some g or x' was not finite". */
typedef struct { float *base; const double *table; size_t length; const AdamConstants *c; int64_t total; int shares, bad[MAX_SHARES]; } Update;

/* Share s of an adamAll call: elements [total·s/shares, total·(s+1)/shares) of the variables laid end to end
   (each element's update is independent of the others: bit-identical however the elements are shared). */
static void update_share(void *arg, int s) {
  Update *u = arg;
  const int64_t lo = u->total * s / u->shares, hi = u->total * (s + 1) / u->shares;
  int64_t at = 0;
  for (size_t k = 0; k < u->length && at < hi; k += 8) {
    const int64_t n = (int64_t)u->table[k], from = lo > at ? lo - at : 0, to = hi - at < n ? hi - at : n;
    if (to > from) {
      int64_t off[7];
      offsets_of(u->table + k, off);
      for (int j = 0; j < 7; j++) off[j] += 4 * from;
      u->bad[s] |= adam_at(u->base, to - from, off, u->c);
    }
    at += n;
  }
}

napi_value adam_all(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  const double *table = NULL;
  const size_t length = table_of(&a, 1, &table);
  const AdamConstants c = constants_of(&a, 2);
  if (a.failed || length % 8 != 0) return fail(env, "adamAll: expected (ArrayBuffer, Float64Array of 8 numbers per variable: n and 7 offsets, lr, beta1, beta2, epsilon, 1 − beta1^t, 1 − beta2^t)");
  /* Every operand is checked before anything is written. */
  for (size_t k = 0; k < length; k++) {
    const double t = table[k];
    if (t != floor(t) || t < 0 || t > 9007199254740991.0) return fail(env, "adamAll: the table holds a number that is not a size or an offset");
  }
  for (size_t k = 0; k < length; k += 8) {
    int64_t off[7];
    offsets_of(table + k, off);
    if (!all_inside(off, (int64_t)table[k], bytes)) return fail(env, "adamAll: an operand lies outside the wasm heap");
  }
  int64_t total = 0;
  for (size_t k = 0; k < length; k += 8) total += (int64_t)table[k];
  const int shares = total < SPLIT_FLOATS ? 1 : shares_for(total);
  Update u = { base, table, length, &c, total, shares, { 0 } };
  if (shares == 1) update_share(&u, 0);
  else run_shares(shares, update_share, &u);
  int bad = 0;
  for (int s = 0; s < shares; s++) bad |= u.bad[s];
  return boolean(env, !bad);
}

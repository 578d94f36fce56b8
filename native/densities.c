/*
 * The VAE's two log densities and their gradients, elementwise over n floats, each in one pass
 * (the composite tfjs ops launch 4–7 kernels each way). Same float32 operations, in the same
 * order, as the composite: x·l − softplus(l); −½w² − (log σ + ½ log 2π) with w = (x − μ)/σ.
 *
 * bernoulliLogProb(heap, n, offX, offL, offOut, inner)          out = x·l − softplus(l)
 * bernoulliLogProbGrad(heap, n, offDy, offX, offL, offOut, inner) out = dy·(x − σ(l))   (∂/∂l)
 * normalLogProb(heap, n, offX, offLoc, locAll, offScale, scaleAll, offOut, inner)
 * normalLogProbGrad(heap, which, n, offDy, offX, offLoc, locAll, offScale, scaleAll, offOut, inner)
 *   which 0: ∂/∂x = −(dy·w)/σ, 1: ∂/∂μ = (dy·w)/σ, 2: ∂/∂σ = (dy·(w² − 1))/σ, elementwise
 *   (the caller sums a broadcast parameter's gradient). locAll/scaleAll: 1 when the parameter
 *   has n elements, 0 when it is one value broadcast to all.
 * pointMassLogProb(heap, n, offX, offV, offOut, inner)         out = 0 where x = v on the whole group, −∞ elsewhere
 * inner ≥ 1 divides n. Above 1 the forward kernels sum every `inner` consecutive values (the
 * rightmost dims of an event, as `toEvent` does), writing n / inner sums by the sequential float32
 * loop of tfjs's Sum kernel, and the gradients read one dy per group: bit-identical to the
 * composite density followed by `tf.sum` over those dims, and to its gradient.
 */
#include "common.h"
#include "unary.h"
#include <math.h>
#include <stdlib.h>

#define HALF_LOG_2PI 0.91893853320467274178

/* The arguments every density kernel starts with: the heap and n. */
typedef struct { float *base; size_t bytes; int64_t n; } Heap;

static Heap heap_n(Args *a, size_t at) {
  Heap h = { NULL, 0, 0 };
  h.base = heap(a, at, &h.bytes);
  h.n = whole(a, at + 1);
  return h;
}

/* Values per chunk when a group's elementwise terms go through a stack buffer before they are summed. */
#define CHUNK 512

/* Whether `inner` is a group size for n: at least 1, dividing n. */
static int groups_ok(int64_t n, int64_t inner) { return inner >= 1 && n % inner == 0; }

napi_value bernoulli_log_prob(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  Heap h = heap_n(&a, 0);
  int64_t offX = whole(&a, 2), offL = whole(&a, 3), offOut = whole(&a, 4), inner = whole(&a, 5);
  if (a.failed || !groups_ok(h.n, inner)) return fail(env, "bernoulliLogProb: expected (ArrayBuffer, n, offX, offL, offOut, inner) as non-negative integers, inner ≥ 1 dividing n");
  if (!inside(offX, h.n, h.bytes) || !inside(offL, h.n, h.bytes) || !inside(offOut, h.n / inner, h.bytes)) return fail(env, "bernoulliLogProb: an operand lies outside the wasm heap");
  const float *x = h.base + offX / 4, *l = h.base + offL / 4;
  float *out = h.base + offOut / 4;
  if (inner == 1) {
    unary_apply(SOFTPLUS, l, out, h.n);
    for (int64_t i = 0; i < h.n; i++) out[i] = x[i] * l[i] - out[i];
    return NULL;
  }
  float sp[CHUNK];
  for (int64_t g = 0; g < h.n / inner; g++) {
    float sum = 0.0f;
    for (int64_t at = g * inner, end = at + inner; at < end; at += CHUNK) {
      const int64_t len = end - at < CHUNK ? end - at : CHUNK;
      unary_apply(SOFTPLUS, l + at, sp, len);
      for (int64_t j = 0; j < len; j++) sum += x[at + j] * l[at + j] - sp[j];
    }
    out[g] = sum;
  }
  return NULL;
}

napi_value bernoulli_log_prob_grad(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  Heap h = heap_n(&a, 0);
  int64_t offDy = whole(&a, 2), offX = whole(&a, 3), offL = whole(&a, 4), offOut = whole(&a, 5), inner = whole(&a, 6);
  if (a.failed || !groups_ok(h.n, inner)) return fail(env, "bernoulliLogProbGrad: expected (ArrayBuffer, n, offDy, offX, offL, offOut, inner) as non-negative integers, inner ≥ 1 dividing n");
  if (!inside(offDy, h.n / inner, h.bytes) || !inside(offX, h.n, h.bytes) || !inside(offL, h.n, h.bytes) || !inside(offOut, h.n, h.bytes)) {
    return fail(env, "bernoulliLogProbGrad: an operand lies outside the wasm heap");
  }
  const float *dy = h.base + offDy / 4, *x = h.base + offX / 4, *l = h.base + offL / 4;
  float *out = h.base + offOut / 4;
  unary_apply(SIGMOID, l, out, h.n);
  for (int64_t g = 0; g < h.n / inner; g++) {
    const float d = dy[g];
    for (int64_t i = g * inner, end = i + inner; i < end; i++) out[i] = d * (x[i] - out[i]);
  }
  return NULL;
}

/* The Normal kernels' shared operands: x, μ and σ with their strides (1: n values, 0: one value). */
typedef struct { const float *x, *loc, *scale; int64_t locStride, scaleStride; } NormalArgs;

static int normal_args(Args *a, Heap h, size_t at, NormalArgs *p) {
  int64_t offX = whole(a, at), offLoc = whole(a, at + 1), locAll = whole(a, at + 2), offScale = whole(a, at + 3), scaleAll = whole(a, at + 4);
  if (a->failed || locAll > 1 || scaleAll > 1) return 0;
  if (!inside(offX, h.n, h.bytes) || !inside(offLoc, locAll ? h.n : 1, h.bytes) || !inside(offScale, scaleAll ? h.n : 1, h.bytes)) return -1;
  *p = (NormalArgs){ h.base + offX / 4, h.base + offLoc / 4, h.base + offScale / 4, locAll, scaleAll };
  return 1;
}

napi_value normal_log_prob(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  Heap h = heap_n(&a, 0);
  NormalArgs p;
  int ok = normal_args(&a, h, 2, &p);
  int64_t offOut = whole(&a, 7), inner = whole(&a, 8);
  if (ok == 0 || a.failed || !groups_ok(h.n, inner)) return fail(env, "normalLogProb: expected (ArrayBuffer, n, offX, offLoc, locAll 0|1, offScale, scaleAll 0|1, offOut, inner ≥ 1 dividing n)");
  if (ok < 0 || !inside(offOut, h.n / inner, h.bytes)) return fail(env, "normalLogProb: an operand lies outside the wasm heap");
  float *out = h.base + offOut / 4;
  if (h.n == 0) return NULL;   /* nothing to write (not even the one log σ below) */
  const float half = (float)HALF_LOG_2PI;
  if (inner == 1) {
    /* log σ first, into out (one value when σ is broadcast), by the same vector log as the Log kernel. */
    unary_apply(LOG, p.scale, out, p.scaleStride ? h.n : 1);
    const float logOne = out[0];
    for (int64_t i = 0; i < h.n; i++) {
      const float w = (p.x[i] - p.loc[i * p.locStride]) / p.scale[i * p.scaleStride];
      const float logScale = p.scaleStride ? out[i] : logOne;
      out[i] = (-0.5f * (w * w)) - (logScale + half);
    }
    return NULL;
  }
  float logScale[CHUNK];
  if (!p.scaleStride) unary_apply(LOG, p.scale, logScale, 1);
  const float logOne = logScale[0];
  for (int64_t g = 0; g < h.n / inner; g++) {
    float sum = 0.0f;
    for (int64_t at = g * inner, end = at + inner; at < end; at += CHUNK) {
      const int64_t len = end - at < CHUNK ? end - at : CHUNK;
      if (p.scaleStride) unary_apply(LOG, p.scale + at, logScale, len);
      for (int64_t j = 0, i = at; j < len; j++, i++) {
        const float w = (p.x[i] - p.loc[i * p.locStride]) / p.scale[i * p.scaleStride];
        sum += (-0.5f * (w * w)) - ((p.scaleStride ? logScale[j] : logOne) + half);
      }
    }
    out[g] = sum;
  }
  return NULL;
}

napi_value normal_log_prob_grad(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  int64_t which = whole(&a, 0);
  Heap h = heap_n(&a, 1);
  int64_t offDy = whole(&a, 3);
  NormalArgs p;
  int ok = normal_args(&a, h, 4, &p);
  int64_t offOut = whole(&a, 9), inner = whole(&a, 10);
  if (ok == 0 || a.failed || which > 2 || !groups_ok(h.n, inner)) return fail(env, "normalLogProbGrad: expected (which 0–2, ArrayBuffer, n, offDy, offX, offLoc, locAll, offScale, scaleAll, offOut, inner ≥ 1 dividing n)");
  if (ok < 0 || !inside(offDy, h.n / inner, h.bytes) || !inside(offOut, h.n, h.bytes)) return fail(env, "normalLogProbGrad: an operand lies outside the wasm heap");
  const float *dy = h.base + offDy / 4;
  float *out = h.base + offOut / 4;
  for (int64_t g = 0; g < h.n / inner; g++) {
    const float d = dy[g];
    for (int64_t i = g * inner, end = i + inner; i < end; i++) {
      const float s = p.scale[i * p.scaleStride], w = (p.x[i] - p.loc[i * p.locStride]) / s;
      out[i] = which == 2 ? (d * (w * w - 1.0f)) / s : which == 1 ? (d * w) / s : -((d * w) / s);
    }
  }
  return NULL;
}

/*
 * pointMassLogProb(heap, n, offX, offV, offOut, inner): the Delta log density without its log-density
 * term, out[g] = 0 where x[i] == v[i] for every i of group g (the `inner` consecutive values of one
 * event), −∞ elsewhere: IEEE equality, so ±0 are equal, ±∞ equal themselves and NaN equals nothing —
 * Pyro's `x == v`, as the composite of `pointMassLogDensity` (src/backend/log-densities.ts) computes it (tf.equal, tf.all).
 */
napi_value point_mass_log_prob(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  Heap h = heap_n(&a, 0);
  int64_t offX = whole(&a, 2), offV = whole(&a, 3), offOut = whole(&a, 4), inner = whole(&a, 5);
  if (a.failed || !groups_ok(h.n, inner)) return fail(env, "pointMassLogProb: expected (ArrayBuffer, n, offX, offV, offOut, inner) as non-negative integers, inner ≥ 1 dividing n");
  if (!inside(offX, h.n, h.bytes) || !inside(offV, h.n, h.bytes) || !inside(offOut, h.n / inner, h.bytes)) return fail(env, "pointMassLogProb: an operand lies outside the wasm heap");
  const float *x = h.base + offX / 4, *v = h.base + offV / 4;
  float *out = h.base + offOut / 4;
  for (int64_t g = 0; g < h.n / inner; g++) {
    int differ = 0;
    for (int64_t i = g * inner, end = i + inner; i < end; i++) differ |= !(x[i] == v[i]);
    out[g] = differ ? -INFINITY : 0.0f;
  }
  return NULL;
}

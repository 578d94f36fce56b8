/*
 * The Gamma sampler and its implicit-reparameterisation gradient, one pass each over n floats
 * (the composite tfjs path launches ≈ 800 element-wise kernels per draw-and-gradient).
 *
 * gammaLogSample(heap, n, offAlpha, offOut, seed)
 *   out = log X, X ~ Gamma(α, 1): Marsaglia & Tsang (2000) per element, in doubles, with the words
 *   of one xoshiro128** generator seeded as src/backend/random.ts seeds it (splitmix32 over a
 *   scrambled seed); normals by the polar method. α < 1 is boosted: log X(α + 1) + log U / α, so
 *   tiny α stays finite in log space. α = 0 gives −∞, α NaN or negative gives NaN.
 * gammaLogGrad(heap, n, offAlpha, offLogZ, offDy, hasDy, offOut, quadrature)
 *   out = dy · d log z / dα for z ~ Gamma(α, 1) (dy = 1 when hasDy is 0), the implicit gradient
 *   −(∂F/∂α) / (z p(z; α)), by the branches of src/backend/gamma-sampler.ts in doubles: Temme's
 *   uniform expansion for α ≥ 20; below, Gauss–Laguerre quadrature of the upper tail for
 *   z ≥ max(α, 2.5) and the series in z (closed by Temme at α + 10) otherwise. `quadrature` is a
 *   Float64Array of the nodes, then the weights (12 each); on AVX2 CPUs the tail's twelve terms
 *   are float lanes of glibc's vector log1p and exp.
 */
#include "common.h"
#include <immintrin.h>
#include <math.h>

#define SHIFT 10
#define ASYMPTOTIC_FROM 20.0
#define SERIES_BELOW 2.5
#define NODES 12

/* ---- the generator: xoshiro128** (Blackman & Vigna), seeded by splitmix32 ---- */

typedef struct { uint32_t s[4]; double spare; int has_spare; } Rng;

static uint32_t fmix32(uint32_t h) {
  h = (h ^ (h >> 16)) * 0x85ebca6bu;
  h = (h ^ (h >> 13)) * 0xc2b2ae35u;
  return h ^ (h >> 16);
}

static Rng rng_of(uint32_t seed) {
  Rng r = { { 0 }, 0.0, 0 };
  uint32_t s = fmix32(seed ^ 0x5bd1e995u);
  for (int i = 0; i < 4; i++) r.s[i] = fmix32(s += 0x9e3779b9u);
  if ((r.s[0] | r.s[1] | r.s[2] | r.s[3]) == 0) r.s[0] = 1;
  return r;
}

static uint32_t next_word(Rng *r) {
  uint32_t *s = r->s;
  const uint32_t b5 = s[1] * 5u, out = ((b5 << 7) | (b5 >> 25)) * 9u, t = s[1] << 9;
  s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t;
  s[3] = (s[3] << 11) | (s[3] >> 21);
  return out;
}

/* U(0, 1], 32 bits. */
static double uniform(Rng *r) { return ((double)next_word(r) + 1.0) * 0x1p-32; }

/* N(0, 1) by Marsaglia's polar method, two per accepted pair. */
static double normal(Rng *r) {
  if (r->has_spare) { r->has_spare = 0; return r->spare; }
  double x, y, s;
  do {
    x = next_word(r) * 0x1p-31 - 1.0;
    y = next_word(r) * 0x1p-31 - 1.0;
    s = x * x + y * y;
  } while (s >= 1.0 || s == 0.0);
  const double f = sqrt(-2.0 * log(s) / s);
  r->spare = y * f;
  r->has_spare = 1;
  return x * f;
}

/* log of one Gamma(a, 1) draw, a ≥ 1: propose d·(1 + c·x)³, accept by the squeeze, else by the log test. */
static double log_gamma_at_least_one(double a, Rng *r) {
  const double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d), log_d = log(d);
  for (;;) {
    const double x = normal(r), t = 1.0 + c * x;
    if (t <= 0.0) continue;
    const double v = t * t * t, u = uniform(r), x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return log_d + 3.0 * log(t);
    const double log_v = 3.0 * log(t);
    if (log(u) < 0.5 * x2 + d * (1.0 - v + log_v)) return log_d + log_v;
  }
}

static float log_gamma_draw(double a, Rng *r) {
  if (!(a > 0.0)) return a == 0.0 ? -INFINITY : NAN;
  if (a >= 1.0) return (float)log_gamma_at_least_one(a, r);
  const double core = log_gamma_at_least_one(a + 1.0, r);
  return (float)(core + log(uniform(r)) / a);
}

napi_value gamma_log_sample(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  const int64_t n = whole(&a, 1), offAlpha = whole(&a, 2), offOut = whole(&a, 3), seed = whole(&a, 4);
  if (a.failed || seed > 0xffffffffLL) return fail(env, "gammaLogSample: expected (ArrayBuffer, n, offAlpha, offOut, seed) as non-negative integers, seed below 2^32");
  if (!inside(offAlpha, n, bytes) || !inside(offOut, n, bytes)) return fail(env, "gammaLogSample: an operand lies outside the wasm heap");
  const float *alpha = base + offAlpha / 4;
  float *out = base + offOut / 4;
  Rng r = rng_of((uint32_t)seed);
  for (int64_t i = 0; i < n; i++) out[i] = log_gamma_draw(alpha[i], &r);
  return NULL;
}

/* ---- the gradient d log z / dα ---- */

/* ψ(x), x > 0: the recurrence up to 6, then the asymptotic series (≈ 1e-11 there). */
static double digamma(double x) {
  double shift = 0.0;
  for (; x < 6.0; x += 1.0) shift -= 1.0 / x;
  const double f = 1.0 / (x * x);
  return shift + log(x) - 0.5 / x - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
}

/* Stirling's correction log Γ(x) − [(x − ½) log x − x + ½ log 2π], x ≥ 10. */
static double stirling(double x) {
  const double r = 1.0 / x, f = r * r;
  return r * (1.0 / 12 - f * (1.0 / 360 - f * (1.0 / 1260 - f * (1.0 / 1680 - f * (1.0 / 1188)))));
}

static double horner(const double *c, int n, double x) {
  double acc = c[n - 1];
  for (int i = n - 2; i >= 0; i--) acc = acc * x + c[i];
  return acc;
}

/* ℓ/(eˡ − 1) and T₁ as Taylor polynomials for |ℓ| < ½ (Bernoulli numbers). */
static const double T0_NEAR[9] = { 1, -1.0 / 2, 1.0 / 12, 0, -1.0 / 720, 0, 1.0 / 30240, 0, -1.0 / 1209600 };
static const double T1_NEAR[9] = { 1.0 / 12, -1.0 / 24, 1.0 / 720, 1.0 / 360, -23.0 / 60480, -1.0 / 10080, 37.0 / 1814400, 1.0 / 302400, -139.0 / 159667200 };

/* Temme: e^(corr α) (T₀ + T₁/α) / α with ℓ = log(z/α), μ = eˡ − 1, T₀ = ℓ/μ, T₁ = eˡ(μ − ℓ)/μ³ − (ℓ/12 + ½)/μ. */
static double temme(double a, double log_z) {
  const double l = fmin(log_z - log(a), 80.0);
  double t0, t1;
  if (fabs(l) < 0.5) {
    t0 = horner(T0_NEAR, 9, l);
    t1 = horner(T1_NEAR, 9, l);
  } else {
    const double mu = expm1(l), inv = 1.0 / mu;
    t0 = l * inv;
    t1 = (1.0 + mu) * (mu - l) * inv * inv * inv - (l / 12 + 0.5) * inv;
  }
  const double s = stirling(a);   /* ≤ 1/120 for α ≥ 10: e^s to 1e-12 by five terms */
  return (1.0 + s * (1.0 + s * (0.5 + s * (1.0 / 6 + s * (1.0 / 24))))) * (t0 + t1 / a) / a;
}

/*
 * −Σ_{j=1}^{K} vⱼ (log z − ψ(α + j)) + v_K z h(α + K), vⱼ = z^(j−1)/(α(α+1)…(α+j−1)), with
 * ψ(α + j) = ψ(α + K) − Σ_{i=j}^{K−1} 1/(α + i): one reciprocal per term serves both recurrences.
 */
static double series(double a, double log_z, double z) {
  double r[SHIFT];
  for (int j = 0; j < SHIFT; j++) r[j] = 1.0 / (a + j);
  double psi = digamma(a + SHIFT), v = r[0], sum = 0.0;
  for (int j = SHIFT - 1; j >= 1; j--) psi -= r[j];   /* ψ(α + 1) */
  for (int j = 1; j <= SHIFT; j++) {
    sum -= v * (log_z - psi);
    if (j < SHIFT) { v *= z * r[j]; psi += r[j]; }
  }
  return sum + v * z * temme(a + SHIFT, log_z);
}

/* (1/z) Σᵢ wᵢ (1 + yᵢ/z)^(α−1) (log z − ψ(α) + log(1 + yᵢ/z)): the upper tail by quadrature. */
static double upper_tail(double a, double log_z, double z, const double *q) {
  const double base = log_z - digamma(a);
  double sum = 0.0;
  for (int i = 0; i < NODES; i++) {
    const double lp = log1p(q[i] / z);
    sum += q[NODES + i] * exp((a - 1.0) * lp) * (base + lp);
  }
  return sum / z;
}

/* The quadrature as two AVX2 vectors of nodes and of weights (the last four lanes weigh 0). */
typedef struct { float nodes[16]; float weights[16]; } Lanes;

static Lanes lanes_of(const double *q) {
  Lanes l = { { 0 }, { 0 } };
  for (int i = 0; i < NODES; i++) { l.nodes[i] = (float)q[i]; l.weights[i] = (float)q[NODES + i]; }
  return l;
}

/*
 * upper_tail with the twelve nodes as float lanes (glibc's vector log1p and exp): every term is
 * positive here (z ≥ α makes log z − ψ(α) > 0), so float32 terms keep ≈ 1e-7 relative in the sum.
 */
__m256 _ZGVdN8v_expf(__m256);
__m256 _ZGVdN8v_log1pf(__m256);
__attribute__((target("avx2,fma"))) static double upper_tail_avx2(double a, double log_z, double z, const Lanes *q) {
  const __m256 inv_z = _mm256_set1_ps((float)(1.0 / z)), am1 = _mm256_set1_ps((float)(a - 1.0));
  const __m256 base = _mm256_set1_ps((float)(log_z - digamma(a)));
  __m256 acc = _mm256_setzero_ps();
  for (int h = 0; h < 16; h += 8) {
    const __m256 lp = _ZGVdN8v_log1pf(_mm256_mul_ps(_mm256_loadu_ps(q->nodes + h), inv_z));
    const __m256 term = _mm256_mul_ps(_ZGVdN8v_expf(_mm256_mul_ps(am1, lp)), _mm256_add_ps(base, lp));
    acc = _mm256_fmadd_ps(_mm256_loadu_ps(q->weights + h), term, acc);
  }
  float parts[8];
  _mm256_storeu_ps(parts, acc);
  double sum = 0.0;
  for (int i = 0; i < 8; i++) sum += parts[i];
  return sum / z;
}

static double log_gamma_gradient(double a, double log_z, const double *q, const Lanes *lanes, int avx2) {
  if (a >= ASYMPTOTIC_FROM) return temme(a, log_z);
  const double z = exp(log_z);
  if (z < fmax(a, SERIES_BELOW)) return series(a, log_z, z);
  return avx2 ? upper_tail_avx2(a, log_z, z, lanes) : upper_tail(a, log_z, z, q);
}

/* The quadrature argument: a Float64Array of 2·NODES values. */
static const double *quadrature_of(Args *a, size_t i) {
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  bool is_typed = false;
  if (i >= a->argc || napi_is_typedarray(a->env, a->argv[i], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(a->env, a->argv[i], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length != 2 * NODES) {
    a->failed = 1;
    return NULL;
  }
  return (const double *)data;
}

napi_value gamma_log_grad(napi_env env, napi_callback_info info) {
  Args a = args_of(env, info);
  size_t bytes = 0;
  float *base = heap(&a, 0, &bytes);
  const int64_t n = whole(&a, 1), offAlpha = whole(&a, 2), offLogZ = whole(&a, 3), offDy = whole(&a, 4), hasDy = whole(&a, 5), offOut = whole(&a, 6);
  const double *q = quadrature_of(&a, 7);
  if (a.failed) return fail(env, "gammaLogGrad: expected (ArrayBuffer, n, offAlpha, offLogZ, offDy, hasDy, offOut) as non-negative integers and a Float64Array of 24 quadrature values");
  if (!inside(offAlpha, n, bytes) || !inside(offLogZ, n, bytes) || !inside(offOut, n, bytes) || (hasDy && !inside(offDy, n, bytes)))
    return fail(env, "gammaLogGrad: an operand lies outside the wasm heap");
  const float *alpha = base + offAlpha / 4, *log_z = base + offLogZ / 4, *dy = base + offDy / 4;
  float *out = base + offOut / 4;
  const Lanes lanes = lanes_of(q);
  const int avx2 = has_avx2();
  for (int64_t i = 0; i < n; i++) {
    const double g = log_gamma_gradient(alpha[i], log_z[i], q, &lanes, avx2);
    out[i] = (float)(hasDy ? dy[i] * g : g);
  }
  return NULL;
}

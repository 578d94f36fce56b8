/**
 * Special functions as differentiable tfjs ops, on every backend: log Γ, the polygamma
 * functions ψ⁽ⁿ⁾ (digamma n = 0, trigamma n = 1, …) and log B. Each is one custom-gradient op
 * whose gradient is the next function of the family (d/dx log Γ = ψ, d/dx ψ⁽ⁿ⁾ = ψ⁽ⁿ⁺¹⁾), an
 * exact function evaluated as accurately as the value, never autodiff through a series.
 *
 * One evaluation scheme serves every order d of derivative of log Γ (d = 0 is log Γ itself):
 *  - x ≥ 6: Stirling's series (the Bernoulli asymptotic series) and its derivatives;
 *  - 0 ≤ x < 6: x = m + v with m = round(x), |v| ≤ ½, the Taylor series of log Γ(2 + v) =
 *    (1 − γ)v + Σ_{k≥2} (−1)ᵏ (ζ(k) − 1) vᵏ / k (and its derivatives), moved to x by the
 *    recurrence log Γ(x + 1) = log Γ(x) + log x. Near the zeros of log Γ (x = 1, 2) and of ψ
 *    (x ≈ 1.4616) the value is then a short polynomial in v, so the absolute error stays
 *    ≈ 1e-7 where a shifted Stirling series would lose it to cancellation;
 *  - x < 0: the reflection formula Γ(x) Γ(1 − x) = π / sin πx (orders d ≤ 3; NaN beyond).
 * Constants are plain numbers, computed once in doubles; no module-level tensors.
 */
import * as tf from '@tensorflow/tfjs-core'
import { InvalidArgumentError } from '../errors.js'
import { log1p } from './numerics.js'
import { customGradSaved } from './gradient.js'
import { scoped } from './scope.js'
import './gradients.js' // registers tfjs's gradients, plus zero gradients for comparisons

/** Above this, Stirling's series; below, the Taylor series at 2 plus the recurrence. */
const ASYMPTOTIC_FROM = 6
/** Bernoulli numbers B₂, B₄, …, B₁₄. */
const BERNOULLI = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6]
const EULER_GAMMA = 0.5772156649015329
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI)
/** The highest order n of `polygamma(n, x)`. */
export const MAX_POLYGAMMA_ORDER = 8

/** n! in doubles. */
const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1))

/** ζ(k) − 1 = Σ_{n≥2} n⁻ᵏ (k ≥ 2): the terms below N = 20, then Euler–Maclaurin for the tail. */
const zetaMinusOne = (k: number): number => {
  const N = 20
  let s = 0
  for (let n = 2; n < N; n++) s += n ** -k
  return s + N ** (1 - k) / (k - 1) + 0.5 * N ** -k + (k / 12) * N ** (-k - 1) - (k * (k + 1) * (k + 2) / 720) * N ** (-k - 3)
}

/** Taylor coefficients of log Γ(2 + v) = Σ_{k≥1} c_k vᵏ, k = 1 … 40. */
const TAYLOR = Array.from({ length: 40 }, (_, i) => {
  const k = i + 1
  return k === 1 ? 1 - EULER_GAMMA : ((k % 2 === 0 ? 1 : -1) * zetaMinusOne(k)) / k
})

/** Coefficients of the d-th derivative of log Γ(2 + v) in powers of v: c_(j+d) (j + d)!/j!, enough terms for |v| ≤ ½ in float32. */
const taylorOfDerivative = (d: number): number[] =>
  Array.from({ length: 16 + 2 * d }, (_, j) => (j + d === 0 ? 0 : (TAYLOR[j + d - 1]! * factorial(j + d)) / factorial(j)))

/** Σ cⱼ xʲ by Horner's rule, on tensors. */
const horner = (coeffs: readonly number[], x: tf.Tensor): tf.Tensor =>
  coeffs.slice(0, -1).reduceRight<tf.Tensor>((acc, c) => tf.add(tf.mul(acc, x), c), tf.fill(x.shape, coeffs[coeffs.length - 1]!))

/** The d-th derivative of log y: log y for d = 0, else (−1)^(d−1) (d − 1)! / yᵈ. */
const logDerivative = (d: number, y: tf.Tensor): tf.Tensor =>
  d === 0 ? tf.log(y) : tf.mul((d % 2 === 1 ? 1 : -1) * factorial(d - 1), tf.pow(y, -d))

/**
 * Stirling's correction log Γ(x) − [(x − ½) log x − x + ½ log 2π] = Σ_k B₂ₖ / (2k(2k − 1) x^(2k−1)),
 * for x ≥ 6 (≈ 1e-12 relative there).
 *
 * @example logGammaCorrection(tf.scalar(10))   // 0.00833056
 */
export const logGammaCorrection = scoped('logGammaCorrection', (x: tf.Tensor): tf.Tensor => {
  const r = tf.reciprocal(x)
  return tf.mul(r, horner(BERNOULLI.map((b, i) => b / ((2 * i + 2) * (2 * i + 1))).flatMap((c) => [c, 0]).slice(0, -1), r))
})

/** The d-th derivative of log Γ at x ≥ 6 by Stirling's series. */
const asymptotic = (d: number, x: tf.Tensor): tf.Tensor => {
  if (d === 0) return tf.add(tf.mul(tf.sub(x, 0.5), tf.sub(tf.log(x), 1)), tf.add(logGammaCorrection(x), HALF_LOG_2PI - 0.5))
  const n = d - 1   // ψ⁽ⁿ⁾(x) ~ (−1)ⁿ⁺¹ [(n − 1)!/xⁿ + n!/(2xⁿ⁺¹) + Σ_k B₂ₖ (2k + n − 1)!/((2k)! x^(2k+n))], log x − 1/(2x) − … for n = 0
  const r = tf.reciprocal(x)
  const series = BERNOULLI.map((b, i) => (b * factorial(2 * i + 2 + n - 1)) / factorial(2 * i + 2)).flatMap((c) => [c, 0])
  const tail = tf.mul(tf.pow(r, n + 2), horner(series.slice(0, -1), r))   // Σ_k c_k r^(2k+n) = r^(n+2) Σ c_k r^(2k−2)
  if (n === 0) return tf.sub(tf.sub(tf.log(x), tf.mul(0.5, r)), tail)
  const lead = tf.add(tf.mul(factorial(n - 1), tf.pow(r, n)), tf.mul(0.5 * factorial(n), tf.pow(r, n + 1)))
  return tf.mul(n % 2 === 1 ? 1 : -1, tf.add(lead, tail))
}

/** The d-th derivative of log Γ at 0 ≤ x < 6 (clamped into that range by the caller): Taylor series at 2, then the recurrence. */
const central = (d: number, x: tf.Tensor): tf.Tensor => {
  const m = tf.round(x)   // 0 … 6
  const v = tf.sub(x, m)
  const base = horner(taylorOfDerivative(d), v)
  // log Γ(m + v) = log Γ(2 + v) + Σ_{j=2}^{m−1} log(v + j) − [m ≤ 1] log x − [m = 0] log(x + 1)
  const up = Array.from({ length: ASYMPTOTIC_FROM - 2 }, (_, i) => [tf.greater(m, i + 2), tf.add(v, i + 2)] as const)
  const down = [[tf.lessEqual(m, 1), x], [tf.equal(m, 0), tf.add(x, 1)]] as const
  if (d === 0) {
    const product = (fs: ReadonlyArray<readonly [tf.Tensor, tf.Tensor]>) =>
      fs.map(([on, f]) => tf.where(on, f, tf.onesLike(f))).reduce((a, b) => tf.mul(a, b))
    return tf.add(base, tf.log(tf.div(product(up), product(down))))
  }
  const sum = (fs: ReadonlyArray<readonly [tf.Tensor, tf.Tensor]>) =>
    fs.map(([on, f]) => tf.where(on, logDerivative(d, tf.where(on, f, tf.onesLike(f))), tf.zerosLike(f))).reduce((a, b) => tf.add(a, b))
  return tf.add(base, tf.sub(sum(up), sum(down)))
}

/** The reflection term R_d(x) of log Γ⁽ᵈ⁾(x) = R_d(x) + (−1)^(d+1) log Γ⁽ᵈ⁾(1 − x), from Γ(x) Γ(1 − x) = π / sin πx. */
const reflection = (d: number, x: tf.Tensor): tf.Tensor => {
  const s = tf.sin(tf.mul(Math.PI, x))
  const c = tf.cos(tf.mul(Math.PI, x))
  switch (d) {
    case 0: return tf.sub(Math.log(Math.PI), tf.log(tf.abs(s)))
    case 1: return tf.mul(-Math.PI, tf.div(c, s))
    case 2: return tf.div(Math.PI ** 2, tf.square(s))
    case 3: return tf.mul(-2 * Math.PI ** 3, tf.div(c, tf.pow(s, 3)))
    default: return tf.fill(x.shape, NaN)
  }
}

/** The d-th derivative of log Γ, elementwise, for every real x (no gradient of its own). */
const logGammaDerivative = (d: number, x: tf.Tensor): tf.Tensor => {
  const negative = tf.less(x, 0)
  const y = tf.where(negative, tf.sub(1, x), x)   // ≥ 0
  const big = tf.greaterEqual(y, ASYMPTOTIC_FROM)
  const positive = tf.where(big,
    asymptotic(d, tf.maximum(y, ASYMPTOTIC_FROM)),
    central(d, tf.minimum(y, ASYMPTOTIC_FROM)))
  const reflected = tf.add(reflection(d, x), tf.mul(d % 2 === 0 ? -1 : 1, positive))
  return tf.where(negative, reflected, positive)
}

/** One custom-gradient op per order d, built on first use: value log Γ⁽ᵈ⁾, gradient dy · log Γ⁽ᵈ⁺¹⁾. */
const ops: Array<(x: tf.Tensor) => tf.Tensor> = []
const derivativeOp = (d: number): ((x: tf.Tensor) => tf.Tensor) => {
  ops[d] ??= customGradSaved<[tf.Tensor]>((x, save) => {
    save([x])
    return { value: tf.tidy(() => logGammaDerivative(d, x)), gradFunc: (dy, [saved]) => tf.mul(dy, derivativeOp(d + 1)(saved!)) }
  })
  return ops[d]!
}

const asFloat = (x: tf.Tensor): tf.Tensor => (x.dtype === 'float32' ? x : tf.cast(x, 'float32'))

/**
 * log |Γ(x)|, elementwise; its gradient is {@link digamma}. +∞ at 0 and at the negative integers
 * (in float32, sin πx at a negative integer is not exactly 0: large finite values there).
 * Accurate to ≈ 1e-6 relative on [1e-3, 1e4] (absolute ≈ 1e-7 near its zeros at 1 and 2).
 *
 * @example
 * lgamma(tf.tensor1d([0.5, 1, 10]))   // [log √π, 0, log 9!] = [0.5724, 0, 12.8018]
 */
export const lgamma = (x: tf.Tensor): tf.Tensor => derivativeOp(0)(asFloat(x))

/**
 * ψ(x) = d/dx log Γ(x), elementwise; its gradient is {@link trigamma}. −∞ at 0.
 *
 * @example
 * digamma(tf.scalar(1))   // −γ = −0.5772
 */
export const digamma = (x: tf.Tensor): tf.Tensor => derivativeOp(1)(asFloat(x))

/**
 * ψ′(x) = d²/dx² log Γ(x), elementwise; its gradient is `polygamma(2, x)`.
 *
 * @example
 * trigamma(tf.scalar(1))   // π²/6 = 1.6449
 */
export const trigamma = (x: tf.Tensor): tf.Tensor => derivativeOp(2)(asFloat(x))

/**
 * ψ⁽ⁿ⁾(x) = dⁿ⁺¹/dxⁿ⁺¹ log Γ(x) for an integer 0 ≤ n ≤ 8 (n = 0 is the digamma function);
 * its gradient is ψ⁽ⁿ⁺¹⁾. Negative x (by reflection) only for n ≤ 2.
 *
 * @example
 * polygamma(2, tf.scalar(1))   // −2ζ(3) = −2.4041
 */
export const polygamma = (n: number, x: tf.Tensor): tf.Tensor => {
  if (!Number.isInteger(n) || n < 0 || n > MAX_POLYGAMMA_ORDER) {
    throw new InvalidArgumentError(`polygamma: order n must be an integer in [0, ${MAX_POLYGAMMA_ORDER}]; got ${n}`)
  }
  return derivativeOp(n + 1)(asFloat(x))
}

/** Sums `g` over the dims along which `shape` was broadcast to g's shape. */
const unbroadcast = (g: tf.Tensor, shape: readonly number[]): tf.Tensor => {
  const axes = tf.backend_util.getReductionAxes([...shape], g.shape)
  return tf.reshape(axes.length > 0 ? tf.sum(g, axes) : g, [...shape])
}

/** S(x) + S(y) − S(x + y) with S(t) = (t − ½) log t − t (½ log 2π added by the caller), x ≤ y: no large terms cancel. */
const stirlingDifference = (x: tf.Tensor, y: tf.Tensor, s: tf.Tensor): tf.Tensor =>
  tf.add(tf.mul(tf.sub(x, 0.5), tf.log(tf.div(x, s))), tf.sub(tf.mul(y, log1p(tf.neg(tf.div(x, s)))), tf.mul(0.5, tf.log(y))))

/** log B(a, b) for a, b > 0 (no gradient of its own): the three cases of which arguments are ≥ 6. */
const logBeta = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
  const x = tf.minimum(a, b), y = tf.maximum(a, b), s = tf.add(a, b)
  const corr = (t: tf.Tensor) => logGammaCorrection(tf.maximum(t, ASYMPTOTIC_FROM))
  const lg = (t: tf.Tensor) => logGammaDerivative(0, t)
  // both large: Stirling's series for all three, the leading terms combined without cancellation
  const bothLarge = tf.add(tf.add(tf.sub(tf.add(corr(x), corr(y)), corr(s)), stirlingDifference(x, y, s)), HALF_LOG_2PI)
  // only y large: log Γ(x) + [log Γ(y) − log Γ(x + y)] with the bracket in closed form
  const bracket = tf.add(tf.sub(corr(y), corr(s)), tf.sub(tf.mul(tf.sub(y, 0.5), log1p(tf.neg(tf.div(x, s)))), tf.mul(x, tf.sub(tf.log(s), 1))))
  const oneLarge = tf.add(lg(x), bracket)
  const small = tf.sub(tf.add(lg(a), lg(b)), lg(s))
  return tf.where(tf.greaterEqual(x, ASYMPTOTIC_FROM), bothLarge, tf.where(tf.greaterEqual(y, ASYMPTOTIC_FROM), oneLarge, small))
}

const lbetaOp = customGradSaved<[tf.Tensor, tf.Tensor]>((a, b, save) => {
  save([a, b])
  return {
    value: tf.tidy(() => tf.broadcastTo(logBeta(a, b), tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape))),
    gradFunc: (dy, [sa, sb]) => {
      const psiSum = digamma(tf.add(sa!, sb!))
      return [unbroadcast(tf.mul(dy, tf.sub(digamma(sa!), psiSum)), sa!.shape), unbroadcast(tf.mul(dy, tf.sub(digamma(sb!), psiSum)), sb!.shape)]
    },
  }
})

/**
 * log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b) for a, b > 0, with broadcasting; gradients
 * ψ(a) − ψ(a + b) and ψ(b) − ψ(a + b). Large arguments use Stirling's series with the leading
 * terms combined analytically, so log B(1e4, 1e-3) keeps its digits (no difference of two
 * log Γ(1e4) ≈ 8e4 values).
 *
 * @example
 * lbeta(tf.scalar(2), tf.scalar(3))   // log(1/12) = −2.4849
 */
export const lbeta = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => lbetaOp(asFloat(a), asFloat(b))

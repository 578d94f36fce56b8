/**
 * The Exponential distribution on (0, ∞).
 *
 * log p(x) = log rate − rate · x
 */
import * as tf from '@tensorflow/tfjs-core'
import { log1p } from '../backend/numerics.js'
import { scoped } from '../backend/scope.js'
import { lgamma } from '../backend/special.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import type { Gamma } from './gamma.js'
import { makeDistribution } from './make.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

/** Exponential(rate): reparameterised (inverse CDF), support (0, ∞). */
export interface Exponential extends Distribution<tf.Tensor, true> {
  readonly _tag: 'Exponential'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  readonly rate: tf.Tensor
  readonly toEvent: (n: number) => Independent<Exponential>
  readonly expand: (batchShape: readonly number[]) => Exponential
}

/** Uniforms below this are raised to it, so −log1p(−u) > 0 and draws stay inside (0, ∞). */
const U_MIN = 2 ** -40

/**
 * Standard exponential draws E = −log(1 − u), u ~ U[0, 1) (u ≥ 2⁻⁴⁰, so E > 0): shape `shape`.
 *
 * @example standardExponential([3], 0)   // three Exp(1) draws
 */
export const standardExponential = (shape: readonly number[], seed: number | undefined): tf.Tensor =>
  tf.neg(log1p(tf.neg(tf.maximum(tf.randomUniform([...shape], 0, 1, 'float32', seed), U_MIN))))

/**
 * Exponential(rate), log p(x) = log rate − rate · x for x > 0.
 * Mean 1/rate, variance 1/rate², entropy 1 − log rate.
 * `rsample` is E / rate with E = −log(1 − u), u ~ U(0, 1) (inverse CDF), so ∂x/∂rate = −x/rate.
 *
 * @example
 * const d = exponential(tf.tensor1d([0.5, 2]))
 * d.logProb(d.sample([10], 0))   // shape [10, 2]
 */
export const exponential = (rate: TensorLike): Exponential => {
  const [{ rate: $rate }, batchShape] = convertParams('exponential', { rate }, (p) => {
    const shape = broadcastShapes('exponential', [['rate', p.rate.shape]])
    checkParam('exponential', 'rate', p.rate, constraints.positive)
    return shape
  })
  return makeDistribution<Exponential>({
    tag: 'Exponential', name: 'exponential', fields: { rate: $rate },
    batchShape, eventShape: [], reparameterized: true, support: constraints.nonNegative,
    draw: (s, seed) => tf.div(standardExponential([...s, ...batchShape], seed), $rate),
    logProb: (x) => tf.sub(tf.log($rate), tf.mul($rate, x)),
    mean: () => tf.reciprocal($rate),
    variance: () => tf.reciprocal(tf.square($rate)),
    entropy: () => tf.sub(1, tf.log($rate)),
    expand: (b) => exponential(tf.broadcastTo($rate, [...b])),
  })
}

/**
 * KL(p ‖ q) for two Exponentials with rates a (of p) and b (of q):
 * KL = log(a/b) + b/a − 1; shape = broadcast of the batch shapes.
 *
 * @example klExponentialExponential(exponential(1), exponential(2))   // log ½ + 1
 */
export const klExponentialExponential = scoped('klExponentialExponential', (p: Exponential, q: Exponential): tf.Tensor => {
  broadcastShapes('klExponentialExponential', [['p', p.batchShape], ['q', q.batchShape]])
  return ratioGap(p.rate, q.rate)
})

/** The Euler–Mascheroni constant γ = −ψ(1). */
const EULER_GAMMA = 0.5772156649015329

/**
 * KL(p ‖ q) for p = Exponential(λ) = Gamma(1, λ) and q = Gamma(α, β):
 * KL = (α − 1)γ + log Γ(α) + α log(λ/β) + β/λ − 1 (γ = −ψ(1)); shape = broadcast of the batch shapes.
 *
 * @example klExponentialGamma(exponential(2), gamma(1, 2))   // 0
 */
export const klExponentialGamma = scoped('klExponentialGamma', (p: Exponential, q: Gamma): tf.Tensor => {
  broadcastShapes('klExponentialGamma', [['p', p.batchShape], ['q', q.batchShape]])
  const a = q.concentration
  const logRatio = tf.mul(a, tf.sub(tf.log(p.rate), tf.log(q.rate)))
  return tf.add(tf.add(tf.mul(tf.sub(a, 1), EULER_GAMMA), lgamma(a)), tf.add(logRatio, tf.sub(tf.div(q.rate, p.rate), 1)))
})

/** Below this |b/a − 1|, the series is used (the closed form cancels in float32). */
const SERIES = 0.1

/**
 * r − 1 − log r for r = b/a (a, b > 0), to float32 relative accuracy also near r = 1:
 * Σ_{n≥2} (−d)ⁿ/n over d = (b − a)/a (eight terms) for |d| < 0.1, the closed form in r elsewhere.
 *
 * @example ratioGap(tf.scalar(1), tf.scalar(1.0001))   // ≈ 5e-9
 */
const ratioGap = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
  const d = tf.div(tf.sub(b, a), a)
  const small = tf.less(tf.abs(d), SERIES)
  const ds = tf.neg(tf.where(small, d, tf.zerosLike(d)))
  const series = [9, 8, 7, 6, 5, 4, 3, 2].reduce<tf.Tensor>((acc, n) => tf.mul(ds, tf.add(1 / n, acc)), tf.zerosLike(ds))
  const r = tf.div(b, a)
  return tf.where(small, tf.mul(ds, series), tf.sub(tf.sub(r, 1), tf.log(r)))
}

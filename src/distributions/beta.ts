/**
 * The Beta distribution on the unit interval.
 *
 * log p(x) = (a − 1) log x + (b − 1) log(1 − x) − log B(a, b)
 */
import * as tf from '@tensorflow/tfjs-core'
import { scoped } from '../backend/scope.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'
import { FLOAT32_TINY, logGammaSample } from '../backend/gamma-sampler.js'
import { log1p } from '../backend/numerics.js'
import { subSeed } from '../backend/seed.js'
import { digamma, lbeta } from '../backend/special.js'

/** The largest float32 below 1: Beta draws are clamped into [FLOAT32_TINY, this]. */
const BELOW_ONE = 1 - 2 ** -24

/** Beta(concentration1, concentration0): reparameterised (through two Gammas), support [0, 1]. */
export interface Beta extends Distribution<tf.Tensor, true> {
  readonly _tag: 'Beta'
  /** a/(a + b). */
  readonly mean: tf.Tensor
  /** ab/((a + b)²(a + b + 1)). */
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  /** a, the exponent of x (the pseudo-count of successes). */
  readonly concentration1: tf.Tensor
  /** b, the exponent of 1 − x (the pseudo-count of failures). */
  readonly concentration0: tf.Tensor
  readonly toEvent: (n: number) => Independent<Beta>
  readonly expand: (batchShape: readonly number[]) => Beta
}

/**
 * Beta(concentration1 a, concentration0 b), log p(x) = (a − 1) log x + (b − 1) log(1 − x) − log B(a, b).
 * Mean a/(a + b), variance ab/((a + b)²(a + b + 1)), entropy log B(a, b) − (a − 1)ψ(a) − (b − 1)ψ(b)
 * + (a + b − 2)ψ(a + b). `rsample` is G₁/(G₁ + G₀) = σ(log G₁ − log G₀) for G₁ ~ Gamma(a, 1),
 * G₀ ~ Gamma(b, 1), from log-Gamma draws so that tiny concentrations keep draws inside (0, 1)
 * (clamped to [1.2e-38, 1 − 2⁻²⁴]); gradients reach a and b by implicit reparameterisation.
 *
 * @example
 * const d = beta(tf.tensor1d([0.5, 2]), 3)
 * d.logProb(d.sample([10], 0))   // shape [10, 2]
 */
export const beta = (concentration1: TensorLike, concentration0: TensorLike): Beta => {
  const [{ concentration1: $a, concentration0: $b }, batchShape] = convertParams('beta', { concentration1, concentration0 }, (p) => {
    const shape = broadcastShapes('beta', [['concentration1', p.concentration1.shape], ['concentration0', p.concentration0.shape]])
    checkParam('beta', 'concentration1', p.concentration1, constraints.positive)
    checkParam('beta', 'concentration0', p.concentration0, constraints.positive)
    return shape
  })
  const full = (x: tf.Tensor) => tf.broadcastTo(x, batchShape)
  const total = () => tf.add($a, $b)
  return makeDistribution<Beta>({
    tag: 'Beta', name: 'beta', fields: { concentration1: $a, concentration0: $b },
    batchShape, eventShape: [], reparameterized: true, support: constraints.unitInterval,
    draw: (s, seed) => {
      const shape = [...s, ...batchShape]
      const logRatio = tf.sub(logGammaSample($a, shape, subSeed(seed, 0)), logGammaSample($b, shape, subSeed(seed, 1)))
      return tf.clipByValue(tf.sigmoid(logRatio), FLOAT32_TINY, BELOW_ONE)
    },
    logProb: (x) => tf.sub(tf.add(tf.mul(tf.sub($a, 1), tf.log(x)), tf.mul(tf.sub($b, 1), log1p(tf.neg(x)))), lbeta($a, $b)),
    mean: () => full(tf.div($a, total())),
    variance: () => full(tf.div(tf.mul($a, $b), tf.mul(tf.square(total()), tf.add(total(), 1)))),
    entropy: () => full(tf.add(tf.sub(lbeta($a, $b), tf.add(tf.mul(tf.sub($a, 1), digamma($a)), tf.mul(tf.sub($b, 1), digamma($b)))),
      tf.mul(tf.sub(total(), 2), digamma(total())))),
    expand: (b) => beta(tf.broadcastTo($a, [...b]), tf.broadcastTo($b, [...b])),
  })
}

/**
 * KL(p ‖ q) for two Betas: log B(a_q, b_q) − log B(a_p, b_p) + (a_p − a_q)ψ(a_p) + (b_p − b_q)ψ(b_p)
 * + (a_q − a_p + b_q − b_p)ψ(a_p + b_p). Exactly 0 for equal parameters.
 *
 * @example klBetaBeta(beta(1, 1), beta(2, 3))
 */
export const klBetaBeta = scoped('klBetaBeta', (p: Beta, q: Beta): tf.Tensor => {
  const [ap, bp, aq, bq] = [p.concentration1, p.concentration0, q.concentration1, q.concentration0]
  const tp = tf.add(ap, bp), tq = tf.add(aq, bq)
  const t1 = tf.sub(lbeta(aq, bq), lbeta(ap, bp))
  const t2 = tf.add(tf.mul(tf.sub(ap, aq), digamma(ap)), tf.mul(tf.sub(bp, bq), digamma(bp)))
  return tf.add(t1, tf.add(t2, tf.mul(tf.sub(tq, tp), digamma(tp))))
})

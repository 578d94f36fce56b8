/**
 * The HalfCauchy distribution: |X| for X ~ Cauchy(0, scale); the usual prior on a scale
 * (eight schools' τ).
 *
 * log p(x) = log 2 − log π − log scale − log(1 + (x/scale)²), x > 0
 */
import * as tf from '@tensorflow/tfjs-core'
import { FLOAT32_EPS, log1p } from '../backend/numerics.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

/** HalfCauchy(scale): reparameterised (inverse CDF), support (0, ∞); infinite mean and variance. */
export interface HalfCauchy extends Distribution<tf.Tensor, true> {
  readonly _tag: 'HalfCauchy'
  /** +∞, as in Pyro. */
  readonly mean: tf.Tensor
  /** +∞, as in Pyro. */
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  readonly scale: tf.Tensor
  readonly toEvent: (n: number) => Independent<HalfCauchy>
  readonly expand: (batchShape: readonly number[]) => HalfCauchy
}

/**
 * HalfCauchy(scale), log p(x) = log(2/π) − log scale − log(1 + (x/scale)²) for x > 0.
 * Entropy log(2π scale); mean and variance are +∞, as in Pyro.
 * `rsample` is scale · tan(πu/2), u ~ U(0, 1) kept within ε of the ends (inverse CDF; draws are
 * finite and positive).
 *
 * @example
 * const tau = halfCauchy(5)
 * tau.logProb(tau.sample([10], 0))   // shape [10]
 */
export const halfCauchy = (scale: TensorLike): HalfCauchy => {
  const [{ scale: $scale }, batchShape] = convertParams('halfCauchy', { scale }, (p) => {
    const shape = broadcastShapes('halfCauchy', [['scale', p.scale.shape]])
    checkParam('halfCauchy', 'scale', p.scale, constraints.positive)
    return shape
  })
  return makeDistribution<HalfCauchy>({
    tag: 'HalfCauchy', name: 'halfCauchy', fields: { scale: $scale },
    batchShape, eventShape: [], reparameterized: true, support: constraints.nonNegative,
    draw: (s, seed) => {
      const u = tf.clipByValue(tf.randomUniform([...s, ...batchShape], 0, 1, 'float32', seed), FLOAT32_EPS, 1 - FLOAT32_EPS)
      return tf.mul($scale, tf.tan(tf.mul(Math.PI / 2, u)))
    },
    logProb: (x) => tf.neg(tf.add(tf.log(tf.mul(Math.PI / 2, $scale)), log1p(tf.square(tf.div(x, $scale))))),
    mean: () => tf.fill(batchShape, Infinity),
    variance: () => tf.fill(batchShape, Infinity),
    entropy: () => tf.log(tf.mul(2 * Math.PI, $scale)),
    expand: (b) => halfCauchy(tf.broadcastTo($scale, [...b])),
  })
}

/**
 * The BetaBinomial distribution: Binomial(n, p) with p ~ Beta(concentration1, concentration0),
 * over {0, …, totalCount}; overdispersed counts of successes.
 *
 * log p(k) = log C(n, k) + log B(k + α, n − k + β) − log B(α, β)
 */
import * as tf from '@tensorflow/tfjs-core'
import { logGammaSample } from '../backend/gamma-sampler.js'
import { lbeta } from '../backend/special.js'
import { binomialLogPmf, sampleBinomial } from './binomial.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { emptyDraw, seedStream } from './poisson.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam, isValidating } from './validation.js'

/** BetaBinomial(α, β, n) over {0, …, n}: not reparameterised; draws are float32 counts. */
export interface BetaBinomial extends Distribution<tf.Tensor, false> {
  readonly _tag: 'BetaBinomial'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  /** α > 0, the Beta's concentration of successes. */
  readonly concentration1: tf.Tensor
  /** β > 0, the Beta's concentration of failures. */
  readonly concentration0: tf.Tensor
  /** n, the number of trials (a non-negative integer per batch element). */
  readonly totalCount: tf.Tensor
  readonly toEvent: (n: number) => Independent<BetaBinomial>
  readonly expand: (batchShape: readonly number[]) => BetaBinomial
}

/**
 * BetaBinomial(α, β, n) over {0, …, n}: log p(k) = log C(n, k) + log B(k + α, n − k + β) − log B(α, β),
 * with log C(n, k) in Loader's form and log B by `lbeta`.
 * Mean nα/(α + β), variance nαβ(α + β + n)/((α + β)²(α + β + 1)); no closed-form entropy.
 * Draws: p = G₁/(G₁ + G₀) from two batched Gamma draws (in log space, so p and 1 − p keep their
 * digits), then the binomial sampler (inversion or BTRS).
 *
 * @example
 * const d = betaBinomial(2, 3, tf.tensor1d([10, 50]))
 * d.logProb(d.sample([5], 0))   // shape [5, 2]
 */
export const betaBinomial = (concentration1: TensorLike, concentration0: TensorLike, totalCount: TensorLike): BetaBinomial => {
  const [{ concentration1: a, concentration0: b, totalCount: n }, batchShape] = convertParams('betaBinomial',
    { concentration1, concentration0, totalCount }, (p) => {
      const shape = broadcastShapes('betaBinomial', [
        ['concentration1', p.concentration1.shape], ['concentration0', p.concentration0.shape], ['totalCount', p.totalCount.shape]])
      checkParam('betaBinomial', 'concentration1', p.concentration1, constraints.positive)
      checkParam('betaBinomial', 'concentration0', p.concentration0, constraints.positive)
      checkParam('betaBinomial', 'totalCount', p.totalCount, constraints.nonNegativeInteger)
      return shape
    })
  const total = (): tf.Tensor => tf.add(a, b)
  return makeDistribution<BetaBinomial>({
    tag: 'BetaBinomial', name: 'betaBinomial', fields: { concentration1: a, concentration0: b, totalCount: n },
    batchShape, eventShape: [], reparameterized: false, support: constraints.integerRange(0, n),
    draw: (s, seed) => {
      const full = [...s, ...batchShape]
      const empty = emptyDraw(full)
      if (empty !== undefined) return empty
      const seeds = seedStream(seed)
      const diff = tf.sub(logGammaSample(a, full, seeds()), logGammaSample(b, full, seeds()))   // logit of p
      return sampleBinomial(tf.broadcastTo(n, full), tf.sigmoid(tf.neg(tf.abs(diff))), tf.greater(diff, 0), seeds)
    },
    logProb: (x) => {
      const y = tf.sub(n, x)
      // log C(n, k) = log Binomial(k; n, ½) + n log 2; validated values and counts are integers (no lgamma).
      const logChoose = tf.add(binomialLogPmf(x, y, tf.zerosLike(x), isValidating()), tf.mul(n, Math.LN2))
      return tf.add(logChoose, tf.sub(lbeta(tf.add(x, a), tf.add(y, b)), lbeta(a, b)))
    },
    mean: () => tf.broadcastTo(tf.div(tf.mul(n, a), total()), batchShape),
    variance: () => {
      const s = total()
      const num = tf.mul(tf.mul(n, tf.mul(a, b)), tf.add(s, n))
      return tf.broadcastTo(tf.div(num, tf.mul(tf.square(s), tf.add(s, 1))), batchShape)
    },
    expand: (bs) => betaBinomial(tf.broadcastTo(a, [...bs]), tf.broadcastTo(b, [...bs]), tf.broadcastTo(n, [...bs])),
  })
}

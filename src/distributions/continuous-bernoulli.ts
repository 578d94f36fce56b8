/**
 * The ContinuousBernoulli distribution of Loaiza-Ganem & Cunningham 2019 on [0, 1]:
 * the Bernoulli likelihood λ^x (1 − λ)^(1−x), normalised over x ∈ [0, 1].
 *
 * log p(x) = log C(l) + x l − softplus(l),  C(l) = l / tanh(l/2)  (C(0) = 2)
 */
import * as tf from '@tensorflow/tfjs-core'
import { broadcastTo, clampProbs, log1p, softplus } from '../backend/numerics.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import type { LogitsOrProbs } from './bernoulli.js'
import { binaryParams } from './relaxed-bernoulli.js'

/** Below this |logit| the closed forms cancel badly in float32, so their Taylor series are used. */
const SMALL = 0.25
/** The inverse CDF is accurate down to tiny |l|; its series only covers l ≈ 0 (error O(l³) < 1e-8). */
const SMALL_ICDF = 1e-2

/** ContinuousBernoulli(logits): reparameterised (inverse CDF), support [0, 1]. */
export interface ContinuousBernoulli extends Distribution<tf.Tensor, true> {
  readonly _tag: 'ContinuousBernoulli'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  readonly logits: tf.Tensor
  readonly probs: tf.Tensor
  readonly toEvent: (n: number) => Independent<ContinuousBernoulli>
  readonly expand: (batchShape: readonly number[]) => ContinuousBernoulli
}

/**
 * `tf.where(|l| < SMALL, taylor(l), exact(l))`, each branch fed an argument safe
 * for it (the exact branch never sees 0, the series never sees a large l), so
 * neither branch produces NaN values or NaN gradients.
 */
const branch = (l: tf.Tensor, taylor: (x: tf.Tensor) => tf.Tensor, exact: (x: tf.Tensor) => tf.Tensor): tf.Tensor => {
  const small = tf.less(tf.abs(l), SMALL)
  const lSmall = tf.where(small, l, tf.zerosLike(l))
  const lBig = tf.where(small, tf.onesLike(l), l)
  return tf.where(small, taylor(lSmall), exact(lBig))
}

/** Horner evaluation of c0 + c1 x + c2 x² + … */
const poly = (x: tf.Tensor, coefs: readonly number[]): tf.Tensor =>
  coefs.slice(0, -1).reduceRight<tf.Tensor>((acc, c) => tf.add(tf.mul(acc, x), c), tf.fill(x.shape, coefs[coefs.length - 1]!))

/** log C(l) = log(l / tanh(l/2)); series log 2 + l²/12 − 7l⁴/1440 + 31l⁶/90720. */
const logNormalizer = (l: tf.Tensor): tf.Tensor => branch(l,
  (x) => poly(tf.square(x), [Math.LN2, 1 / 12, -7 / 1440, 31 / 90720]),
  (x) => tf.sub(tf.log(tf.abs(x)), tf.log(tf.abs(tf.tanh(tf.div(x, 2))))))

/** E[X] = ½ + ½ coth(l/2) − 1/l; series ½ + l/12 − l³/720 + l⁵/30240. */
const meanOf = (l: tf.Tensor): tf.Tensor => branch(l,
  (x) => tf.add(0.5, tf.mul(x, poly(tf.square(x), [1 / 12, -1 / 720, 1 / 30240]))),
  (x) => tf.sub(tf.mul(0.5, tf.add(1, tf.reciprocal(tf.tanh(tf.div(x, 2))))), tf.reciprocal(x)))

/** Var[X] = 1/l² − 1/(4 sinh²(l/2)) = 1/l² − e^−|l| / expm1(−|l|)²; series 1/12 − l²/240 + l⁴/6048 − l⁶/172800. */
const varianceOf = (l: tf.Tensor): tf.Tensor => branch(l,
  (x) => poly(tf.square(x), [1 / 12, -1 / 240, 1 / 6048, -1 / 172800]),
  (x) => {
    const a = tf.neg(tf.abs(x))
    return tf.sub(tf.reciprocal(tf.square(x)), tf.div(tf.exp(a), tf.square(tf.expm1(a))))
  })


/**
 * log(q + p e^−a) for p + q = 1 (both given exactly), a > 0: as log1p(p · expm1(−a))
 * while that argument is > −½, else as written (no cancellation either way).
 */
const logMix = (p: tf.Tensor, q: tf.Tensor, a: tf.Tensor): tf.Tensor => {
  const z = tf.mul(p, tf.expm1(tf.neg(a)))
  return tf.where(tf.greater(z, -0.5), log1p(z), tf.log(tf.add(q, tf.mul(p, tf.exp(tf.neg(a))))))
}

/**
 * F⁻¹(u) = log1p(u · expm1(l)) / l = log((1 − u) + u e^l) / l. For l > 0 it uses the
 * mirror identity F⁻¹_l(u) = 1 − F⁻¹_{−l}(1 − u), so only e^−|l| is ever formed and
 * nothing overflows. Series u + l u(1−u)/2 + l² u(1−u)(1−2u)/6 for |l| < SMALL_ICDF.
 */
const inverseCdf = (l: tf.Tensor, u: tf.Tensor): tf.Tensor => {
  const small = tf.less(tf.abs(l), SMALL_ICDF)
  const lSmall = tf.where(small, l, tf.zerosLike(l))
  const a = tf.where(small, tf.onesLike(l), tf.abs(l))
  const v = tf.sub(1, u)
  const taylor = tf.add(u, tf.mul(tf.mul(lSmall, tf.mul(u, v)), tf.add(0.5, tf.mul(lSmall, tf.div(tf.sub(v, u), 6)))))
  const negative = tf.div(logMix(u, v, a), tf.neg(a))
  const positive = tf.add(1, tf.div(logMix(v, u, a), a))
  return tf.clipByValue(tf.where(small, taylor, tf.where(tf.less(l, 0), negative, positive)), 0, 1)
}

/**
 * ContinuousBernoulli({logits} | {probs}):
 * log p(x) = log C(l) + x l − softplus(l) on [0, 1], with C(l) = l / tanh(l/2).
 * mean = σ(l)/tanh(l/2) − 1/l, variance = 1/l² − 1/(4 sinh²(l/2)),
 * entropy = −log C(l) − l · mean + softplus(l) (all → their limits ½, 1/12, 0 at l = 0).
 * `rsample` is the inverse CDF F⁻¹(u) = log1p(u · expm1(l)) / l at u ~ U(0, 1).
 *
 * @example
 * const d = continuousBernoulli({ logits: tf.tensor1d([-3, 0, 3]) })
 * d.logProb(d.rsample([10], 0))   // shape [10, 3]
 */
export const continuousBernoulli = (params: LogitsOrProbs): ContinuousBernoulli => {
  const name = 'continuousBernoulli'
  const p = binaryParams(name, params)
  const l = p.logits
  const batchShape = l.shape
  return makeDistribution<ContinuousBernoulli>({
    tag: 'ContinuousBernoulli', name, fields: { logits: l, probs: p.probs },
    batchShape, eventShape: [], reparameterized: true, support: constraints.unitInterval,
    draw: (s, seed) => inverseCdf(l, clampProbs(tf.randomUniform([...s, ...batchShape], 0, 1, 'float32', seed))),
    logProb: (x) => tf.add(tf.sub(logNormalizer(l), softplus(l)), tf.mul(x, l)),
    mean: () => meanOf(l),
    variance: () => varianceOf(l),
    entropy: () => tf.add(tf.sub(softplus(l), logNormalizer(l)), tf.mul(tf.neg(l), meanOf(l))),
    expand: (b) => continuousBernoulli(p.given === 'logits'
      ? { logits: broadcastTo(l, [...b]) }
      : { probs: broadcastTo(p.probs, [...b]) }),
  })
}

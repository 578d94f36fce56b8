/**
 * The Kumaraswamy distribution on (0, 1): a Beta look-alike with a closed-form CDF,
 * so it is reparameterised by inversion.
 *
 * log p(x) = log a + log b + (a − 1) log x + (b − 1) log(1 − xᵃ)
 */
import * as tf from '@tensorflow/tfjs-core'
import { FLOAT32_EPS, log1mexp, log1p } from '../backend/numerics.js'
import { digamma, lbeta } from '../backend/special.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

/** The Euler–Mascheroni constant γ. */
const EULER_GAMMA = 0.5772156649015329

/** Kumaraswamy(a, b): reparameterised (inverse CDF), support [0, 1]. */
export interface Kumaraswamy extends Distribution<tf.Tensor, true> {
  readonly _tag: 'Kumaraswamy'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  /** The first shape parameter a (Pyro's concentration1). */
  readonly a: tf.Tensor
  /** The second shape parameter b (Pyro's concentration0). */
  readonly b: tf.Tensor
  readonly toEvent: (n: number) => Independent<Kumaraswamy>
  readonly expand: (batchShape: readonly number[]) => Kumaraswamy
}

/** c · log t, and 0 where c = 0 (a = 1 at x = 0, b = 1 at x = 1: no 0 · (−∞), in values or gradients). */
const powerTerm = (c: tf.Tensor, logT: tf.Tensor): tf.Tensor => {
  const zero = tf.equal(c, 0)
  return tf.mul(c, tf.where(zero, tf.zerosLike(logT), logT))
}

/** E[Xⁿ] = b · B(1 + n/a, b). */
const rawMoment = (a: tf.Tensor, b: tf.Tensor, n: number): tf.Tensor =>
  tf.exp(tf.add(tf.log(b), lbeta(tf.add(1, tf.div(n, a)), b)))

/**
 * Kumaraswamy(a, b), log p(x) = log a + log b + (a − 1) log x + (b − 1) log(1 − xᵃ) on (0, 1).
 * E[Xⁿ] = b · B(1 + n/a, b), so mean = b B(1 + 1/a, b) and variance = b B(1 + 2/a, b) − mean²;
 * entropy = (1 − 1/b) + (1 − 1/a)(ψ(b + 1) + γ) − log(ab).
 * `rsample` inverts the CDF F(x) = 1 − (1 − xᵃ)ᵇ: x = (1 − (1 − u)^{1/b})^{1/a}, computed in
 * log space as exp(log1mexp(log(1 − u)/b)/a) with u ~ U(0, 1) kept within ε of the ends.
 *
 * @example
 * const d = kumaraswamy(2, tf.tensor1d([3, 5]))
 * d.logProb(d.sample([10], 0))   // shape [10, 2]
 */
export const kumaraswamy = (a: TensorLike, b: TensorLike): Kumaraswamy => {
  const [{ a: $a, b: $b }, batchShape] = convertParams('kumaraswamy', { a, b }, (p) => {
    const shape = broadcastShapes('kumaraswamy', [['a', p.a.shape], ['b', p.b.shape]])
    checkParam('kumaraswamy', 'a', p.a, constraints.positive)
    checkParam('kumaraswamy', 'b', p.b, constraints.positive)
    return shape
  })
  return makeDistribution<Kumaraswamy>({
    tag: 'Kumaraswamy', name: 'kumaraswamy', fields: { a: $a, b: $b },
    batchShape, eventShape: [], reparameterized: true, support: constraints.unitInterval,
    draw: (s, seed) => {
      const u = tf.clipByValue(tf.randomUniform([...s, ...batchShape], 0, 1, 'float32', seed), FLOAT32_EPS, 1 - FLOAT32_EPS)
      return tf.exp(tf.div(log1mexp(tf.div(log1p(tf.neg(u)), $b)), $a))
    },
    logProb: (x) => {
      const logX = tf.log(x)
      const log1mXa = log1mexp(tf.mul($a, logX))   // log(1 − xᵃ), accurate as xᵃ → 1
      return tf.add(tf.add(tf.log(tf.mul($a, $b)), powerTerm(tf.sub($a, 1), logX)), powerTerm(tf.sub($b, 1), log1mXa))
    },
    mean: () => tf.broadcastTo(rawMoment($a, $b, 1), batchShape),
    variance: () => tf.broadcastTo(tf.sub(rawMoment($a, $b, 2), tf.square(rawMoment($a, $b, 1))), batchShape),
    entropy: () => {
      const harmonic = tf.add(digamma(tf.add($b, 1)), EULER_GAMMA)
      const t = tf.add(tf.sub(1, tf.reciprocal($b)), tf.mul(tf.sub(1, tf.reciprocal($a)), harmonic))
      return tf.broadcastTo(tf.sub(t, tf.log(tf.mul($a, $b))), batchShape)
    },
    expand: (b2) => kumaraswamy(tf.broadcastTo($a, [...b2]), tf.broadcastTo($b, [...b2])),
  })
}

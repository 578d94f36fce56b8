/**
 * The Laplace (double-exponential) distribution.
 *
 * log p(x) = −|x − loc|/scale − log(2 scale)
 */
import * as tf from '@tensorflow/tfjs-core'
import { broadcastTo, FLOAT32_EPS } from '../backend/numerics.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

/** Laplace(loc, scale): reparameterised, support ℝ. */
export interface Laplace extends Distribution<tf.Tensor, true> {
  readonly _tag: 'Laplace'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  readonly loc: tf.Tensor
  readonly scale: tf.Tensor
  readonly toEvent: (n: number) => Independent<Laplace>
  readonly expand: (batchShape: readonly number[]) => Laplace
}

/** The largest |u| used by the inverse CDF, so log1p(−2|u|) stays finite. */
const U_MAX = 0.5 - FLOAT32_EPS

/**
 * Laplace(loc, scale), log p(x) = −|x − loc|/scale − log(2 scale).
 * `rsample` is loc − scale · sign(u) · log1p(−2|u|) with u ~ U(−½, ½)
 * (u is kept within ½ − ε of the ends, so draws are finite).
 *
 * @example
 * const d = laplace(tf.zeros([3]), 2)
 * d.logProb(d.sample([10], 0))   // shape [10, 3]
 */
export const laplace = (loc: TensorLike, scale: TensorLike): Laplace => {
  const [{ loc: $loc, scale: $scale }, batchShape] = convertParams('laplace', { loc, scale }, (p) => {
    const shape = broadcastShapes('laplace', [['loc', p.loc.shape], ['scale', p.scale.shape]])
    checkParam('laplace', 'loc', p.loc, constraints.real)
    checkParam('laplace', 'scale', p.scale, constraints.positive)
    return shape
  })
  return makeDistribution<Laplace>({
    tag: 'Laplace', name: 'laplace', fields: { loc: $loc, scale: $scale },
    batchShape, eventShape: [], reparameterized: true, support: constraints.real,
    draw: (s, seed) => {
      const u = tf.clipByValue(tf.randomUniform([...s, ...batchShape], -0.5, 0.5, 'float32', seed), -U_MAX, U_MAX)
      const e = tf.mul(tf.sign(u), tf.log1p(tf.mul(-2, tf.abs(u))))
      return tf.sub($loc, tf.mul($scale, e))
    },
    logProb: (x) => tf.sub(
      tf.neg(tf.div(tf.abs(tf.sub(x, $loc)), $scale)),
      tf.log(tf.mul(2, $scale))),
    mean: () => broadcastTo($loc, batchShape),
    variance: () => broadcastTo(tf.mul(2, tf.square($scale)), batchShape),
    entropy: () => broadcastTo(tf.add(1, tf.log(tf.mul(2, $scale))), batchShape),
    expand: (b) => laplace(broadcastTo($loc, [...b]), broadcastTo($scale, [...b])),
  })
}

/**
 * KL(p ‖ q) for two Laplaces:
 * log(bq/bp) + |μp − μq|/bq + (bp/bq)·exp(−|μp − μq|/bp) − 1.
 *
 * @example klLaplaceLaplace(laplace(0, 1), laplace(1, 2))
 */
export const klLaplaceLaplace = (p: Laplace, q: Laplace): tf.Tensor => {
  const ratio = tf.div(p.scale, q.scale)
  const dist = tf.abs(tf.sub(p.loc, q.loc))
  return tf.add(
    tf.sub(tf.div(dist, q.scale), tf.log(ratio)),
    tf.sub(tf.mul(ratio, tf.exp(tf.neg(tf.div(dist, p.scale)))), 1))
}

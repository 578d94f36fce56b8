/**
 * The Normal (Gaussian) distribution.
 *
 * log p(x) = −½((x − loc)/scale)² − log scale − ½ log 2π
 */
import * as tf from '@tensorflow/tfjs-core'
import { broadcastTo } from '../backend/numerics.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'
import { normalLogDensity } from '../backend/log-densities.js'
import { standardNormal } from '../backend/random.js'

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI)

/** Normal(loc, scale): reparameterised, support ℝ. */
export interface Normal extends Distribution<tf.Tensor, true> {
  readonly _tag: 'Normal'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  readonly loc: tf.Tensor
  readonly scale: tf.Tensor
  readonly toEvent: (n: number) => Independent<Normal>
  readonly expand: (batchShape: readonly number[]) => Normal
}

/**
 * Normal(loc, scale), log p(x) = −½((x − loc)/scale)² − log scale − ½ log 2π.
 * `rsample` is loc + scale · ε with ε ~ N(0, 1).
 *
 * @example
 * const d = normal(tf.zeros([3]), 1)
 * d.logProb(d.sample([10], 0))   // shape [10, 3]
 */
export const normal = (loc: TensorLike, scale: TensorLike): Normal => {
  const [{ loc: $loc, scale: $scale }, batchShape] = convertParams('normal', { loc, scale }, (p) => {
    const shape = broadcastShapes('normal', [['loc', p.loc.shape], ['scale', p.scale.shape]])
    checkParam('normal', 'scale', p.scale, constraints.positive)
    return shape
  })
  return makeDistribution<Normal>({
    tag: 'Normal', name: 'normal', fields: { loc: $loc, scale: $scale },
    batchShape, eventShape: [], reparameterized: true, support: constraints.real,
    draw: (s, seed) => tf.add($loc, tf.mul($scale, standardNormal([...s, ...batchShape], seed))),
    logProb: (x) => normalLogDensity(x, $loc, $scale),
    logProbSummed: (x, n) => normalLogDensity(x, $loc, $scale, n),
    mean: () => broadcastTo($loc, batchShape),
    variance: () => broadcastTo(tf.square($scale), batchShape),
    entropy: () => broadcastTo(tf.add(tf.log($scale), 0.5 + HALF_LOG_2PI), batchShape),
    expand: (b) => normal(broadcastTo($loc, [...b]), broadcastTo($scale, [...b])),
  })
}

/**
 * KL(p ‖ q) for two Normals: log(σq/σp) + (σp² + (μp − μq)²) / (2σq²) − ½.
 *
 * @example klNormalNormal(normal(0, 1), normal(1, 2))
 */
export const klNormalNormal = (p: Normal, q: Normal): tf.Tensor => {
  const ratio = tf.square(tf.div(p.scale, q.scale))
  const diff = tf.square(tf.div(tf.sub(p.loc, q.loc), q.scale))
  return tf.mul(0.5, tf.sub(tf.add(ratio, diff), tf.add(1, tf.log(ratio))))
}

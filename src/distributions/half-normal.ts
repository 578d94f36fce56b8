/**
 * The HalfNormal distribution: |X| for X ~ Normal(0, scale).
 *
 * log p(x) = log 2 − ½(x/scale)² − log scale − ½ log 2π, x > 0
 */
import * as tf from '@tensorflow/tfjs-core'
import { standardNormal } from '../backend/random.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

/** log 2 − ½ log 2π = ½ log(2/π). */
const HALF_LOG_2_OVER_PI = 0.5 * Math.log(2 / Math.PI)

/** HalfNormal(scale): reparameterised (scale · |ε|), support (0, ∞). */
export interface HalfNormal extends Distribution<tf.Tensor, true> {
  readonly _tag: 'HalfNormal'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  readonly scale: tf.Tensor
  readonly toEvent: (n: number) => Independent<HalfNormal>
  readonly expand: (batchShape: readonly number[]) => HalfNormal
}

/**
 * HalfNormal(scale) = |Normal(0, scale)|, log p(x) = ½ log(2/π) − log scale − ½(x/scale)² for x > 0.
 * Mean scale·√(2/π), variance scale²(1 − 2/π), entropy ½ log(πe scale²/2).
 * `rsample` is scale · |ε| with ε ~ N(0, 1).
 *
 * @example
 * const d = halfNormal(tf.tensor1d([1, 5]))
 * d.logProb(d.sample([10], 0))   // shape [10, 2]
 */
export const halfNormal = (scale: TensorLike): HalfNormal => {
  const [{ scale: $scale }, batchShape] = convertParams('halfNormal', { scale }, (p) => {
    const shape = broadcastShapes('halfNormal', [['scale', p.scale.shape]])
    checkParam('halfNormal', 'scale', p.scale, constraints.positive)
    return shape
  })
  return makeDistribution<HalfNormal>({
    tag: 'HalfNormal', name: 'halfNormal', fields: { scale: $scale },
    batchShape, eventShape: [], reparameterized: true, support: constraints.nonNegative,
    draw: (s, seed) => tf.mul($scale, tf.abs(standardNormal([...s, ...batchShape], seed))),
    logProb: (x) => tf.sub(tf.mul(-0.5, tf.square(tf.div(x, $scale))), tf.sub(tf.log($scale), HALF_LOG_2_OVER_PI)),
    mean: () => tf.mul($scale, Math.sqrt(2 / Math.PI)),
    variance: () => tf.mul(tf.square($scale), 1 - 2 / Math.PI),
    entropy: () => tf.add(tf.log($scale), 0.5 * Math.log((Math.PI * Math.E) / 2)),
    expand: (b) => halfNormal(tf.broadcastTo($scale, [...b])),
  })
}

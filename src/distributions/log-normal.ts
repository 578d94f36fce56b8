/**
 * The LogNormal distribution: exp(X) for X ~ Normal(loc, scale).
 *
 * log p(x) = −½((log x − loc)/scale)² − log scale − ½ log 2π − log x
 */
import * as tf from '@tensorflow/tfjs-core'
import { broadcastTo } from '../backend/numerics.js'
import * as constraints from './constraints.js'
import { exp } from './bijectors.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { normal } from './normal.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { transformedDraw, transformedLogProb } from './transformed.js'
import { checkParam } from './validation.js'

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI)

/** LogNormal(loc, scale): reparameterised, support (0, ∞). */
export interface LogNormal extends Distribution<tf.Tensor, true> {
  readonly _tag: 'LogNormal'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  /** Mean of log X. */
  readonly loc: tf.Tensor
  /** Standard deviation of log X. */
  readonly scale: tf.Tensor
  readonly toEvent: (n: number) => Independent<LogNormal>
  readonly expand: (batchShape: readonly number[]) => LogNormal
}

/**
 * LogNormal(loc, scale) = exp(Normal(loc, scale)),
 * log p(x) = −½((log x − loc)/scale)² − log scale − ½ log 2π − log x.
 * Mean exp(μ + σ²/2), variance (exp(σ²) − 1) exp(2μ + σ²), entropy μ + ½ + log(σ√(2π)).
 * For large σ (e.g. 1e6) draws overflow float32 to +∞ or underflow to 0 (outside
 * the support) and mean/variance are +∞; `logProb` of finite x > 0 stays finite.
 *
 * @example
 * const d = logNormal(0, 0.5)
 * d.logProb(d.sample([10], 0))   // shape [10]
 */
export const logNormal = (loc: TensorLike, scale: TensorLike): LogNormal => {
  const [{ loc: l, scale: sc }] = convertParams('logNormal', { loc, scale }, (p) => {
    broadcastShapes('logNormal', [['loc', p.loc.shape], ['scale', p.scale.shape]])
    checkParam('logNormal', 'scale', p.scale, constraints.positive)
  })
  const base = normal(l, sc)
  const { loc: $loc, scale: $scale } = base
  const batchShape = [...base.batchShape]
  const bijector = exp()
  const s2 = () => tf.square($scale)
  return makeDistribution<LogNormal>({
    tag: 'LogNormal', name: 'logNormal', fields: { loc: $loc, scale: $scale },
    batchShape, eventShape: [], reparameterized: true, support: constraints.positive,
    draw: (s, seed) => transformedDraw(base, bijector, s, seed),
    logProb: (x) => transformedLogProb(base, bijector, x),
    mean: () => broadcastTo(tf.exp(tf.add($loc, tf.mul(0.5, s2()))), batchShape),
    variance: () => broadcastTo(tf.mul(tf.expm1(s2()), tf.exp(tf.add(tf.mul(2, $loc), s2()))), batchShape),
    entropy: () => broadcastTo(tf.add(tf.add($loc, tf.log($scale)), 0.5 + HALF_LOG_2PI), batchShape),
    expand: (b) => logNormal(broadcastTo($loc, [...b]), broadcastTo($scale, [...b])),
  })
}

/**
 * The Cauchy (Lorentz) distribution on ℝ.
 *
 * log p(x) = −log π − log scale − log(1 + ((x − loc)/scale)²)
 */
import * as tf from '@tensorflow/tfjs-core'
import { FLOAT32_EPS, log1p } from '../backend/numerics.js'
import { scoped } from '../backend/scope.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

/** Cauchy(loc, scale): reparameterised (inverse CDF), support ℝ; no mean (NaN), infinite variance. */
export interface Cauchy extends Distribution<tf.Tensor, true> {
  readonly _tag: 'Cauchy'
  /** Undefined for the Cauchy: NaN, as in Pyro. */
  readonly mean: tf.Tensor
  /** +∞, as in Pyro. */
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  readonly loc: tf.Tensor
  readonly scale: tf.Tensor
  readonly toEvent: (n: number) => Independent<Cauchy>
  readonly expand: (batchShape: readonly number[]) => Cauchy
}

/** The largest |u| used by the inverse CDF tan(πu), so draws stay finite and of the right sign. */
const U_MAX = 0.5 - FLOAT32_EPS

/**
 * Standard Cauchy draws tan(πu), u ~ U(−½, ½) kept within ½ − ε of the ends: shape `shape`.
 *
 * @example standardCauchy([3], 0)
 */
export const standardCauchy = (shape: readonly number[], seed: number | undefined): tf.Tensor =>
  tf.tan(tf.mul(Math.PI, tf.clipByValue(tf.randomUniform([...shape], -0.5, 0.5, 'float32', seed), -U_MAX, U_MAX)))

/**
 * Cauchy(loc, scale), log p(x) = −log π − log scale − log(1 + z²), z = (x − loc)/scale.
 * Entropy log(4π scale); the mean is undefined (NaN) and the variance infinite, as in Pyro.
 * `rsample` is loc + scale · tan(πu), u ~ U(−½, ½) (inverse CDF).
 *
 * @example
 * const d = cauchy(0, tf.tensor1d([1, 2]))
 * d.logProb(d.sample([10], 0))   // shape [10, 2]
 */
export const cauchy = (loc: TensorLike, scale: TensorLike): Cauchy => {
  const [{ loc: $loc, scale: $scale }, batchShape] = convertParams('cauchy', { loc, scale }, (p) => {
    const shape = broadcastShapes('cauchy', [['loc', p.loc.shape], ['scale', p.scale.shape]])
    checkParam('cauchy', 'loc', p.loc, constraints.real)
    checkParam('cauchy', 'scale', p.scale, constraints.positive)
    return shape
  })
  return makeDistribution<Cauchy>({
    tag: 'Cauchy', name: 'cauchy', fields: { loc: $loc, scale: $scale },
    batchShape, eventShape: [], reparameterized: true, support: constraints.real,
    draw: (s, seed) => tf.add($loc, tf.mul($scale, standardCauchy([...s, ...batchShape], seed))),
    logProb: (x) => tf.neg(tf.add(tf.log(tf.mul(Math.PI, $scale)), log1p(tf.square(tf.div(tf.sub(x, $loc), $scale))))),
    mean: () => tf.fill(batchShape, NaN),
    variance: () => tf.fill(batchShape, Infinity),
    entropy: () => tf.broadcastTo(tf.log(tf.mul(4 * Math.PI, $scale)), batchShape),
    expand: (b) => cauchy(tf.broadcastTo($loc, [...b]), tf.broadcastTo($scale, [...b])),
  })
}

/**
 * KL(p ‖ q) for two Cauchys (Chyzak & Nielsen 2019):
 * KL = log((σp + σq)² + (μp − μq)²) − log(4 σp σq); shape = broadcast of the batch shapes.
 *
 * @example klCauchyCauchy(cauchy(0, 1), cauchy(1, 2))   // log(10/8)
 */
export const klCauchyCauchy = scoped('klCauchyCauchy', (p: Cauchy, q: Cauchy): tf.Tensor => {
  broadcastShapes('klCauchyCauchy', [['p', p.batchShape], ['q', q.batchShape]])
  // (σp + σq)² + Δμ² − 4σpσq = (σp − σq)² + Δμ² ≥ 0: log1p of it over 4σpσq, exact near p = q.
  const excess = tf.add(tf.square(tf.sub(p.scale, q.scale)), tf.square(tf.sub(p.loc, q.loc)))
  return log1p(tf.div(excess, tf.mul(4, tf.mul(p.scale, q.scale))))
})

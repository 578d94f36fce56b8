/**
 * The Delta (point-mass) distribution at `value`, with an optional log density carried at the point.
 *
 * log p(x) = logDensity if x = value (every event element equal, IEEE: NaN equals nothing), −∞ otherwise (logDensity default 0)
 */
import * as tf from '@tensorflow/tfjs-core'
import { pointMassLogDensity } from '../backend/log-densities.js'
import { broadcastTo } from '../backend/numerics.js'
import { ShapeError, showShape } from '../errors.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { broadcastsTo, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam } from './validation.js'

/** Delta(value): reparameterised (draws are `value`, differentiable in it). */
export interface Delta extends Distribution<tf.Tensor, true> {
  readonly _tag: 'Delta'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  /** The point, of shape `batchShape ++ eventShape`. */
  readonly value: tf.Tensor
  /** How many rightmost dims of `value` form one event. */
  readonly eventDims: number
  /** The log density at the point, broadcastable to `batchShape` (Pyro's `log_density`); absent: 0. */
  readonly logDensity: tf.Tensor | undefined
  readonly toEvent: (n: number) => Independent<Delta>
  readonly expand: (batchShape: readonly number[]) => Delta
}

/** Options of {@link delta}. */
export interface DeltaOptions {
  /** The number of rightmost dims of `value` that form one event (default 0). */
  readonly eventDims?: number
  /**
   * The log density at the point (default 0), broadcastable to the batch shape: what `logProb`
   * returns at `value` (Pyro's `Delta(log_density=…)`). An autoguide's point at T(u) carries
   * −log |det ∂T/∂u| here, so that log q(z) = log q(u) − log |det ∂T/∂u|.
   */
  readonly logDensity?: TensorLike
}

/** Converts and checks `value` and `logDensity` (real; logDensity broadcastable to the batch shape) in one memory scope. */
const deltaParams = (value: TensorLike, eventDims: number, logDensity: TensorLike | undefined) =>
  convertParams<string>('delta', logDensity === undefined ? { value } : { value, logDensity }, (p) => {
    const v = p['value']!
    if (!Number.isInteger(eventDims) || eventDims < 0 || eventDims > v.rank) {
      throw new ShapeError(`delta: option 'eventDims' must be an integer between 0 and the rank of 'value' (${v.rank}, shape ${showShape(v.shape)}); got ${eventDims}`)
    }
    checkParam('delta', 'value', v, constraints.real)
    const ld = p['logDensity']
    if (ld === undefined) return
    const batch = v.shape.slice(0, v.rank - eventDims)
    if (!broadcastsTo(ld.shape, batch)) {
      throw new ShapeError(`delta: option 'logDensity' must broadcast to the batch shape ${showShape(batch)} (value ${showShape(v.shape)} less its ${eventDims} event dim(s)); got shape ${showShape(ld.shape)}`)
    }
    checkParam('delta', 'logDensity', ld, constraints.real)
  })[0] as { value: tf.Tensor; logDensity?: tf.Tensor }

/**
 * Delta(value): all mass at `value`; log p(x) = logDensity (default 0) where x equals `value` on
 * every event element, −∞ elsewhere. batchShape is `value.shape` minus its
 * `eventDims` rightmost dims. `rsample` broadcasts `value` to
 * `sampleShape ++ value.shape`, so gradients flow to `value` (and `logProb`'s to `logDensity`).
 * Mean `value`, variance 0; no entropy (it is −∞ for a point mass in ℝⁿ).
 *
 * @example
 * const d = delta(tf.tensor2d([[1, 2], [3, 4]]), { eventDims: 1 })   // batch [2], event [2]
 * d.logProb(d.value)   // [0, 0]
 * delta(tf.scalar(2), { logDensity: -0.5 }).logProb(tf.scalar(2))   // −0.5
 */
export const delta = (value: TensorLike, options: DeltaOptions = {}): Delta => {
  const eventDims = options.eventDims ?? 0
  const { value: $value, logDensity: $ld } = deltaParams(value, eventDims, options.logDensity)
  const split = $value.rank - eventDims
  const batchShape = $value.shape.slice(0, split), eventShape = $value.shape.slice(split)
  return makeDistribution<Delta>({
    tag: 'Delta', name: 'delta', fields: { value: $value, eventDims, logDensity: $ld },
    batchShape, eventShape, reparameterized: true, support: constraints.independent(constraints.real, eventDims),
    draw: (s) => broadcastTo($value, [...s, ...$value.shape]),
    logProb: (x) => {
      const at = pointMassLogDensity(x, $value, eventDims)
      return $ld === undefined ? at : tf.add(at, $ld)
    },
    mean: () => tf.clone($value),
    variance: () => tf.zerosLike($value),
    expand: (b) => delta(broadcastTo($value, [...b, ...eventShape]), { eventDims, ...($ld !== undefined && { logDensity: broadcastTo($ld, b) }) }),
  })
}

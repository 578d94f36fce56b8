/**
 * The Delta (point-mass) distribution at `value`.
 *
 * log p(x) = 0 if x = value (every event element equal), −∞ otherwise
 */
import * as tf from '@tensorflow/tfjs-core'
import { broadcastTo } from '../backend/numerics.js'
import { ShapeError, showShape } from '../errors.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { convertParams } from './shape.js'
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
  readonly toEvent: (n: number) => Independent<Delta>
  readonly expand: (batchShape: readonly number[]) => Delta
}

/** Options of {@link delta}. */
export interface DeltaOptions {
  /** The number of rightmost dims of `value` that form one event (default 0). */
  readonly eventDims?: number
}

/**
 * Delta(value): all mass at `value`; log p(x) = 0 where x equals `value` on
 * every event element, −∞ elsewhere. batchShape is `value.shape` minus its
 * `eventDims` rightmost dims. `rsample` broadcasts `value` to
 * `sampleShape ++ value.shape`, so gradients flow to `value`.
 * Mean `value`, variance 0; no entropy (it is −∞ for a point mass in ℝⁿ).
 *
 * @example
 * const d = delta(tf.tensor2d([[1, 2], [3, 4]]), { eventDims: 1 })   // batch [2], event [2]
 * d.logProb(d.value)   // [0, 0]
 */
export const delta = (value: TensorLike, options: DeltaOptions = {}): Delta => {
  const eventDims = options.eventDims ?? 0
  const [{ value: $value }] = convertParams('delta', { value }, ({ value: v }) => {
    if (!Number.isInteger(eventDims) || eventDims < 0 || eventDims > v.rank) {
      throw new ShapeError(`delta: option 'eventDims' must be an integer between 0 and the rank of 'value' (${v.rank}, shape ${showShape(v.shape)}); got ${eventDims}`)
    }
    checkParam('delta', 'value', v, constraints.real)
  })
  const split = $value.rank - eventDims
  const batchShape = $value.shape.slice(0, split), eventShape = $value.shape.slice(split)
  return makeDistribution<Delta>({
    tag: 'Delta', name: 'delta', fields: { value: $value, eventDims },
    batchShape, eventShape, reparameterized: true, support: constraints.independent(constraints.real, eventDims),
    draw: (s) => broadcastTo($value, [...s, ...$value.shape]),
    logProb: (x) => {
      // max |x − value| ≤ 0 over the event, via ops that all have tfjs gradients (Equal/All have none).
      const gap = tf.abs(tf.sub(x, $value))
      const worst = eventDims === 0 ? gap : tf.max(gap, Array.from({ length: eventDims }, (_, i) => gap.rank - 1 - i))
      return tf.where(tf.greaterEqual(0, worst), tf.zeros(worst.shape), tf.fill(worst.shape, -Infinity))
    },
    mean: () => tf.clone($value),
    variance: () => tf.zerosLike($value),
    expand: (b) => delta(broadcastTo($value, [...b, ...eventShape]), { eventDims }),
  })
}

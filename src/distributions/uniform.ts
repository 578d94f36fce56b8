/**
 * The continuous Uniform distribution on [low, high].
 *
 * log p(x) = −log(high − low) for low ≤ x ≤ high
 */
import * as tf from '@tensorflow/tfjs-core'
import { broadcastTo } from '../backend/numerics.js'
import { InvalidArgumentError, showShape } from '../errors.js'
import { scoped } from '../backend/scope.js'
import * as constraints from './constraints.js'
import type { Distribution, Independent } from './distribution.js'
import { makeDistribution } from './make.js'
import { broadcastShapes, convertParams } from './shape.js'
import type { TensorLike } from './shape.js'
import { checkParam, isValidating } from './validation.js'

/** Uniform(low, high): reparameterised, support [low, high]. */
export interface Uniform extends Distribution<tf.Tensor, true> {
  readonly _tag: 'Uniform'
  readonly mean: tf.Tensor
  readonly variance: tf.Tensor
  readonly entropy: () => tf.Tensor
  readonly low: tf.Tensor
  readonly high: tf.Tensor
  readonly toEvent: (n: number) => Independent<Uniform>
  readonly expand: (batchShape: readonly number[]) => Uniform
}

/** Reads low and high broadcast to the batch shape (the temporaries are freed). */
const readBounds = scoped('uniform.check', (low: tf.Tensor, high: tf.Tensor, b: readonly number[]) =>
  [broadcastTo(low, [...b]).dataSync(), broadcastTo(high, [...b]).dataSync()] as Float32Array[])

/** Throws an {@link InvalidArgumentError} naming both bounds where low ≥ high (when validating). */
const checkOrdered = (low: tf.Tensor, high: tf.Tensor, b: readonly number[]): void => {
  if (!isValidating()) return
  const [l, h] = readBounds(low, high, b) as [Float32Array, Float32Array]
  const i = l.findIndex((v, j) => !(v < h[j]!))
  if (i >= 0) {
    throw new InvalidArgumentError(`uniform: arguments 'low' and 'high' must satisfy low < high; got low = ${l[i]}, high = ${h[i]} at flat index ${i} of batch shape ${showShape(b)}`)
  }
}

/**
 * Uniform(low, high), log p(x) = −log(high − low) on [low, high] (−∞ outside,
 * when validation is off). `rsample` is low + (high − low) · u with u ~ U(0, 1).
 *
 * @example
 * const d = uniform(0, tf.tensor1d([1, 2, 3]))
 * d.logProb(d.sample([10], 0))   // shape [10, 3]
 */
export const uniform = (low: TensorLike, high: TensorLike): Uniform => {
  const [{ low: $low, high: $high }, batchShape] = convertParams('uniform', { low, high }, (p) => {
    checkParam('uniform', 'low', p.low, constraints.real)
    checkParam('uniform', 'high', p.high, constraints.real)
    const shape = broadcastShapes('uniform', [['low', p.low.shape], ['high', p.high.shape]])
    checkOrdered(p.low, p.high, shape)
    return shape
  })
  const support = constraints.interval($low, $high)
  return makeDistribution<Uniform>({
    tag: 'Uniform', name: 'uniform', fields: { low: $low, high: $high },
    batchShape, eventShape: [], reparameterized: true, support,
    draw: (s, seed) => tf.add($low, tf.mul(tf.sub($high, $low), tf.randomUniform([...s, ...batchShape], 0, 1, 'float32', seed))),
    logProb: (x) => {
      // Nested selects on GreaterEqual masks: LogicalAnd/LessEqual have no tfjs gradient.
      const lp = tf.add(tf.zerosLike(x), tf.neg(tf.log(tf.sub($high, $low))))
      const out = tf.fill(lp.shape, -Infinity)
      return tf.where(tf.greaterEqual(x, $low), tf.where(tf.greaterEqual($high, x), lp, out), out)
    },
    mean: () => broadcastTo(tf.mul(0.5, tf.add($low, $high)), batchShape),
    variance: () => broadcastTo(tf.div(tf.square(tf.sub($high, $low)), 12), batchShape),
    entropy: () => broadcastTo(tf.log(tf.sub($high, $low)), batchShape),
    expand: (b) => uniform(broadcastTo($low, [...b]), broadcastTo($high, [...b])),
  })
}

/**
 * KL(p ‖ q) for two Uniforms: log((hq − lq)/(hp − lp)) when [lp, hp] ⊆ [lq, hq], else +∞.
 *
 * @example klUniformUniform(uniform(0, 1), uniform(-1, 2))   // log 3
 */
export const klUniformUniform = (p: Uniform, q: Uniform): tf.Tensor => {
  const kl = tf.sub(tf.log(tf.sub(q.high, q.low)), tf.log(tf.sub(p.high, p.low)))
  const inside = tf.logicalAnd(tf.lessEqual(q.low, p.low), tf.lessEqual(p.high, q.high))
  return tf.where(inside, broadcastTo(kl, inside.shape), tf.fill(inside.shape, Infinity))
}

/**
 * Summing the rightmost dims of a tensor (what `toEvent` does to a log density) and the shape
 * its gradient flows back through.
 */
import * as tf from '@tensorflow/tfjs-core'

/**
 * Σ of `x` over its rightmost `n` dims (x itself for n = 0). The axes go in ascending order, so
 * tfjs sums contiguous memory in place (descending axes made it transpose first).
 *
 * @example
 * sumRightmost(tf.ones([2, 3, 4]), 2)   // [12, 12]
 */
export const sumRightmost = (x: tf.Tensor, n: number): tf.Tensor =>
  n === 0 ? x : tf.sum(x, Array.from({ length: n }, (_, i) => x.rank - n + i))

/**
 * The cotangent `dy` of a value summed over the rightmost `n` dims of `shape`, reshaped with
 * those dims as 1s, so it broadcasts against the unsummed terms (dy itself for n = 0).
 *
 * @example
 * expandRightmost(tf.ones([2]), [2, 3, 4], 2).shape   // [2, 1, 1]
 */
export const expandRightmost = (dy: tf.Tensor, shape: readonly number[], n: number): tf.Tensor =>
  n === 0 ? dy : tf.reshape(dy, [...shape.slice(0, shape.length - n), ...Array<number>(n).fill(1)])

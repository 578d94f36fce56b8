/**
 * Numerically stable float32 helpers shared by the distributions and the ELBO.
 * None of them create module-level tensors; constants are plain numbers.
 */
import * as tf from '@tensorflow/tfjs-core'
import { sameShape } from '../errors.js'
import './gradients.js' // registers tfjs's gradients, plus zero gradients for comparisons
import { scoped } from './scope.js'

/** Float32 machine epsilon, 2^-23. */
export const FLOAT32_EPS = 1.1920928955078125e-7
/** Largest finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38

/**
 * log Σ exp(x) along `axis`, computed as m + log Σ exp(x − m) with m = max x.
 *
 * @example
 * logSumExp(tf.tensor1d([1000, 1000]))   // 1000 + log 2, not Infinity
 */
export const logSumExp = scoped('logSumExp', (x: tf.Tensor, axis?: number | number[], keepDims?: boolean): tf.Tensor =>
  tf.logSumExp(x, axis ?? -1, keepDims ?? false))

/**
 * log(1 + x), accurate for tiny x on every backend (the wasm kernel computes
 * log(1 + x) and returns 0 for |x| < 6e-8): Kahan's log(u) · x / (u − 1), u = 1 + x.
 *
 * @example
 * log1p(tf.scalar(1e-10))   // 1e-10, not 0
 */
export const log1p = scoped('log1p', (x: tf.Tensor): tf.Tensor => {
  const u = tf.add(1, x)
  const d = tf.sub(u, 1)
  const exact = tf.equal(d, 0)
  return tf.where(exact, x, tf.mul(tf.log(u), tf.div(x, tf.where(exact, tf.onesLike(d), d))))
})

/**
 * softplus(x) = log(1 + eˣ), exact for large |x|: tfjs's own `Softplus` kernel,
 * one kernel forward and σ(x)·dy backward (every backend computes it stably:
 * max(x, 0) + log1p(e^−|x|) to float32 precision; test/backend/numerics.test.ts).
 *
 * @example
 * softplus(tf.scalar(100))   // 100
 */
export const softplus = (x: tf.Tensor): tf.Tensor => tf.softplus(x)

/**
 * log σ(x) = −softplus(−x).
 *
 * @example
 * logSigmoid(tf.scalar(-100))   // -100
 */
export const logSigmoid = scoped('logSigmoid', (x: tf.Tensor): tf.Tensor => tf.neg(softplus(tf.neg(x))))

/**
 * log(1 − eˣ) for x ≤ 0 (Mächler 2012): log(−expm1 x) for x > −log 2, else log1p(−eˣ).
 *
 * @example
 * log1mexp(tf.scalar(-1e-10))   // ≈ log(1e-10)
 */
export const log1mexp = scoped('log1mexp', (x: tf.Tensor): tf.Tensor => {
  const nearZero = tf.greater(x, -Math.LN2)
  // Each branch gets an argument safe for it, so neither produces NaN (or NaN gradients).
  const xNear = tf.where(nearZero, x, tf.fill(x.shape, -1))
  const xFar = tf.where(nearZero, tf.fill(x.shape, -1), x)
  return tf.where(nearZero, tf.log(tf.neg(tf.expm1(xNear))), log1p(tf.neg(tf.exp(xFar))))
})

/**
 * Clamps probabilities into [ε, 1 − ε] (ε = float32 epsilon) so logs stay finite.
 *
 * @example
 * clampProbs(tf.tensor1d([0, 1]))   // [1.19e-7, 0.99999988]
 */
export const clampProbs = (p: tf.Tensor): tf.Tensor => tf.clipByValue(p, FLOAT32_EPS, 1 - FLOAT32_EPS)

/**
 * logits = log p − log(1 − p), on clamped probabilities.
 *
 * @example
 * probsToLogits(tf.scalar(0.5))   // 0
 */
export const probsToLogits = scoped('probsToLogits', (p: tf.Tensor): tf.Tensor => {
  const q = clampProbs(p)
  return tf.sub(tf.log(q), log1p(tf.neg(q)))
})

/**
 * log Σ exp over the pairwise maximum: logaddexp(a, b) = max + log1p(e^−|a−b|).
 *
 * @example
 * logAddExp(tf.scalar(0), tf.scalar(0))   // log 2
 */
export const logAddExp = scoped('logAddExp', (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
  tf.add(tf.maximum(a, b), log1p(tf.exp(tf.neg(tf.abs(tf.sub(a, b)))))))

/**
 * `x` broadcast to `shape`, for float32 tensors by a broadcasting add onto zeros (the wasm backend's
 * `Tile`, which `tf.broadcastTo` runs, copies ≈ 65 ns per element — 30% of a 16-particle VAE step
 * went there; the add runs at memory speed); other dtypes through `tf.broadcastTo`. Its gradient is
 * the add's: the sum over the broadcast dims.
 *
 * @example broadcastTo(loc, [16, ...loc.shape])   // loc repeated along a particle dim
 */
export const broadcastTo = scoped('broadcastTo', (x: tf.Tensor, shape: readonly number[]): tf.Tensor =>
  x.dtype === 'float32' && !sameShape(x.shape, shape)
    ? tf.add(x, tf.zeros([...shape]))
    : tf.broadcastTo(x, [...shape]))

/**
 * `x` viewed as `shape` (one dim may be −1): `x` itself when it has that shape already, so a layer that
 * folds leading dims into a batch dim costs nothing when there are none (tfjs's `reshape` would launch a
 * kernel, save a clone of `x` for the backward pass, and launch another there); else `tf.reshape`. The
 * result may be `x`: dispose one or the other, never both.
 *
 * @example reshapeTo(x, [-1, 28, 28, 1])   // x itself for x of shape [128, 28, 28, 1]
 */
export const reshapeTo = <T extends tf.Tensor>(x: tf.Tensor, shape: readonly number[]): T =>
  (sameShape(x.shape, tf.util.inferFromImplicitShape([...shape], x.size)) ? x : tf.reshape(x, [...shape])) as T

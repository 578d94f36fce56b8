/**
 * Gradient surgery tfjs lacks: `stopGradient` and the straight-through
 * estimator, both built with `tf.customGrad`.
 */
import * as tf from '@tensorflow/tfjs-core'
import './gradients.js' // registers tfjs's gradients, plus zero gradients for comparisons

// tfjs types custom-gradient inputs as `Tensor | GradSaveFunc`; ours are all tensors.
type TensorGradFunc = (...inputs: tf.Tensor[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor | tf.Tensor[] }
const customGrad = (f: TensorGradFunc) => tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0])

const stop = customGrad((x) => ({ value: tf.clone(x), gradFunc: (dy) => tf.zerosLike(dy) }))

/**
 * The identity forward, zero gradient backward (`x.detach()` in PyTorch).
 *
 * @example
 * tf.grad((x) => tf.mul(stopGradient(x), x))(tf.scalar(3))   // 3, not 6
 */
export const stopGradient = <T extends tf.Tensor>(x: T): T =>
  (x.dtype === 'float32' ? stop(x) : tf.clone(x)) as T

const passThrough = customGrad((hard, _soft) => ({
  value: tf.clone(hard!),
  gradFunc: (dy) => [tf.zerosLike(dy), dy],
}))

/**
 * Straight-through: the value of `hard`, the gradient of `soft`
 * (∂out/∂soft = I, ∂out/∂hard = 0). Shapes must be equal.
 *
 * @example
 * const y = straightThroughGrad(tf.round(p), p)   // forward {0,1}, backward ∂/∂p
 */
export const straightThroughGrad = <T extends tf.Tensor>(hard: T, soft: T): T =>
  passThrough(hard, soft) as T

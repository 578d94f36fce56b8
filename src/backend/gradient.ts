/**
 * Gradient surgery tfjs lacks: `stopGradient` and the straight-through
 * estimator, both built with `tf.customGrad`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { scoped } from './scope.js'
import './gradients.js' // registers tfjs's gradients, plus zero gradients for comparisons

// tfjs types custom-gradient inputs as `Tensor | GradSaveFunc`; ours are all tensors.
type TensorGradFunc = (...inputs: tf.Tensor[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor | tf.Tensor[] }
const customGrad = (f: TensorGradFunc) => tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0])

/**
 * `x` as a constant: a custom-gradient op whose only input is a dummy scalar,
 * so the tape never walks back into the ops that produced `x`.
 */
const detach = scoped('stopGradient', (x: tf.Tensor): tf.Tensor =>
  customGrad((anchor) => ({ value: tf.clone(x), gradFunc: () => tf.zerosLike(anchor!) }))(tf.scalar(0)))

/**
 * The identity forward, zero gradient backward (`x.detach()` in PyTorch).
 *
 * @example
 * tf.grad((x) => tf.mul(stopGradient(x), x))(tf.scalar(3))   // 3, not 6
 */
export const stopGradient = <T extends tf.Tensor>(x: T): T => detach(x) as T

const passThrough = (hard: tf.Tensor): ((soft: tf.Tensor) => tf.Tensor) =>
  customGrad((_soft) => ({ value: tf.clone(hard), gradFunc: (dy) => dy }))

/**
 * Straight-through: the value of `hard`, the gradient of `soft`
 * (∂out/∂soft = I; `hard` is a constant to the tape). Shapes must be equal.
 *
 * @example
 * const y = straightThroughGrad(tf.round(p), p)   // forward {0,1}, backward ∂/∂p
 */
export const straightThroughGrad = <T extends tf.Tensor>(hard: T, soft: T): T =>
  passThrough(hard)(soft) as T

/** A custom-gradient op's value and gradient, the gradient reading the tensors it saved. */
type Saved = { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] }
/**
 * `tf.customGrad` typed for tensor inputs followed by tfjs's `save` (tfjs types the inputs as
 * `Tensor | GradSaveFunc`). Tensors the gradient needs must go through `save`: a closure-captured
 * intermediate may be freed by its scope before the backward pass runs.
 *
 * @example
 * const square = customGradSaved<[tf.Tensor]>((x, save) => { save([x]); return { value: tf.square(x), gradFunc: (dy, [s]) => tf.mul(dy, tf.mul(2, s!)) } })
 */
export const customGradSaved = <A extends tf.Tensor[]>(f: (...args: [...A, tf.GradSaveFunc]) => Saved): ((...inputs: A) => tf.Tensor) =>
  tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: A) => tf.Tensor

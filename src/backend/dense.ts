/**
 * The dense layer y = act(x·W + b) as one op: with the native accelerator on wasm it is one
 * fused kernel forward and one or two backward (`kernels/native/dense.ts`); everywhere else it is the
 * composite `add(matMul(x, W), b)` followed by the activation. Same values either way (the
 * forward pass is bit-identical to the composite on the accelerator; gradients agree to float32
 * rounding, test/backend/dense.test.ts). User code never changes between the two.
 */
import * as tf from '@tensorflow/tfjs-core'
import { nativeKernelsInstalled } from './kernels/state.js'
import { DENSE_ACTIVATIONS, DENSE_KERNEL } from './kernels/native/dense.js'
import { softplus } from './numerics.js'

/** Hidden-unit nonlinearities of a dense layer. */
export type DenseActivation = 'softplus' | 'relu' | 'tanh' | 'linear'

const activate = (a: DenseActivation, x: tf.Tensor): tf.Tensor =>
  a === 'softplus' ? softplus(x) : a === 'relu' ? tf.relu(x) : a === 'tanh' ? tf.tanh(x) : x

/** Whether the fused native kernel covers this call: accelerator on, wasm, float32 x [m, k], W [k, n], b [n]. */
const fusable = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): boolean =>
  nativeKernelsInstalled() && tf.getBackend() === 'wasm' &&
  x.rank === 2 && w.rank === 2 && b.rank === 1 && x.shape[1] === w.shape[0] && w.shape[1] === b.shape[0] &&
  x.size > 0 && w.size > 0 && x.dtype === 'float32' && w.dtype === 'float32' && b.dtype === 'float32'

/**
 * A dense layer: act(x·W + b), with `activation` one of softplus, relu, tanh, linear (default).
 * Leading dims of x beyond [rows, in] (particles, plates) are folded into the rows.
 *
 * @example
 * const h = dense(x, w, b, 'softplus')   // x [batch, in], w [in, out], b [out] → [batch, out]; x [k, batch, in] → [k, batch, out]
 */
export const dense = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, activation: DenseActivation = 'linear'): tf.Tensor => {
  if (x.rank > 2 && w.rank === 2) {
    // Leading dims (particles, plates) folded into rows, so the fused kernel and one product serve them all.
    const rows = tf.reshape(x, [-1, x.shape[x.rank - 1]!])
    return tf.reshape(dense(rows, w, b, activation), [...x.shape.slice(0, -1), w.shape[1]!])
  }
  if (fusable(x, w, b) && activation in DENSE_ACTIVATIONS) {
    return tf.engine().runKernel(DENSE_KERNEL, { x, w, b }, { activation }) as tf.Tensor
  }
  return activate(activation, tf.add(tf.matMul(x, w), b))
}

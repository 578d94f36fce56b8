/**
 * The nearest code of each row, as one op: with the native accelerator on wasm one fused kernel
 * (`kernels/native/nearest-codes.ts`), everywhere else the composite below. The same codes either way
 * (bit-identical on wasm, test/backend/nearest-codes.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core'
import { kernelState, nativeKernelsInstalled } from './kernels/state.js'
import { NEAREST_CODES_KERNEL } from './kernels/native/nearest-codes.js'

/** Whether the native kernel covers this call: accelerator on with the kernel, wasm, float32 x [n, d] and codebook [k, d], none empty. */
const native = (flat: tf.Tensor, codebook: tf.Tensor): boolean =>
  nativeKernelsInstalled() && kernelState.registered.has('nearest-codes') && tf.getBackend() === 'wasm' &&
  flat.rank === 2 && codebook.rank === 2 && flat.shape[1] === codebook.shape[1] && flat.size > 0 && codebook.size > 0 &&
  flat.dtype === 'float32' && codebook.dtype === 'float32'

/**
 * The nearest code of each row of `flat` [N, D] in `codebook` [K, D] (int32 [N]):
 * argmin_k ‖z‖² − 2 z·e_k + ‖e_k‖² (the first of equal distances), the cross term one plain product
 * with the codebook transposed explicitly (wasm's transposed matMul flags are slow).
 * Not differentiable (an argmin); callers detach the inputs.
 *
 * @example nearestCodes(tf.tensor2d([[0.9, 0]]), tf.tensor2d([[0, 0], [1, 0]]))   // [1]
 */
export const nearestCodes = (flat: tf.Tensor, codebook: tf.Tensor): tf.Tensor =>
  native(flat, codebook) ? tf.engine().runKernel(NEAREST_CODES_KERNEL, { x: flat, codebook }) as tf.Tensor : nearestCodesComposite(flat, codebook)

/**
 * {@link nearestCodes} as tfjs ops on any backend: what the native kernel reproduces.
 *
 * @example nearestCodesComposite(tf.tensor2d([[0.9, 0]]), tf.tensor2d([[0, 0], [1, 0]]))   // [1]
 */
export const nearestCodesComposite = (flat: tf.Tensor, codebook: tf.Tensor): tf.Tensor => tf.tidy(() => {
  const zz = tf.sum(tf.square(flat), 1, true)
  const ee = tf.sum(tf.square(codebook), 1)
  const cross = tf.matMul(flat, tf.transpose(codebook))
  return tf.argMin(tf.add(tf.sub(zz, tf.mul(2, cross)), ee), 1)
})

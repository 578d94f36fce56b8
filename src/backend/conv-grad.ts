/**
 * The filter gradient of 2-D convolutions where the backend has no
 * `Conv2DBackpropFilter` kernel (tfjs-backend-wasm 4.22 lacks it, so conv nets
 * cannot train there). We wrap tfjs's own gradients of `Conv2D` and
 * `Conv2DBackpropInput` (conv2dTranspose) and, only when that kernel is
 * missing, compute the filter gradient by im2col from ops every backend has:
 *   dW[i, j, c, o] = Σ_{b,h,w} x̃[b, h·s + i, w·s + j, c] · dy[b, h, w, o]   (x̃ = x padded)
 * as one product (patchesᵀ · dy), patches built from strided slices.
 */
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs'

type Attrs = { strides: number | [number, number]; pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' }

/** dW for x [B, H, W, Ci], dy [B, Ho, Wo, Co] and a filter of shape [kh, kw, Ci, Co] (NHWC, no dilation). */
const im2colFilterGrad = (x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: readonly number[], attrs: Attrs): tf.Tensor4D => {
  const [kh, kw, ci, co] = filterShape as [number, number, number, number]
  const info = tf.backend_util.computeConv2DInfo(x.shape, [kh, kw, ci, co], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode)
  const { top, bottom, left, right } = info.padInfo
  const [b, ho, wo] = [x.shape[0], info.outHeight, info.outWidth]
  const [sh, sw] = [info.strideHeight, info.strideWidth]
  const padded = tf.pad(x, [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]])
  const slices: tf.Tensor[] = []
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      slices.push(tf.stridedSlice(padded, [0, i, j, 0], [b, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, ci], [1, sh, sw, 1]))
    }
  }
  const patches = tf.reshape(tf.concat(slices, 3), [b * ho * wo, kh * kw * ci])
  // An explicit transpose then a plain product: wasm's transposed matMul is a slow scalar loop.
  const dw = tf.matMul(tf.transpose(patches), tf.reshape(dy, [b * ho * wo, co]))
  return tf.reshape(dw, [kh, kw, ci, co])
}

const missing = (): boolean => tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined

/** Wraps a registered gradient so that its `filter` entry uses im2col where the kernel is missing. */
const patch = (kernelName: 'Conv2D' | 'Conv2DBackpropInput', filterGrad: (dy: tf.Tensor, saved: tf.Tensor[], attrs: Attrs) => tf.Tensor): void => {
  const original = tf.getGradient(kernelName)
  if (original === undefined) return
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const grads = original.gradFunc(dy, saved, attrs)
      return missing() ? { ...grads, filter: () => filterGrad(dy as tf.Tensor, saved, attrs as unknown as Attrs) } : grads
    },
  })
}

// y = conv2d(x, W): dW from (x, dy).
patch('Conv2D', (dy, [x, w], attrs) => im2colFilterGrad(x as tf.Tensor4D, dy as tf.Tensor4D, w!.shape, attrs))
// y = conv2dTranspose(z, W) = Conv2DBackpropInput(z, W): dW from (upstream gradient, z).
patch('Conv2DBackpropInput', (ddx, [z, w], attrs) => im2colFilterGrad(ddx as tf.Tensor4D, z as tf.Tensor4D, w!.shape, attrs))

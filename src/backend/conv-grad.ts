/**
 * Fast 2-D convolution gradients and transposed convolution where the backend
 * is slow or incomplete (tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter`
 * kernel, and its `Conv2DBackpropInput` is a scalar loop ≈ 10× slower than its
 * XNNPACK `Conv2D`). Both are rewritten as ordinary `Conv2D`s (NHWC, no dilation
 * in the original convolution):
 *   filter gradient  dW[i, j, c, o] = Σ_{b,h,w} x̃[b, h·s + i, w·s + j, c] · dy[b, h, w, o]
 *     = conv2d(x̃ as [C, H, W, B], dy as a [Ho, Wo, B, O] filter, stride 1, dilation s);
 *   input gradient   dx = conv2d(dy zero-upsampled by s and padded by k − 1 − pad, W flipped, stride 1).
 * tfjs's gradients of `Conv2D` and `Conv2DBackpropInput` are wrapped so that the
 * filter gradient uses this where the kernel is missing, and the input gradient on wasm.
 */
import * as tf from '@tensorflow/tfjs-core'
import '#tfjs-gradients' // tfjs's Conv2D gradients, wrapped below (package.json "imports")
import { nativeConvActive } from './kernels/native/conv.js'

type Attrs = { strides: number | [number, number]; pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil'; dilations?: number | [number, number] }

const convInfo = (xShape: readonly number[], filterShape: readonly number[], attrs: Attrs) =>
  tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode)

/** out[b, r, q, c] = x[b, r − top, q − left, c] (zero outside x), for r < h, q < w. */
const placeAt = (x: tf.Tensor4D, top: number, left: number, h: number, w: number): tf.Tensor4D => {
  const [, xh, xw] = x.shape
  const padded = tf.pad(x, [[0, 0], [Math.max(top, 0), Math.max(0, h - top - xh)], [Math.max(left, 0), Math.max(0, w - left - xw)], [0, 0]])
  const [pt, pl] = [Math.max(-top, 0), Math.max(-left, 0)]
  return pt === 0 && pl === 0 && padded.shape[1] === h && padded.shape[2] === w ? padded : tf.slice(padded, [0, pt, pl, 0], [-1, h, w, -1])
}

/**
 * dy [B, H, W, C] with s − 1 zeros after every element along H and W: [B, H·sh, W·sw, C].
 * Built as a rank-4 pad of [B·H, 1, W, C] to [B·H, sh, W, sw·C] (the same memory as the result):
 * wasm slices rank ≤ 4 by rows but higher ranks element by element, and the pad's gradient is a slice.
 */
const upsampleWithZeros = (dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D => {
  if (sh === 1 && sw === 1) return dy
  const [b, h, w, c] = dy.shape
  const spread = tf.pad(tf.reshape(dy, [b * h, 1, w, c]), [[0, 0], [0, sh - 1], [0, 0], [0, (sw - 1) * c]])
  return tf.reshape(spread, [b, h * sh, w * sw, c])
}

/**
 * The filter gradient of y = conv2d(x, W) for upstream `dy`, as one dilated convolution.
 *
 * @example const dW = filterGradByConv(x, dy, [3, 3, 1, 32], { strides: 2, pad: 'same' })
 */
export const filterGradByConv = (x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: readonly number[], attrs: Attrs): tf.Tensor4D => tf.tidy(() => {
  const [kh, kw] = filterShape as [number, number, number, number]
  const info = convInfo(x.shape, filterShape, attrs)
  const [sh, sw] = [info.strideHeight, info.strideWidth]
  const padded = placeAt(x, info.padInfo.top, info.padInfo.left, (info.outHeight - 1) * sh + kh, (info.outWidth - 1) * sw + kw)
  const byChannel = tf.transpose(padded, [3, 1, 2, 0]) as tf.Tensor4D   // [C, H̃, W̃, B]
  const asFilter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D        // [Ho, Wo, B, O]
  const out = tf.conv2d(byChannel, asFilter, 1, 'valid', 'NHWC', [sh, sw])   // [C, kh, kw, O]
  return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D
})

/**
 * The input gradient of y = conv2d(x, W) (x of shape `inShape`) for upstream `dy` — which is
 * also conv2dTranspose(dy, W) — as one stride-1 convolution of the zero-upsampled `dy`.
 *
 * @example const dx = inputGradByConv(dy, w, [64, 28, 28, 1], { strides: 2, pad: 'same' })
 */
export const inputGradByConv = (dy: tf.Tensor4D, filter: tf.Tensor4D, inShape: readonly number[], attrs: Attrs): tf.Tensor4D => tf.tidy(() => {
  const [kh, kw] = filter.shape
  const [, h, w] = inShape as [number, number, number, number]
  const info = convInfo(inShape, filter.shape, attrs)
  const up = upsampleWithZeros(dy, info.strideHeight, info.strideWidth)
  const framed = placeAt(up, kh - 1 - info.padInfo.top, kw - 1 - info.padInfo.left, h + kh - 1, w + kw - 1)
  const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D   // [kh, kw, O, C]
  return tf.conv2d(framed, flipped, 1, 'valid')
})

const onWasm = (): boolean => tf.getBackend() === 'wasm'
const filterKernelMissing = (): boolean => tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined
const undilated = (attrs: Attrs): boolean => attrs.dilations === undefined || attrs.dilations === 1 ||
  (Array.isArray(attrs.dilations) && attrs.dilations[0] === 1 && attrs.dilations[1] === 1)

/**
 * conv2dTranspose(x, filter) — on stock wasm as a stride-1 convolution of the zero-upsampled input
 * (differentiable through ordinary ops: stock wasm's Conv2DBackpropInput misreads some paddings),
 * elsewhere, and with the accelerator's native convolutions, tfjs's own (Conv2DBackpropInput).
 *
 * @example const y = conv2dTranspose(h, k, [n, 14, 14, 32], 2, 'same')
 */
export const conv2dTranspose = (x: tf.Tensor4D, filter: tf.Tensor4D, outShape: [number, number, number, number], strides: number | [number, number], pad: 'same' | 'valid'): tf.Tensor4D =>
  onWasm() && !nativeConvActive() ? inputGradByConv(x, filter, outShape, { strides, pad }) : tf.conv2dTranspose(x, filter, outShape, strides, pad)

type Grads = Record<string, () => tf.Tensor>

/** Wraps a registered gradient, replacing some of its entries. */
const patch = (kernelName: 'Conv2D' | 'Conv2DBackpropInput', replace: (grads: Grads, dy: tf.Tensor4D, saved: tf.Tensor[], attrs: Attrs) => Grads): void => {
  const original = tf.getGradient(kernelName)
  if (original === undefined) return
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const grads = original.gradFunc(dy, saved, attrs) as Grads
      const a = attrs as unknown as Attrs
      return undilated(a) ? replace(grads, dy as tf.Tensor4D, saved, a) : grads
    },
  })
}

// y = conv2d(x, W): dW from (x, dy); dx from (dy, W).
patch('Conv2D', (grads, dy, [x, w], attrs) => ({
  ...grads,
  ...(filterKernelMissing() ? { filter: () => filterGradByConv(x as tf.Tensor4D, dy, w!.shape, attrs) } : {}),
  ...(onWasm() ? { x: () => inputGradByConv(dy, w as tf.Tensor4D, x!.shape, attrs) } : {}),
}))
// y = conv2dTranspose(z, W) = Conv2DBackpropInput(z, W): dW from (upstream gradient, z).
patch('Conv2DBackpropInput', (grads, ddx, [z, w], attrs) =>
  filterKernelMissing() ? { ...grads, filter: () => filterGradByConv(ddx, z as tf.Tensor4D, w!.shape, attrs) } : grads)

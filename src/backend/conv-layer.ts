/**
 * The convolution layer y = act(conv(x, W) + b) — or with the transposed convolution — as one op: with the
 * native accelerator on wasm it is one fused kernel forward and 2–4 backward (dpre for ReLU, db, dW, and
 * dx when x needs a gradient; `kernels/native/conv-layer.ts`); everywhere else it is the composite `add(conv2d(x, W), b)` (or
 * `conv2dTranspose`) followed by the activation, exactly as the models wrote it before. Same values either
 * way (forward bit-identical on the accelerator; gradients to float32 rounding, test/backend/conv-layer.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core'
import { ShapeError, showShape } from '../errors.js'
import { conv2dTranspose } from './conv-grad.js'
import { CONV_LAYER_KERNEL, convLayerPlan, nativeConvLayerActive } from './kernels/native/conv-layer.js'
import type { ConvActivation, ConvLayerAttrs } from './kernels/native/conv-layer.js'

export type { ConvActivation } from './kernels/native/conv-layer.js'

/** How a convolution layer convolves (NHWC, dilation 1). */
export interface ConvLayerOptions {
  readonly strides: number | [number, number]
  readonly pad: 'same' | 'valid'
  /** After the bias: 'relu' or 'linear' (default). */
  readonly activation?: ConvActivation
  /** A transposed convolution to this output shape [b, h, w, c] (filter [kh, kw, c, o], x [b, oh, ow, o]). */
  readonly transpose?: readonly [number, number, number, number]
}

/** [h, w] of the convolution of an input of spatial size `inShape` (what conv2d would return). */
const outSpatial = (inShape: readonly number[], filter: tf.Tensor, o: ConvLayerOptions): [number, number] => {
  const info = tf.backend_util.computeConv2DInfo(inShape as [number, number, number, number], filter.shape as [number, number, number, number], o.strides, 1, o.pad)
  return [info.outHeight, info.outWidth]
}

/** Throws a ShapeError naming the operand unless x, filter, bias (and the transposed output shape) fit together. */
const checkShapes = (x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor, o: ConvLayerOptions): void => {
  const fail = (what: string): never => {
    throw new ShapeError(`convLayer: ${what}; got x ${showShape(x.shape)}, filter ${showShape(filter.shape)}, bias ${showShape(bias.shape)}${o.transpose === undefined ? '' : `, transpose ${showShape(o.transpose)}`}`)
  }
  if (x.rank !== 4 || filter.rank !== 4 || bias.rank !== 1) fail('expected x [b, h, w, c], filter [kh, kw, in, out] and bias [channels]')
  const [, , fin, fout] = filter.shape as number[]
  if (o.transpose === undefined) {
    if (x.shape[3] !== fin) fail(`x has ${x.shape[3]} channels, the filter takes ${fin}`)
    if (bias.shape[0] !== fout) fail(`bias must have the filter's ${fout} output channels`)
    return
  }
  const t = o.transpose
  if (t.length !== 4 || t[0] !== x.shape[0] || t[3] !== fin) fail(`transpose must be [${x.shape[0]}, h, w, ${fin}] (x's batch, the filter's input channels)`)
  if (x.shape[3] !== fout) fail(`a transposed convolution's x has the filter's ${fout} output channels, not ${x.shape[3]}`)
  if (bias.shape[0] !== fin) fail(`bias must have the transposed output's ${fin} channels`)
  const [h, w] = outSpatial(t, filter, o)
  if (h !== x.shape[1] || w !== x.shape[2]) fail(`x must be ${h}×${w}: what convolving the ${t[1]}×${t[2]} output gives`)
}

/**
 * A convolution layer: act(conv2d(x, filter) + bias), or with `transpose` set act(conv2dTranspose(x,
 * filter, transpose) + bias); NHWC, dilation 1, `activation` 'relu' or 'linear' (default).
 *   y[b, p, q, o] = act(bias[o] + Σ_{i, j, c} x[b, p·sh − pt + i, q·sw − pl + j, c] · filter[i, j, c, o])
 *
 * @example
 * const h = convLayer(images, k1, b1, { strides: 2, pad: 'same', activation: 'relu' })            // [n, 28, 28, 1] → [n, 14, 14, 32]
 * const up = convLayer(h, k2, b2, { strides: 2, pad: 'same', transpose: [n, 28, 28, 1] })          // k2 [3, 3, 1, 32]: [n, 14, 14, 32] → [n, 28, 28, 1]
 */
export const convLayer = (x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, opts: ConvLayerOptions): tf.Tensor4D => {
  checkShapes(x, filter, bias, opts)
  const activation = opts.activation ?? 'linear'
  const attrs: ConvLayerAttrs = { strides: opts.strides, pad: opts.pad, dataFormat: 'NHWC', dilations: 1, activation, ...(opts.transpose === undefined ? {} : { inputShape: opts.transpose }) }
  const fused = nativeConvLayerActive() && [x, filter, bias].every((t) => t.dtype === 'float32') && convLayerPlan(x.shape, filter.shape, attrs) !== undefined
  if (fused) return tf.engine().runKernel(CONV_LAYER_KERNEL, { x, filter, bias }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D
  const conv = opts.transpose === undefined ? tf.conv2d(x, filter, opts.strides, opts.pad) : conv2dTranspose(x, filter, [...opts.transpose], opts.strides, opts.pad)
  const pre = tf.add(conv, bias) as tf.Tensor4D
  return activation === 'relu' ? tf.relu(pre) : pre
}

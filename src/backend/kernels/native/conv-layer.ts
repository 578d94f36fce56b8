/**
 * A convolution layer as few native launches (the accelerator only; `native/conv.c`'s `convLayer`):
 *   forward  `TfpplConvLayer`     y = act(conv(x, W) + b), or act(conv2dTranspose(x, W) + b) — the
 *                                 convolution by im2col + sgemm, bias and activation applied to each block
 *                                 of output rows right after its product (one pass, no extra tensor)
 *   backward `TfpplConvLayerPre`  dpre = dy ⊙ act′(y) once, from the output (relu′ = [y > 0]; dy itself
 *                                 when linear), then db = Σ_{b,h,w} dpre (the native `Sum` over leading
 *                                 dims), and dx, dW by the native convolution kernels (`./conv.ts`).
 * Against the composite conv + `Add` + `Relu` (the bias add, the activation, and backward `Step`, `Multiply`,
 * their saved-tensor clones and reshapes) this saves ≈ 7 launches per layer and step: the conv VAE step
 * goes from 166 to 138 launches, the VQ-VAE step from 336 to 296; backward it is dpre, dW, db and dx.
 * The forward pass does the same float32 operations as the composite's three kernels: bit-identical.
 * The op that chooses between this and the composite: `../../conv-layer.ts`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { heapBuffer, heapOffset } from '../heap.js'
import type { KernelFn, KernelInfo as Info, WasmHeapBackend } from '../heap.js'
import { kernelState } from '../state.js'
import type { NativeAddon } from './addon.js'
import { CONV_FILTER_KERNEL, convPlan, nativeConvActive } from './conv.js'
import type { ConvPlan } from './conv.js'
import { DENSE_ACTIVATIONS } from './dense.js'
import { BackendError } from '../../../errors.js'

/** The forward kernel's name (inputs x, filter, bias; attributes {@link ConvLayerAttrs}). */
export const CONV_LAYER_KERNEL = 'TfpplConvLayer'
/** The backward kernel's name: dpre = dy ⊙ act′(y) (inputs dy, y; attribute `activation`). */
export const CONV_LAYER_PRE_KERNEL = 'TfpplConvLayerPre'

/** The activations the fused layer computes, as the addon's codes (dense's: 0 linear, 2 relu). */
export const CONV_LAYER_ACTIVATIONS = { linear: DENSE_ACTIVATIONS.linear, relu: DENSE_ACTIVATIONS.relu } as const
/** An activation of a convolution layer. */
export type ConvActivation = keyof typeof CONV_LAYER_ACTIVATIONS

/**
 * The layer's attributes: tfjs's convolution attributes, the activation, and for a transposed
 * convolution `inputShape` — its output shape, named as in tfjs's `Conv2DBackpropInput`.
 *
 * @example const attrs: ConvLayerAttrs = { strides: 2, pad: 'same', dataFormat: 'NHWC', dilations: 1, activation: 'relu' }
 */
export interface ConvLayerAttrs {
  readonly strides: number | [number, number]
  readonly pad: 'same' | 'valid'
  readonly dataFormat: 'NHWC'
  readonly dilations: 1
  readonly activation: ConvActivation
  readonly inputShape?: readonly [number, number, number, number]
}

type LayerAddon = NativeAddon & { readonly convLayer: NonNullable<NativeAddon['convLayer']> }

/**
 * The convolution of a layer call as the addon runs it, or undefined when the fused path does not cover it.
 * Plain: x is the convolution's input. Transposed: x is its output (dy's shape), `inputShape` its input.
 *
 * @example convLayerPlan([128, 7, 7, 64], [3, 3, 32, 64], { ...attrs, inputShape: [128, 14, 14, 32] })?.xShape   // [128, 14, 14, 32]
 */
export const convLayerPlan = (xShape: readonly number[], wShape: readonly number[], attrs: ConvLayerAttrs): ConvPlan | undefined => {
  const raw = attrs as unknown as Record<string, unknown>
  if (attrs.inputShape === undefined) return convPlan(xShape, wShape, raw)
  const plan = convPlan(attrs.inputShape, wShape, raw)
  return plan !== undefined && plan.yShape.every((d, i) => d === xShape[i]) && xShape.length === 4 ? plan : undefined
}

/**
 * Whether the fused layer runs now: its kernels registered (an addon with `convLayer`) and the native
 * convolutions active (accelerator on, wasm the backend).
 *
 * @example if (nativeConvLayerActive()) console.log('TfpplConvLayer')
 */
export const nativeConvLayerActive = (): boolean => kernelState.registered.has('conv-layer') && nativeConvActive()

const layerKernel = (addon: LayerAddon): KernelFn => ({ inputs, backend: raw, attrs }) => {
  const { x, filter, bias } = inputs as { x: Info; filter: Info; bias: Info }
  const a = attrs as unknown as ConvLayerAttrs, backend = raw as WasmHeapBackend
  const plan = convLayerPlan(x.shape, filter.shape, a), transpose = a.inputShape !== undefined
  const outShape = plan === undefined ? undefined : transpose ? plan.xShape : plan.yShape
  if (plan === undefined || outShape === undefined || bias.shape.length !== 1 || bias.shape[0] !== outShape[3] || [x, filter, bias].some((t) => t.dtype !== 'float32')) {
    throw new BackendError(`${CONV_LAYER_KERNEL}: x ${JSON.stringify(x.shape)}, filter ${JSON.stringify(filter.shape)} and bias ${JSON.stringify(bias.shape)} are not a float32 NHWC convolution layer it computes`)
  }
  const out = backend.makeOutput([...outShape], 'float32')   // first: it may grow the heap
  addon.convLayer(transpose ? 1 : 0, heapBuffer(backend), ...plan.geom, CONV_LAYER_ACTIVATIONS[a.activation],
    heapOffset(backend, x), heapOffset(backend, filter), heapOffset(backend, bias), heapOffset(backend, out))
  return out
}

/** dpre = dy ⊙ act′(y) by the dense gradient's C loop (`denseGrad` 3) over y as [size / channels, channels]. */
const preKernel = (addon: NativeAddon): KernelFn => ({ inputs, backend: raw, attrs }) => {
  const { dy, y } = inputs as { dy: Info; y: Info }
  const backend = raw as WasmHeapBackend
  const n = y.shape[y.shape.length - 1]!, m = tf.util.sizeFromShape(y.shape) / n
  const out = backend.makeOutput([...y.shape], 'float32')
  const act = CONV_LAYER_ACTIVATIONS[attrs?.['activation'] as ConvActivation]
  addon.denseGrad(heapBuffer(backend), 3, m, n, 1, act, heapOffset(backend, dy), heapOffset(backend, y), heapOffset(backend, y), heapOffset(backend, out))
  return out
}

const runKernel = (name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor

/**
 * The gradient of `TfpplConvLayer`: dpre once, then per input tfjs asks for (x only when it needs one):
 *   plain       dx = Conv2DBackpropInput(dpre, W),  dW = col(x)ᵀ·dpre
 *   transposed  dx = Conv2D(dpre, W),               dW = col(dpre)ᵀ·x
 *   both        db = Σ_{b,h,w} dpre
 */
const layerGradient: tf.GradConfig = {
  kernelName: CONV_LAYER_KERNEL,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, raw) => {
    const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]
    const a = raw as unknown as ConvLayerAttrs
    const pre = a.activation === 'linear' ? dy as tf.Tensor : runKernel(CONV_LAYER_PRE_KERNEL, { dy: dy as tf.Tensor, y }, { activation: a.activation })
    const conv = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dilations: 1 }
    const bias = (): tf.Tensor => tf.sum(pre, [0, 1, 2])
    if (a.inputShape !== undefined) {
      return { x: () => runKernel('Conv2D', { x: pre, filter }, conv), filter: () => runKernel(CONV_FILTER_KERNEL, { x: pre, dy: x }, { ...conv, filterShape: filter.shape }), bias }
    }
    return {
      x: () => runKernel('Conv2DBackpropInput', { dy: pre, filter }, { ...conv, inputShape: x.shape }),
      filter: () => runKernel(CONV_FILTER_KERNEL, { x, dy: pre }, { ...conv, filterShape: filter.shape }),
      bias,
    }
  },
}

/**
 * Registers the two kernels on the wasm backend and the forward kernel's gradient (idempotent; nothing
 * when the addon predates `convLayer`). Used only while the native convolutions are active (`convLayer` checks).
 *
 * @example
 * registerNativeConvLayer(addon)   // inside register.ts's installNativeKernels
 */
export const registerNativeConvLayer = (addon: NativeAddon): void => {
  if (kernelState.registered.has('conv-layer') || typeof addon.convLayer !== 'function') return
  kernelState.registered.add('conv-layer')
  tf.registerKernel({ kernelName: CONV_LAYER_KERNEL, backendName: 'wasm', kernelFunc: layerKernel(addon as LayerAddon) as unknown as tf.KernelFunc })
  tf.registerKernel({ kernelName: CONV_LAYER_PRE_KERNEL, backendName: 'wasm', kernelFunc: preKernel(addon) as unknown as tf.KernelFunc })
  tf.registerGradient(layerGradient)
}

/**
 * 2-D convolutions on the native accelerator (`native/conv.c`: im2col / col2im into OpenBLAS sgemm,
 * zero-copy on the wasm heap), for NHWC float32, any stride, padding 'same' / 'valid' / a number /
 * explicit, dilation 1:
 *   `Conv2D`                     y  = col(x) · W
 *   `Conv2DBackpropInput`        dx = col⁻¹(dy · Wᵀ)     (also conv2dTranspose's forward)
 *   `TfpplConv2DBackpropFilter`  dW = col(x)ᵀ · dy       (tfjs-wasm 4.22 has no Conv2DBackpropFilter)
 * with col(x) the [b·oh·ow, kh·kw·c] matrix of input patches. The first two replace the wasm kernels
 * (anything else — dilation, NCHW, another dtype, empty — goes to the kernel they replaced); the gradients
 * of `Conv2D` and `Conv2DBackpropInput` use the three while they are installed, and the previous
 * gradients (`../../conv-grad.ts`: XNNPACK convolutions) otherwise. Each kernel allocates its output first
 * (which may grow the wasm memory), then takes the heap's current buffer; C checks every operand's
 * bounds against it. Bias and activation fused into the convolution: `./conv-layer.ts` (the models' layers).
 */
import * as tf from '@tensorflow/tfjs-core'
import { heapBuffer, heapOffset } from '../heap.js'
import type { KernelFn, KernelInfo as Info, ReplaceKernel, WasmHeapBackend } from '../heap.js'
import { kernelState } from '../state.js'
import type { NativeAddon } from './addon.js'
import { BackendError, sameShape } from '../../../errors.js'

/**
 * The filter gradient's kernel name (inputs x, dy; attributes as tfjs's `Conv2DBackpropFilter`, `filterShape` included).
 *   dW[i, j, c, o] = Σ_{b, p, q} x[b, p·sh − pt + i, q·sw − pl + j, c] · dy[b, p, q, o]
 *
 * @example tf.engine().runKernel(CONV_FILTER_KERNEL, { x, dy }, { strides: 2, pad: 'same', filterShape: [3, 3, 1, 32] })
 */
export const CONV_FILTER_KERNEL = 'TfpplConv2DBackpropFilter'

/**
 * The kernels run natively while installed (what a status line lists):
 *   y = col(x)·W,  dx = col⁻¹(dy·Wᵀ),  dW = col(x)ᵀ·dy
 *
 * @example NATIVE_CONV_KERNELS.join(', ')   // 'Conv2D, Conv2DBackpropInput, TfpplConv2DBackpropFilter'
 */
export const NATIVE_CONV_KERNELS: readonly string[] = ['Conv2D', 'Conv2DBackpropInput', CONV_FILTER_KERNEL]

/**
 * The addon's convolution (native/conv.c): `which` 0 forward, 1 input gradient, 2 filter gradient; then
 * b, h, w, c, kh, kw, o, oh, ow, sh, sw, pt, pl, and the byte offsets of its two operands and its output.
 */
type ConvFn = (which: number, heap: ArrayBuffer, ...sizesThenOffsets: number[]) => void
type ConvAddon = NativeAddon & { readonly conv?: ConvFn }

/** The attributes of tfjs's three convolution kernels (a superset). */
interface ConvAttrs {
  readonly strides: number | [number, number]
  readonly pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding
  readonly dataFormat?: 'NHWC' | 'NCHW'
  readonly dilations?: number | [number, number]
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil'
}

type Shape4 = [number, number, number, number]

/**
 * A convolution as the addon runs it: the 13 sizes it takes (b, h, w, c, kh, kw, o, oh, ow, sh, sw, pt, pl)
 * and the shapes of x [b, h, w, c], W [kh, kw, c, o] and y [b, oh, ow, o].
 *
 * @example const { yShape } = convPlan([128, 28, 28, 1], [3, 3, 1, 32], { strides: 2, pad: 'same' })!   // [128, 14, 14, 32]
 */
export interface ConvPlan { readonly geom: readonly number[]; readonly xShape: Shape4; readonly yShape: Shape4; readonly wShape: Shape4 }

const isShape4 = (s: readonly number[]): s is Shape4 => s.length === 4 && s.every((d) => Number.isInteger(d) && d >= 1)

/**
 * The plans met so far by shapes and attributes: a model's few convolutions recur every step, and
 * tfjs's `computeConv2DInfo` costs more than a look-up. Bounded (cleared when full).
 */
const plans = new Map<string, ConvPlan | undefined>()
const MAX_PLANS = 256

/**
 * The convolution of x [b, h, w, c] by W [kh, kw, c, o] under tfjs's kernel attributes, as the addon runs it, or
 * undefined when the native path does not cover it (NCHW, dilation > 1, channels that disagree, an empty output):
 *   y[b, p, q, o] = Σ_{i, j, c} x[b, p·sh − pt + i, q·sw − pl + j, c] · W[i, j, c, o]   (x = 0 outside)
 *
 * @example convPlan([128, 14, 14, 32], [3, 3, 32, 64], { strides: 2, pad: 'same' })?.geom   // [128, 14, 14, 32, 3, 3, 64, 7, 7, 2, 2, 0, 0]
 */
export const convPlan = (xShape: readonly number[], wShape: readonly number[], raw: Record<string, unknown> | undefined): ConvPlan | undefined => {
  const attrs = raw as unknown as ConvAttrs | undefined
  if (attrs === undefined || !isShape4(xShape) || !isShape4(wShape) || xShape[3] !== wShape[2]) return undefined
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return undefined
  const key = `${xShape}|${wShape}|${JSON.stringify(attrs.strides)}|${JSON.stringify(attrs.pad)}|${JSON.stringify(attrs.dilations ?? 1)}|${attrs.dimRoundingMode}`
  if (plans.has(key)) return plans.get(key)
  if (plans.size >= MAX_PLANS) plans.clear()
  const plan = planFor(xShape, wShape, attrs)
  plans.set(key, plan)
  return plan
}

/** {@link convPlan}'s computation, for shapes already checked. */
const planFor = (xShape: Shape4, wShape: Shape4, attrs: ConvAttrs): ConvPlan | undefined => {
  let info: tf.backend_util.Conv2DInfo
  try {
    info = tf.backend_util.computeConv2DInfo(xShape, wShape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast')
  } catch { return undefined }
  const { top, left } = info.padInfo
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1 || info.outHeight < 1 || info.outWidth < 1 || top < 0 || left < 0) return undefined
  const [b, h, w, c] = xShape, [kh, kw, , o] = wShape
  const geom = [b, h, w, c, kh, kw, o, info.outHeight, info.outWidth, info.strideHeight, info.strideWidth, top, left]
  return geom.every(Number.isInteger) ? { geom, xShape: [...xShape], wShape: [...wShape], yShape: [b, info.outHeight, info.outWidth, o] } : undefined
}

/** The plan of a kernel call, from its inputs and attributes, or undefined when the native path does not cover it. */
const planOf = (which: 0 | 1 | 2, inputs: Record<string, Info>, attrs: Record<string, unknown> | undefined): ConvPlan | undefined => {
  const { x, dy, filter } = inputs as { x?: Info; dy?: Info; filter?: Info }
  const used = which === 0 ? [x, filter] : which === 1 ? [dy, filter] : [x, dy]
  if (used.some((t) => t === undefined || t.dtype !== 'float32')) return undefined
  const plan = which === 0 ? convPlan(x!.shape, filter!.shape, attrs)
    : which === 1 ? convPlan(attrs?.['inputShape'] as number[] ?? [], filter!.shape, attrs)
      : convPlan(x!.shape, attrs?.['filterShape'] as number[] ?? [], attrs)
  return plan === undefined || (which !== 0 && !sameShape(dy!.shape, plan.yShape)) ? undefined : plan
}

/** Runs `which` on the addon: output allocated first, then the heap's buffer taken (the allocation may have grown it). */
const run = (conv: ConvFn, which: 0 | 1 | 2, backend: WasmHeapBackend, plan: ConvPlan, a: Info, b: Info): Info => {
  const out = backend.makeOutput([...(which === 0 ? plan.yShape : which === 1 ? plan.xShape : plan.wShape)], 'float32')
  conv(which, heapBuffer(backend), ...plan.geom, heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, out))
  return out
}

/**
 * Whether the native convolutions are installed and the wasm backend is the current one; the gradients
 * of `Conv2D` and `Conv2DBackpropInput` take the native path only then.
 *
 * @example if (nativeConvActive()) console.log('Conv2D: im2col + sgemm')
 */
export const nativeConvActive = (): boolean => {
  const stock = kernelState.convStock
  const current = stock === undefined || tf.getBackend() !== 'wasm' ? undefined : tf.getKernel('Conv2D', 'wasm')?.kernelFunc
  return current !== undefined && current !== (stock as unknown as tf.KernelFunc)
}

/** A replacement for `Conv2D` (0) or `Conv2DBackpropInput` (1) that hands what it does not cover to `fallback`. */
const replacement = (conv: ConvFn, which: 0 | 1) => (fallback: KernelFn): KernelFn => (args) => {
  const plan = planOf(which, args.inputs, args.attrs)
  if (plan === undefined) return fallback(args)
  const { x, dy, filter } = args.inputs
  return run(conv, which, args.backend as WasmHeapBackend, plan, which === 0 ? x! : dy!, filter!)
}

/** The filter gradient's kernel (no original to fall back to: the gradients below call it only for what it covers). */
const filterKernel = (conv: ConvFn): KernelFn => (args) => {
  const plan = planOf(2, args.inputs, args.attrs)
  const { x, dy } = args.inputs
  if (plan === undefined) {
    throw new BackendError(`${CONV_FILTER_KERNEL}: x ${JSON.stringify(x?.shape)} and dy ${JSON.stringify(dy?.shape)} are not an NHWC float32 convolution with dilation 1 it computes`)
  }
  return run(conv, 2, args.backend as WasmHeapBackend, plan, x!, dy!)
}

const runKernel = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown>): tf.Tensor =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor

/** y = conv2d(x, W): dx = Conv2DBackpropInput(dy, W), dW = col(x)ᵀ·dy natively; `previous` (XNNPACK rewrites) otherwise. */
const conv2dGradient = (previous: tf.GradConfig): tf.GradConfig => ({
  ...previous,
  gradFunc: (dy, saved, attrs) => {
    const [x, w] = saved as [tf.Tensor, tf.Tensor]
    if (!nativeConvActive() || convPlan(x.shape, w.shape, attrs) === undefined) return previous.gradFunc(dy, saved, attrs)
    return {
      x: () => runKernel('Conv2DBackpropInput', { dy: dy as tf.Tensor, filter: w }, { ...attrs, inputShape: x.shape }),
      filter: () => runKernel(CONV_FILTER_KERNEL, { x, dy: dy as tf.Tensor }, { ...attrs, filterShape: w.shape }),
    }
  },
})

/** y = conv2dTranspose(z, W) = Conv2DBackpropInput(z, W): dz = conv2d(dy, W) as before; dW = col(dy)ᵀ·z natively. */
const transposeGradient = (previous: tf.GradConfig): tf.GradConfig => ({
  ...previous,
  gradFunc: (ddx, saved, attrs) => {
    const grads = previous.gradFunc(ddx, saved, attrs)
    const [z, w] = saved as [tf.Tensor, tf.Tensor], up = ddx as tf.Tensor
    if (!nativeConvActive() || convPlan(up.shape, w.shape, attrs) === undefined) return grads
    return { ...grads, filter: () => runKernel(CONV_FILTER_KERNEL, { x: up, dy: z }, { ...attrs, filterShape: w.shape }) }
  },
})

/** The filter kernel and the two gradient wrappers, once (they stay: they defer to the previous gradients when inactive). */
const registerOnce = (conv: ConvFn): void => {
  if (kernelState.registered.has('conv')) return
  kernelState.registered.add('conv')
  tf.registerKernel({ kernelName: CONV_FILTER_KERNEL, backendName: 'wasm', kernelFunc: filterKernel(conv) as unknown as tf.KernelFunc })
  for (const [name, wrap] of [['Conv2D', conv2dGradient], ['Conv2DBackpropInput', transposeGradient]] as const) {
    const previous = tf.getGradient(name)
    if (previous !== undefined) tf.registerGradient(wrap(previous))
  }
}

/**
 * Installs the native convolutions through the accelerator's `replace` (so its uninstall restores the
 * stock `Conv2D` and `Conv2DBackpropInput`); nothing when the addon predates `native/conv.c`.
 *   y = col(x)·W,  dx = col⁻¹(dy·Wᵀ),  dW = col(x)ᵀ·dy
 *
 * @example
 * installNativeConv(addon, replace)   // inside register.ts's installNativeKernels
 */
export const installNativeConv = (addon: NativeAddon, replace: ReplaceKernel): void => {
  const conv = (addon as ConvAddon).conv
  if (typeof conv !== 'function') return
  registerOnce(conv)
  replace('Conv2D', (fallback) => {
    kernelState.convStock = fallback
    return replacement(conv, 0)(fallback)
  })
  replace('Conv2DBackpropInput', replacement(conv, 1))
}

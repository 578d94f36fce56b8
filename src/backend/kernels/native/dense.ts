/**
 * A dense layer as one native kernel each way (the accelerator only):
 *   forward  `TfpplDense`     y = act(x·W + b)                      (OpenBLAS sgemm, then bias and
 *                                                                   activation in one vectorised pass)
 *   backward `TfpplDenseGrad` with dpre = dy ⊙ act′(y): dW = xᵀ·dpre, db = Σ_rows dpre, and — only
 *            when x needs a gradient — dx = dpre·Wᵀ, one launch each; for a non-linear activation
 *            dpre itself first (`input: 'pre'`), once per layer rather than once per gradient.
 * The composite `add(matMul(x, W), b)` + activation launches ≈ 18 kernels per layer and step on
 * tfjs (products, bias, activation, their saved-tensor clones and gradients); this launches 4–5.
 * act′ is computed from the output: softplus′ = σ(a) = −expm1(−y), relu′ = [y > 0], tanh′ = 1 − y².
 * C: `native/dense.c`; the op that chooses between this and the composite: `../../dense.ts`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { heapBuffer, heapOffset } from '../heap.js'
import type { KernelFn, KernelInfo as Info, WasmHeapBackend } from '../heap.js'
import { kernelState } from '../state.js'
import type { NativeAddon } from './addon.js'

/** The forward kernel's name (inputs x [m, k], w [k, n], b [n]; attribute `activation`). */
export const DENSE_KERNEL = 'TfpplDense'
/** The backward kernel's name (inputs dy, y and W or x; attribute `input`: which gradient, dx, dW or db, or 'pre' for dpre). */
export const DENSE_GRAD_KERNEL = 'TfpplDenseGrad'

/** Activation codes in the addon. */
export const DENSE_ACTIVATIONS = { linear: 0, softplus: 1, relu: 2, tanh: 3 } as const
/** An activation the native dense kernel computes. */
export type NativeDenseActivation = keyof typeof DENSE_ACTIVATIONS

const code = (attrs: Record<string, unknown> | undefined): number => DENSE_ACTIVATIONS[attrs?.['activation'] as NativeDenseActivation]

const denseKernel = (addon: NativeAddon): KernelFn => ({ inputs, backend: raw, attrs }) => {
  const { x, w, b } = inputs as { x: Info; w: Info; b: Info }
  const backend = raw as WasmHeapBackend
  const [m, k] = x.shape as [number, number], n = w.shape[1]!
  const y = backend.makeOutput([m, n], 'float32')
  addon.dense(heapBuffer(backend), m, n, k, code(attrs), heapOffset(backend, x), heapOffset(backend, w), heapOffset(backend, b), heapOffset(backend, y))
  return y
}

/** Which gradient `TfpplDenseGrad` computes, and the third input it needs: W for dx, x for dW, none for db and dpre. */
const WHICH = { x: 0, w: 1, b: 2, pre: 3 } as const

const denseGradKernel = (addon: NativeAddon): KernelFn => ({ inputs, backend: raw, attrs }) => {
  const { dy, y, other } = inputs as { dy: Info; y: Info; other: Info }
  const backend = raw as WasmHeapBackend
  const which = WHICH[attrs?.['input'] as keyof typeof WHICH]
  const [m, n] = y.shape as [number, number], k = attrs?.['k'] as number
  const out = backend.makeOutput(which === 0 ? [m, k] : which === 1 ? [k, n] : which === 2 ? [n] : [m, n], 'float32')
  addon.denseGrad(heapBuffer(backend), which, m, n, k, code(attrs), heapOffset(backend, dy), heapOffset(backend, y), heapOffset(backend, other), heapOffset(backend, out))
  return out
}

/**
 * The gradient of `TfpplDense`: dpre = dy ⊙ act′(y) once (one launch; dy itself when linear), then
 * one linear `TfpplDenseGrad` launch per input tfjs asks for (dx only when x needs a gradient — not for
 * data). Recomputing dpre per gradient cost ≈ 0.05 ms per 128×400 softplus layer and gradient.
 */
const denseGradient: tf.GradConfig = {
  kernelName: DENSE_KERNEL,
  inputsToSave: ['x', 'w'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, w, y] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]
    const k = x.shape[1]
    const pre = attrs['activation'] === 'linear' ? dy as tf.Tensor
      : tf.engine().runKernel(DENSE_GRAD_KERNEL, { dy: dy as tf.Tensor, y, other: y }, { ...attrs, input: 'pre', k }) as tf.Tensor
    const grad = (input: keyof typeof WHICH, other: tf.Tensor) => (): tf.Tensor =>
      tf.engine().runKernel(DENSE_GRAD_KERNEL, { dy: pre, y, other }, { activation: 'linear', input, k }) as tf.Tensor
    return { x: grad('x', w), w: grad('w', x), b: grad('b', y) }
  },
}

/**
 * Registers the two kernels on the wasm backend and the forward kernel's gradient (idempotent).
 * They are used only while the accelerator is installed (`dense` checks).
 *
 * @example
 * const n = loadNative(); if (n.ok) registerNativeDense(n.addon)
 */
export const registerNativeDense = (addon: NativeAddon): void => {
  if (kernelState.registered.has('dense')) return
  kernelState.registered.add('dense')
  tf.registerKernel({ kernelName: DENSE_KERNEL, backendName: 'wasm', kernelFunc: denseKernel(addon) as unknown as tf.KernelFunc })
  tf.registerKernel({ kernelName: DENSE_GRAD_KERNEL, backendName: 'wasm', kernelFunc: denseGradKernel(addon) as unknown as tf.KernelFunc })
  tf.registerGradient(denseGradient)
}

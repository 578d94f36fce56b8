/**
 * The Gamma sampler and its implicit-reparameterisation gradient as one native kernel each (the
 * accelerator only), in place of the composite tfjs ops of `../../gamma-sampler.ts` (≈ 800
 * element-wise launches per draw-and-gradient):
 *   `TfpplLogGammaSample`  log X, X ~ Gamma(α, 1), α any shape; attribute `seed` (a 32-bit
 *                          unsigned integer). Marsaglia–Tsang per element, one generator stream.
 *   `TfpplLogGammaGrad`    dy · d log z/dα from (α, log z[, dy]) by the composite's branches, in doubles.
 * Neither has a gradient of its own: the sampler runs off the tape, the gradient is the sampler's
 * backward pass. The sampler's seeded stream is its own (the same seed repeats it; it is not the
 * composite's stream). C: `native/gamma.c`; the ops that choose: `../../gamma-sampler.ts`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { BackendError } from '../../../errors.js'
import { GAMMA_TAIL_QUADRATURE } from '../../gauss-laguerre.js'
import { heapBuffer, heapOffset } from '../heap.js'
import type { KernelFn, KernelInfo as Info, WasmHeapBackend } from '../heap.js'
import { kernelState } from '../state.js'
import type { NativeAddon } from './addon.js'

/** Kernel names. */
export const LOG_GAMMA_SAMPLE_KERNEL = 'TfpplLogGammaSample'
export const LOG_GAMMA_GRAD_KERNEL = 'TfpplLogGammaGrad'

/** The quadrature nodes, then the weights, as the addon reads them. */
const QUADRATURE = Float64Array.from([...GAMMA_TAIL_QUADRATURE.nodes, ...GAMMA_TAIL_QUADRATURE.weights])

const size = (t: Info): number => tf.util.sizeFromShape(t.shape)

/** Refuses operands that are not float32 or do not hold `n` values. */
const checkOperands = (kernel: string, n: number, operands: Record<string, Info | undefined>): void => {
  for (const [name, t] of Object.entries(operands)) {
    if (t !== undefined && (t.dtype !== 'float32' || size(t) !== n)) {
      throw new BackendError(`${kernel}: input '${name}' is ${t.dtype} [${t.shape.join(', ')}]; expected float32 with ${n} values`)
    }
  }
}

const sampleKernel = (addon: NativeAddon): KernelFn => ({ inputs, backend: raw, attrs }) => {
  const { alpha } = inputs as { alpha: Info }
  const seed = attrs?.['seed']
  checkOperands(LOG_GAMMA_SAMPLE_KERNEL, size(alpha), { alpha })
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new BackendError(`${LOG_GAMMA_SAMPLE_KERNEL}: attribute seed is ${String(seed)}; expected an integer from 0 to 2^32 − 1`)
  }
  const backend = raw as WasmHeapBackend
  const out = backend.makeOutput([...alpha.shape], 'float32')
  addon.gammaLogSample(heapBuffer(backend), size(alpha), heapOffset(backend, alpha), heapOffset(backend, out), seed)
  return out
}

const gradKernel = (addon: NativeAddon): KernelFn => ({ inputs, backend: raw }) => {
  const { alpha, logZ, dy } = inputs as { alpha: Info; logZ: Info; dy?: Info }
  checkOperands(LOG_GAMMA_GRAD_KERNEL, size(alpha), { alpha, logZ, dy })
  const backend = raw as WasmHeapBackend
  const out = backend.makeOutput([...alpha.shape], 'float32')
  const offDy = dy === undefined ? 0 : heapOffset(backend, dy)
  addon.gammaLogGrad(heapBuffer(backend), size(alpha), heapOffset(backend, alpha), heapOffset(backend, logZ), offDy, dy === undefined ? 0 : 1,
    heapOffset(backend, out), QUADRATURE)
  return out
}

/**
 * Registers the two kernels on the wasm backend (idempotent); `gamma-sampler.ts` uses them only
 * while the accelerator is installed.
 *
 * @example
 * const n = loadNative(); if (n.ok) registerNativeGamma(n.addon)
 */
export const registerNativeGamma = (addon: NativeAddon): void => {
  if (kernelState.registered.has('gamma')) return
  kernelState.registered.add('gamma')
  const kernels: [string, KernelFn][] = [[LOG_GAMMA_SAMPLE_KERNEL, sampleKernel(addon)], [LOG_GAMMA_GRAD_KERNEL, gradKernel(addon)]]
  for (const [kernelName, f] of kernels) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: f as unknown as tf.KernelFunc })
}

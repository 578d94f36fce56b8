/**
 * The nearest code of each row as one native kernel (`native/nearest-codes.c`; the accelerator only):
 *   `TfpplNearestCodes`  x [n, d], codebook [k, d] → int32 [n], argmin_c (‖x‖² − 2 x·e_c) + ‖e_c‖²
 * bit-identical to the composite of `../../nearest-codes.ts` on wasm (its norms, product and rounding
 * replayed in C), which launches ≈ 9 kernels and writes the [n, k] distances three times (a VQ-VAE step:
 * 6,272 rows × 64 codes, ≈ 1 ms). Not differentiable (an argmin), like the composite.
 */
import * as tf from '@tensorflow/tfjs-core'
import { heapBuffer, heapOffset } from '../heap.js'
import type { KernelFn, KernelInfo as Info, WasmHeapBackend } from '../heap.js'
import { kernelState } from '../state.js'
import type { NativeAddon } from './addon.js'

/** The kernel's name (inputs x [n, d], codebook [k, d], float32). */
export const NEAREST_CODES_KERNEL = 'TfpplNearestCodes'

const nearestCodesKernel = (nearestCodes: NonNullable<NativeAddon['nearestCodes']>): KernelFn => ({ inputs, backend: raw }) => {
  const { x, codebook } = inputs as { x: Info; codebook: Info }
  const backend = raw as WasmHeapBackend
  const [n, d] = x.shape as [number, number], k = codebook.shape[0]!
  const out = backend.makeOutput([n], 'int32')
  nearestCodes(heapBuffer(backend), n, k, d, heapOffset(backend, x), heapOffset(backend, codebook), heapOffset(backend, out))
  return out
}

/**
 * Registers the kernel on the wasm backend (idempotent; nothing when the addon predates it). It is used
 * only while the accelerator is installed (`../../nearest-codes.ts` checks).
 *
 * @example
 * const n = loadNative(); if (n.ok) registerNativeNearestCodes(n.addon)
 */
export const registerNativeNearestCodes = (addon: NativeAddon): void => {
  if (kernelState.registered.has('nearest-codes') || addon.nearestCodes === undefined) return
  kernelState.registered.add('nearest-codes')
  tf.registerKernel({ kernelName: NEAREST_CODES_KERNEL, backendName: 'wasm', kernelFunc: nearestCodesKernel(addon.nearestCodes) as unknown as tf.KernelFunc })
}

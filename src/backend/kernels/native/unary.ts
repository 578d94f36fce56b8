/**
 * The transcendentals that pay on the native accelerator (`native/unary.c`: vectorised float32
 * exp/log and friends), elementwise over the wasm heap: y = f(x) for f in {@link NATIVE_UNARY}.
 * Each kernel allocates its output first, then takes the heap's current buffer; a non-float32
 * input goes to the kernel it replaced (for `Softplus`, tfppl's SIMD one when installed).
 */
import * as tf from '@tensorflow/tfjs-core'
import { heapBuffer, heapOffset } from '../heap.js'
import type { KernelFn as Fn, ReplaceKernel, WasmHeapBackend } from '../heap.js'
import type { NativeAddon } from './addon.js'

/** Unary kernels and their code in the addon; {@link NATIVE_UNARY} lists those installed. */
const UNARY_CODES = { Softplus: 0, Exp: 1, Log: 2, Sigmoid: 3, Tanh: 4, Sqrt: 5 } as const
/** A unary op the addon computes. */
export type NativeUnary = keyof typeof UNARY_CODES

/** The unary kernels replaced by default: those measured faster than stock wasm (bench/RESULTS.md). */
export const NATIVE_UNARY: readonly NativeUnary[] = ['Softplus', 'Exp', 'Log', 'Sigmoid', 'Tanh', 'Sqrt']

const unaryKernel = (addon: NativeAddon, code: number, fallback: Fn): Fn => (args) => {
  const x = args.inputs['x']!
  if (x.dtype !== 'float32') return fallback(args)
  const backend = args.backend as WasmHeapBackend
  const out = backend.makeOutput([...x.shape], 'float32')
  addon.unary(code, heapBuffer(backend), heapOffset(backend, x), heapOffset(backend, out), tf.util.sizeFromShape([...x.shape]))
  return out
}

/**
 * Replaces the wasm kernels `names` (default {@link NATIVE_UNARY}, in that order) through the installer's `replace`.
 *
 * @example
 * installNativeUnary(addon, replace, ['Exp', 'Log'])   // just these two
 */
export const installNativeUnary = (addon: NativeAddon, replace: ReplaceKernel, names: readonly NativeUnary[] = NATIVE_UNARY): void => {
  for (const name of names) replace(name, (fallback) => unaryKernel(addon, UNARY_CODES[name], fallback))
}

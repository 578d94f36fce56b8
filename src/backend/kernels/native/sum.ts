/**
 * `Sum` over leading dims on the native accelerator (`native/sum.c`): x viewed as [m, n] with the m
 * rows summed, out[j] = Σᵢ x[i·n + j] — the bias gradients of convolutional layers, NHWC activations
 * summed to their channels. tfjs-wasm's `Sum` first transposes the reduced dims innermost (a copy of
 * the whole activation), then sums each row in order; this sums the columns in the same order,
 * bit-identical, without the copy, when n ≥ 32. Below that one chain of m adds per column is
 * latency-bound (a 1-channel bias gradient, m = 100,352: 0.36 ms), so each column is summed in
 * ⌈32/n⌉ interleaved partial sums (0.02 ms; error bound (⌈m/R⌉ + R − 2)·2⁻²⁴·Σ|x| instead of
 * (m − 1)·2⁻²⁴·Σ|x|). Any other reduction (trailing or mixed axes, all axes, not float32, empty)
 * goes to the kernel it replaced.
 */
import * as tf from '@tensorflow/tfjs-core'
import { heapBuffer, heapOffset } from '../heap.js'
import type { KernelFn as Fn, KernelInfo as Info, ReplaceKernel, WasmHeapBackend } from '../heap.js'
import type { NativeAddon } from './addon.js'

/** How many leading dims `axis` reduces when it is exactly 0 … k − 1 with 0 < k < rank; else undefined. */
const leadingCount = (x: Info, axis: unknown): number | undefined => {
  const axes = [...tf.util.parseAxisParam(axis as number | number[], [...x.shape])].sort((a, b) => a - b)
  const k = axes.length
  return k > 0 && k < x.shape.length && axes.every((a, i) => a === i) ? k : undefined
}

const sumKernel = (addon: NativeAddon, fallback: Fn): Fn => (args) => {
  const x = args.inputs['x']!
  const k = x.dtype === 'float32' ? leadingCount(x, args.attrs?.['axis']) : undefined
  const m = tf.util.sizeFromShape(x.shape.slice(0, k)), n = tf.util.sizeFromShape(x.shape.slice(k))
  if (k === undefined || m === 0 || n === 0) return fallback(args)
  const backend = args.backend as WasmHeapBackend
  const outShape = args.attrs?.['keepDims'] === true ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k)
  const out = backend.makeOutput(outShape, 'float32')
  addon.sumLeading(heapBuffer(backend), m, n, heapOffset(backend, x), heapOffset(backend, out))
  return out
}

/**
 * Replaces the wasm `Sum` through the installer's `replace` (the original serves what this does not cover).
 *
 * @example
 * installNativeSum(addon, replace)
 */
export const installNativeSum = (addon: NativeAddon, replace: ReplaceKernel): void => {
  replace('Sum', (fallback) => sumKernel(addon, fallback))
}

/**
 * wasm kernels backed by the native accelerator: `BatchMatMul` on OpenBLAS
 * (every transpose flag, batched and broadcast-batched), the transcendentals
 * that pay, and the C version of the fused Adam update (`wasm-adam.ts`). Each kernel allocates its
 * outputs first (which may grow the wasm memory and detach the old buffer),
 * then takes the heap's current buffer, and hands C byte offsets; it never
 * writes into an input. What it does not support goes to the kernel it replaced.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { NativeAddon } from './native.js'
import { heapBuffer, heapOffset, replaceWasmKernel, restoreWasmKernel } from './wasm-kernels.js'
import type { KernelFn as Fn, KernelInfo as Info, WasmHeapBackend } from './wasm-kernels.js'
import { DENSE_KERNEL, registerNativeDense } from './native-dense.js'
import { NATIVE_CONV_KERNELS, installNativeConv } from './native-conv.js'
import { BERNOULLI_KERNEL, NORMAL_KERNEL, registerNativeDensities } from './native-densities.js'
import { useNativeCheck } from './native-check.js'
import { useNativeAdam } from './wasm-adam.js'

/** Unary kernels and their code in the addon; {@link NATIVE_UNARY} lists those installed. */
const UNARY_CODES = { Softplus: 0, Exp: 1, Log: 2, Sigmoid: 3, Tanh: 4, Sqrt: 5 } as const
/** A unary op the addon computes. */
export type NativeUnary = keyof typeof UNARY_CODES

/** The unary kernels replaced by default: those measured faster than stock wasm (bench/RESULTS.md). */
export const NATIVE_UNARY: readonly NativeUnary[] = ['Softplus', 'Exp', 'Log', 'Sigmoid', 'Tanh', 'Sqrt']

const size = (shape: readonly number[]): number => tf.util.sizeFromShape([...shape])

/** The product's layout, or undefined when the native path does not cover it (mixed broadcast, dtype, empty). */
const plan = (a: Info, b: Info, tA: boolean, tB: boolean) => {
  const ra = a.shape.length, rb = b.shape.length
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2) return undefined
  const [m, k] = tA ? [a.shape[ra - 1]!, a.shape[ra - 2]!] : [a.shape[ra - 2]!, a.shape[ra - 1]!]
  const [k2, n] = tB ? [b.shape[rb - 1]!, b.shape[rb - 2]!] : [b.shape[rb - 2]!, b.shape[rb - 1]!]
  const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2)
  if (k !== k2 || m * n * k === 0) return undefined
  let outBatch: number[]
  try { outBatch = tf.backend_util.assertAndGetBroadcastShape(batchA, batchB) } catch { return undefined }
  const batch = size(outBatch), sa = size(batchA), sb = size(batchB)
  if ((sa !== batch && sa !== 1) || (sb !== batch && sb !== 1)) return undefined
  return { m, n, k, batch, outShape: [...outBatch, m, n], strideA: sa === 1 ? 0 : m * k, strideB: sb === 1 ? 0 : k * n }
}

const matMulKernel = (addon: NativeAddon, fallback: Fn): Fn => (args) => {
  const { a, b } = args.inputs as { a: Info; b: Info }
  const tA = args.attrs?.['transposeA'] === true, tB = args.attrs?.['transposeB'] === true
  const p = plan(a, b, tA, tB)
  if (p === undefined) return fallback(args)
  const backend = args.backend as WasmHeapBackend
  const out = backend.makeOutput(p.outShape, 'float32')
  addon.gemm(heapBuffer(backend), p.batch, p.m, p.n, p.k, tA ? 1 : 0, tB ? 1 : 0, heapOffset(backend, a), p.strideA, heapOffset(backend, b), p.strideB, heapOffset(backend, out))
  return out
}

const unaryKernel = (addon: NativeAddon, code: number, fallback: Fn): Fn => (args) => {
  const x = args.inputs['x']!
  if (x.dtype !== 'float32') return fallback(args)
  const backend = args.backend as WasmHeapBackend
  const out = backend.makeOutput([...x.shape], 'float32')
  addon.unary(code, heapBuffer(backend), heapOffset(backend, x), heapOffset(backend, out), size(x.shape))
  return out
}

let originals: tf.KernelConfig[] | undefined

const replace = (name: string, make: (fallback: Fn) => Fn): void => {
  const original = replaceWasmKernel(name, make)
  if (original !== undefined) originals!.push(original)
}

/**
 * Registers the native kernels on the wasm backend (idempotent); `unary` picks the transcendentals.
 *
 * @example
 * const n = loadNative(); if (n.ok) installNativeKernels(n.addon)
 */
export const installNativeKernels = (addon: NativeAddon, unary: readonly NativeUnary[] = NATIVE_UNARY): void => {
  if (originals !== undefined) return
  originals = []
  replace('BatchMatMul', (fallback) => matMulKernel(addon, fallback))
  for (const name of unary) replace(name, (fallback) => unaryKernel(addon, UNARY_CODES[name], fallback))
  useNativeAdam(addon)
  registerNativeDense(addon)
  installNativeConv(addon, replace)
  registerNativeDensities(addon)
  useNativeCheck(addon)
}

/**
 * Puts back the kernels {@link installNativeKernels} replaced (the benchmark switches configurations in one process).
 *
 * @example
 * uninstallNativeKernels()   // stock wasm kernels again
 */
export const uninstallNativeKernels = (): void => {
  if (originals === undefined) return
  for (const k of originals) restoreWasmKernel(k)
  originals = undefined
  useNativeCheck(undefined)
  useNativeAdam(undefined)
}

/** Whether the native kernels are registered now. @example if (nativeKernelsInstalled()) { … } */
export const nativeKernelsInstalled = (): boolean => originals !== undefined

/**
 * The kernels the accelerator runs now: the stock wasm kernels it replaced (BatchMatMul, the
 * transcendentals, Conv2D, Conv2DBackpropInput) and tfppl's own (dense layers, the two log
 * densities, the filter gradient, the fused Adam update, the finite/support checks); empty when off.
 *
 * @example nativeKernels()   // ['BatchMatMul', 'Softplus', …, 'Conv2D', …, 'TfpplDense', …]
 */
export const nativeKernels = (): string[] => originals === undefined ? []
  : [...new Set([...originals.map((k) => k.kernelName), ...NATIVE_CONV_KERNELS, DENSE_KERNEL, BERNOULLI_KERNEL, NORMAL_KERNEL, 'Adam (fused update)', 'finite/support checks'])]

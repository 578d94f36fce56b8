/**
 * `BatchMatMul` on OpenBLAS (`native/batch-mat-mul.c`, cblas_sgemm): every transpose flag, batched and
 * broadcast-batched, zero-copy on the wasm heap:
 *   C_i = op(A_i) · op(B_i),  i < batch  (a batch of one operand broadcast to all)
 * The kernel allocates its output first (which may grow the wasm memory and detach the old buffer),
 * then takes the heap's current buffer and hands C byte offsets; it never writes into an input. What
 * it does not cover (another dtype, a mixed broadcast, an empty product) goes to the kernel it replaced.
 */
import * as tf from '@tensorflow/tfjs-core'
import { heapBuffer, heapOffset } from '../heap.js'
import type { KernelFn as Fn, KernelInfo as Info, ReplaceKernel, WasmHeapBackend } from '../heap.js'
import type { NativeAddon } from './addon.js'

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

/**
 * Replaces wasm's `BatchMatMul` (tfppl's wasm fast path, when installed, becomes the fallback) through
 * the installer's `replace`, which keeps the original to restore.
 *
 * @example
 * installNativeBatchMatMul(addon, replace)   // inside register.ts's installNativeKernels
 */
export const installNativeBatchMatMul = (addon: NativeAddon, replace: ReplaceKernel): void =>
  replace('BatchMatMul', (fallback) => matMulKernel(addon, fallback))

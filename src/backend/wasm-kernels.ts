/**
 * Replacing a wasm kernel while keeping the original: the one mechanism behind
 * tfppl's wasm fast paths (`wasm-matmul.ts`, `wasm-identity.ts`) and the native
 * accelerator's kernels (`native-kernels.ts`).
 */
import * as tf from '@tensorflow/tfjs-core'
import type { WasmMemory } from './wasm-asm.js'

/** A tensor as a kernel sees it. */
export type KernelInfo = tf.TensorInfo
/** A kernel function, with tensor inputs (tfjs's own type is looser). */
export type KernelFn = (args: { inputs: Record<string, KernelInfo>; backend: unknown; attrs?: Record<string, unknown> }) => KernelInfo | KernelInfo[]

/**
 * Registers `make(original)` as the wasm kernel `name` and returns the original config (to restore
 * it, or undefined when wasm has no such kernel and nothing changed).
 *
 * @example
 * const original = replaceWasmKernel('Exp', (exp) => (args) => exp(args))   // a pass-through replacement
 */
export const replaceWasmKernel = (name: string, make: (original: KernelFn) => KernelFn): tf.KernelConfig | undefined => {
  const original = tf.getKernel(name, 'wasm')
  if (original === undefined) return undefined
  tf.unregisterKernel(name, 'wasm')
  tf.registerKernel({ ...original, kernelFunc: make(original.kernelFunc as unknown as KernelFn) as unknown as tf.KernelFunc })
  return original
}

/**
 * Puts back a kernel config {@link replaceWasmKernel} returned.
 *
 * @example
 * restoreWasmKernel(original)
 */
export const restoreWasmKernel = (original: tf.KernelConfig): void => {
  tf.unregisterKernel(original.kernelName, 'wasm')
  tf.registerKernel(original)
}

/** The parts of tfjs's wasm backend a heap-level kernel touches. */
export interface WasmHeapBackend {
  readonly makeOutput: (shape: number[], dtype: tf.DataType) => KernelInfo
  readonly disposeData: (dataId: object) => unknown
  readonly dataIdMap: { get: (dataId: object) => { memoryOffset: number } | undefined }
  readonly wasm: { readonly HEAPU8: Uint8Array; readonly asm: { readonly memory: WasmMemory } }
}

/** Byte offset of a tensor's data in the wasm heap. @example addon.unary(0, heapBuffer(b), heapOffset(b, x), heapOffset(b, out), n) */
export const heapOffset = (b: WasmHeapBackend, t: KernelInfo): number => b.dataIdMap.get(t.dataId)!.memoryOffset

/** The heap's current buffer: take it only after allocating outputs (allocation may grow and detach it). @example heapBuffer(backend) */
export const heapBuffer = (b: WasmHeapBackend): ArrayBuffer => b.wasm.HEAPU8.buffer as ArrayBuffer

/** The backend's `WebAssembly.Memory` (what tfppl's SIMD kernels import). @example simdSoftplus(heapMemory(backend)) */
export const heapMemory = (b: WasmHeapBackend): WasmMemory => b.wasm.asm.memory

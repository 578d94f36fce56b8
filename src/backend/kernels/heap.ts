/**
 * What every kernel in `wasm/` and `native/` shares: replacing a wasm kernel while keeping the
 * original (the one mechanism behind tfppl's wasm fast paths and the native accelerator's kernels),
 * and reaching a tensor's data in the wasm heap.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { WasmMemory } from './wasm/asm.js'

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
 * How an installer that must be undone replaces a wasm kernel: `make(original)` is registered, and the
 * original kept to restore (the native accelerator's installs: `register.ts` keeps the originals).
 *   kernel(name) ← make(kernel(name))
 *
 * @example const replace: ReplaceKernel = (name, make) => { replaceWasmKernel(name, make) }
 */
export type ReplaceKernel = (name: string, make: (fallback: KernelFn) => KernelFn) => void

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
  /** The memory is `asm.memory` in the single-threaded builds, `wasmMemory` in the threaded one (a page with COOP/COEP). */
  readonly wasm: { readonly HEAPU8: Uint8Array; readonly asm?: { readonly memory?: WasmMemory }; readonly wasmMemory?: WasmMemory }
}

/** Byte offset of a tensor's data in the wasm heap. @example addon.unary(0, heapBuffer(b), heapOffset(b, x), heapOffset(b, out), n) */
export const heapOffset = (b: WasmHeapBackend, t: KernelInfo): number => b.dataIdMap.get(t.dataId)!.memoryOffset

/** The heap's current buffer: take it only after allocating outputs (allocation may grow and detach it). @example heapBuffer(backend) */
export const heapBuffer = (b: WasmHeapBackend): ArrayBuffer => b.wasm.HEAPU8.buffer as ArrayBuffer

/**
 * The backend's `WebAssembly.Memory` (what tfppl's SIMD kernels import), or undefined where the build
 * does not expose it. @example simdSoftplus(heapMemory(backend))
 */
export const heapMemory = (b: WasmHeapBackend): WasmMemory | undefined => b.wasm.asm?.memory ?? b.wasm.wasmMemory

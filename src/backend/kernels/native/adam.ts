/**
 * The fused Adam update in C (`native/adam.c`): the accelerator's path of the `TfpplAdam` kernel
 * (`../wasm/adam.ts`), used while the native kernels are installed. The same float32 operations, in
 * the same order, as the WebAssembly SIMD and JavaScript paths, so the three agree bit for bit:
 *   m′ = β₁m + (1 − β₁)g, v′ = β₂v + (1 − β₂)g², x′ = ((m′/c₁) / (√(v′/c₂) + ε))·(−lr) + x.
 */
import { kernelState } from '../state.js'

/** Adam's constants for one step: learning rate, β₁, β₂, ε and the bias corrections cᵢ = 1 − βᵢᵗ. */
export interface AdamConstants { readonly lr: number; readonly beta1: number; readonly beta2: number; readonly epsilon: number; readonly c1: number; readonly c2: number }

/** Byte offsets in the wasm heap of x, g, m, v (inputs) and x′, m′, v′ (outputs). */
export type AdamOffsets = readonly [number, number, number, number, number, number, number]

/**
 * One Adam update of n floats by the accelerator, on the heap `heap` (taken after the outputs were
 * allocated): whether every g and every x′ was finite, or undefined when the accelerator is off.
 *
 * @example
 * const ok = nativeAdam(heapBuffer(backend), n, offsets, c) ?? stockAdam(backend, n, offsets, c)
 */
export const nativeAdam = (heap: ArrayBuffer, n: number, o: AdamOffsets, c: AdamConstants): boolean | undefined =>
  kernelState.native?.addon.adam(heap, n, ...o, c.lr, c.beta1, c.beta2, c.epsilon, c.c1, c.c2)

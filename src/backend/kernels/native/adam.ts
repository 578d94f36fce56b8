/**
 * The fused Adam update in C (`native/adam.c`), two ways:
 * - `nativeAdam`: the accelerator's path of the per-variable `TfpplAdam` kernel (`../wasm/adam.ts`);
 * - `TfpplAdamAll`: every variable of a step in one kernel launch and one native call (inputs
 *   x0, g0, m0, v0, x1, …; outputs x′0, m′0, v′0, x′1, …, then whether every g and every x′ was
 *   finite), registered while the accelerator is installed.
 * The same float32 operations, in the same order, as the WebAssembly SIMD and JavaScript paths, so
 * all of them agree bit for bit:
 *   m′ = β₁m + (1 − β₁)g, v′ = β₂v + (1 − β₂)g², x′ = ((m′/c₁) / (√(v′/c₂) + ε))·(−lr) + x.
 */
import * as tf from '@tensorflow/tfjs-core'
import { BackendError } from '../../../errors.js'
import { heapBuffer, heapOffset } from '../heap.js'
import type { KernelFn, KernelInfo as Info, WasmHeapBackend } from '../heap.js'
import { kernelState } from '../state.js'
import type { NativeAddon } from './addon.js'

/** Adam's constants for one step: learning rate, β₁, β₂, ε and the bias corrections cᵢ = 1 − βᵢᵗ. */
export interface AdamConstants { readonly lr: number; readonly beta1: number; readonly beta2: number; readonly epsilon: number; readonly c1: number; readonly c2: number }

/** Byte offsets in the wasm heap of x, g, m, v (inputs) and x′, m′, v′ (outputs). */
export type AdamOffsets = readonly [number, number, number, number, number, number, number]

/** The name of the all-variables kernel. */
export const ADAM_ALL_KERNEL = 'TfpplAdamAll'

/**
 * The constants of both Adam kernels' attributes (`learningRate`, `beta1`, `beta2`, `epsilon`, `c1`, `c2`).
 *
 * @example adamConstantsOf({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, c1: 0.1, c2: 0.001 }).lr   // 1e-3
 */
export const adamConstantsOf = (attrs: Record<string, unknown> | undefined): AdamConstants => {
  const at = (name: string): number => attrs?.[name] as number
  return { lr: at('learningRate'), beta1: at('beta1'), beta2: at('beta2'), epsilon: at('epsilon'), c1: at('c1'), c2: at('c2') }
}

/**
 * One Adam update of n floats by the accelerator, on the heap `heap` (taken after the outputs were
 * allocated): whether every g and every x′ was finite, or undefined when the accelerator is off.
 *
 * @example
 * const ok = nativeAdam(heapBuffer(backend), n, offsets, c) ?? stockAdam(backend, n, offsets, c)
 */
export const nativeAdam = (heap: ArrayBuffer, n: number, o: AdamOffsets, c: AdamConstants): boolean | undefined =>
  kernelState.native?.addon.adam(heap, n, ...o, c.lr, c.beta1, c.beta2, c.epsilon, c.c1, c.c2)

/** Variable i's operands, each float32 of x's size (else a BackendError naming the operand). */
const operandsOf = (inputs: Record<string, Info>, i: number): [Info, Info, Info, Info] => {
  const ops = (['x', 'g', 'm', 'v'] as const).map((k) => inputs[`${k}${i}`])
  const n = ops[0] === undefined ? 0 : tf.util.sizeFromShape(ops[0].shape)
  ops.forEach((t, j) => {
    if (t === undefined || t.dtype !== 'float32' || tf.util.sizeFromShape(t.shape) !== n) {
      throw new BackendError(`${ADAM_ALL_KERNEL}: input '${'xgmv'[j]}${i}' is ${t === undefined ? 'missing' : `${t.dtype} [${t.shape.join(', ')}]`}; expected float32 with ${n} values, as x${i}`)
    }
  })
  return ops as [Info, Info, Info, Info]
}

const adamAllKernel = (adamAll: NonNullable<NativeAddon['adamAll']>): KernelFn => ({ inputs, backend: raw, attrs }) => {
  const backend = raw as WasmHeapBackend
  const vars = Array.from({ length: attrs?.['count'] as number }, (_, i) => operandsOf(inputs, i))
  const outs = vars.map(([x]) => [0, 1, 2].map(() => backend.makeOutput([...x.shape], 'float32')))
  const finite = backend.makeOutput([], 'bool')
  // n and the 7 byte offsets of each non-empty variable, read after every output was allocated.
  const rows = vars.flatMap((ops, i) => {
    const n = tf.util.sizeFromShape(ops[0].shape)
    return n === 0 ? [] : [n, ...[...ops, ...outs[i]!].map((t) => heapOffset(backend, t))]
  })
  const c = adamConstantsOf(attrs)
  const ok = adamAll(heapBuffer(backend), Float64Array.from(rows), c.lr, c.beta1, c.beta2, c.epsilon, c.c1, c.c2)
  backend.wasm.HEAPU8[heapOffset(backend, finite)] = ok ? 1 : 0
  return [...outs.flat(), finite]
}

/**
 * Registers `TfpplAdamAll` on the wasm backend (idempotent; not when the addon predates `adamAll`).
 * `fused-adam.ts` launches it only while the accelerator is installed.
 *
 * @example
 * const n = loadNative(); if (n.ok) registerNativeAdam(n.addon)
 */
export const registerNativeAdam = (addon: NativeAddon): void => {
  if (kernelState.registered.has('adam') || addon.adamAll === undefined) return
  kernelState.registered.add('adam')
  tf.registerKernel({ kernelName: ADAM_ALL_KERNEL, backendName: 'wasm', kernelFunc: adamAllKernel(addon.adamAll) as unknown as tf.KernelFunc })
}

/**
 * Whether `TfpplAdamAll` runs now: registered, and the accelerator installed.
 *
 * @example if (nativeAdamAllInstalled()) { … one launch for all variables … }
 */
export const nativeAdamAllInstalled = (): boolean =>
  kernelState.native !== undefined && tf.getKernel(ADAM_ALL_KERNEL, 'wasm') !== undefined

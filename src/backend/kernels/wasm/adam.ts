/**
 * Adam as one wasm kernel per variable (`TfpplAdam`, inputs x, g, m, v; outputs x′, m′, v′ and
 * whether every g and every x′ was finite, so that an update overflowing a parameter is refused like
 * a NaN gradient), with or without the accelerator: in C when it is installed
 * (`../native/adam.ts`, `native/adam.c`), otherwise as a WebAssembly SIMD function on the backend's own memory
 * (`adam-simd.ts`), the last n mod 4 floats in JavaScript. tfjs's `AdamOptimizer` launches ≈ 12
 * small kernels per variable per step (≈ 7 ms per VAE step on stock wasm). All three do the same
 * float32 operations in the same order — the JavaScript one rounds each with `Math.fround`, which
 * is exact for +, −, ×, ÷ and √ of float32 operands — so they agree bit for bit. With the
 * accelerator, `fused-adam.ts` launches `TfpplAdamAll` (all variables in one call) instead; this
 * kernel's C path then serves only an addon built before `adamAll`.
 */
import * as tf from '@tensorflow/tfjs-core'
import { simdAdam } from './adam-simd.js'
import { heapBuffer, heapMemory, heapOffset } from '../heap.js'
import type { KernelFn, KernelInfo as Info, WasmHeapBackend } from '../heap.js'
import { adamConstantsOf, nativeAdam } from '../native/adam.js'
import type { AdamConstants, AdamOffsets } from '../native/adam.js'

export type { AdamConstants } from '../native/adam.js'

/** The kernel's name. */
export const ADAM_KERNEL = 'TfpplAdam'

/** Float offsets (not bytes) of the update's operands in one float32 heap. */
export interface AdamOperands { readonly x: number; readonly g: number; readonly m: number; readonly v: number; readonly x2: number; readonly m2: number; readonly v2: number }

const f = Math.fround

/** As the C kernel (and tfjs): every constant rounded to float32 once, 1 − β included — β₁, β₂, 1 − β₁, 1 − β₂, ε, c₁, c₂, −lr. */
const float32Constants = (c: AdamConstants): [number, number, number, number, number, number, number, number] =>
  [f(c.beta1), f(c.beta2), f(1 - c.beta1), f(1 - c.beta2), f(c.epsilon), f(c.c1), f(c.c2), f(-c.lr)]

/**
 * One Adam update of n floats in `heap`, into x2, m2, v2; returns whether every g and every x′ was finite.
 * m′ = β₁m + (1 − β₁)g, v′ = β₂v + (1 − β₂)g², x′ = ((m′/c₁) / (√(v′/c₂) + ε))·(−lr) + x, in float32.
 *
 * @example
 * adamUpdate(new Float32Array(buffer), n, offsets, { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, c1: 0.1, c2: 0.001 })
 */
export const adamUpdate = (heap: Float32Array, n: number, o: AdamOperands, c: AdamConstants): boolean => {
  const [b1, b2, ob1, ob2, eps, c1, c2, negLr] = float32Constants(c)
  let poison = 0   // g·0 and x′·0 are 0 when finite, NaN for NaN or ±∞: one comparison at the end
  for (let i = 0; i < n; i++) {
    const g = heap[o.g + i]!
    poison += g * 0
    const m = f(f(heap[o.m + i]! * b1) + f(g * ob1))
    const v = f(f(heap[o.v + i]! * b2) + f(f(g * g) * ob2))
    heap[o.m2 + i] = m
    heap[o.v2 + i] = v
    const x2 = f(f(f(f(m / c1) / f(f(Math.sqrt(f(v / c2))) + eps)) * negLr) + heap[o.x + i]!)   // rounded before the test: 3e38 + 1e38 is finite in doubles
    poison += x2 * 0
    heap[o.x2 + i] = x2
  }
  return poison === 0
}

/** Without the accelerator: the SIMD function over the first n − n mod 4 floats, JavaScript for the rest (or all, without wasm SIMD). */
const stockAdam = (backend: WasmHeapBackend, n: number, bytes: AdamOffsets, c: AdamConstants): boolean => {
  const simd = simdAdam(heapMemory(backend))
  const n4 = simd === undefined ? 0 : n - (n % 4)
  const f32 = (k: number): number => bytes[k]! / 4 + n4
  const bad = n4 > 0 && simd!(n4, ...bytes, ...float32Constants(c)) === 1
  const rest = n4 === n || adamUpdate(new Float32Array(heapBuffer(backend)), n - n4, { x: f32(0), g: f32(1), m: f32(2), v: f32(3), x2: f32(4), m2: f32(5), v2: f32(6) }, c)
  return !bad && rest
}

const adamKernel: KernelFn = ({ inputs, backend: raw, attrs }) => {
  const { x, g, m, v } = inputs as { x: Info; g: Info; m: Info; v: Info }
  const backend = raw as WasmHeapBackend
  const outs = [x, m, v].map((t) => backend.makeOutput([...t.shape], 'float32'))
  const finite = backend.makeOutput([], 'bool')
  const n = tf.util.sizeFromShape(x.shape)
  const c = adamConstantsOf(attrs)
  const bytes = [x, g, m, v, ...outs].map((t) => heapOffset(backend, t)) as unknown as AdamOffsets
  const ok = nativeAdam(heapBuffer(backend), n, bytes, c) ?? stockAdam(backend, n, bytes, c)
  backend.wasm.HEAPU8[heapOffset(backend, finite)] = ok ? 1 : 0
  return [...outs, finite]
}

/**
 * Registers `TfpplAdam` on the wasm backend (idempotent).
 *
 * @example
 * installWasmAdam(); wasmAdamInstalled()   // true
 */
export const installWasmAdam = (): void => {
  if (tf.getKernel(ADAM_KERNEL, 'wasm') === undefined) {
    tf.registerKernel({ kernelName: ADAM_KERNEL, backendName: 'wasm', kernelFunc: adamKernel as unknown as tf.KernelFunc })
  }
}

/** Whether `TfpplAdam` is registered on wasm. @example if (wasmAdamInstalled()) { … } */
export const wasmAdamInstalled = (): boolean => tf.getKernel(ADAM_KERNEL, 'wasm') !== undefined

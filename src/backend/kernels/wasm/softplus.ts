/**
 * Softplus on stock wasm as a WebAssembly SIMD kernel on the backend's own memory. tfjs-backend-wasm
 * 4.22 computes it one float at a time through libm's exp and log1p (≈ 20 ns per float: 2 ms for a
 * 128 × 784 Bernoulli logit tensor, ≈ 5 ms of a VAE step); this runs four lanes at a time:
 *
 *   softplus(x) = max(x, 0) + log1p(e^−|x|)
 *   e^−a = 2ⁿ · e^g, n = round(−a·log₂e), g = −a − n·ln 2 (Cody–Waite, two parts), e^g by its
 *         degree-7 Taylor polynomial (|g| ≤ ln2/2: truncation < 6e-9), 2ⁿ as two exact powers of 2
 *         (so results below 2⁻¹²⁶ round once into the subnormals); a is capped at 150 (e^−150 = 0 in float32)
 *   log1p(e) = 2·atanh(t) = 2t·Σₖ t²ᵏ/(2k+1), k ≤ 6, t = e/(2 + e) ∈ (0, ⅓] (truncation < 1.5e-8)
 *
 * NaN stays NaN, softplus(∞) = ∞, softplus(−∞) = 0. Accuracy: within 4 ulps of the exact value over
 * the float32 range (test/backend/kernels/wasm/softplus.test.ts measures it against float64).
 */
import * as tf from '@tensorflow/tfjs-core'
import { assemble, bindToMemory, f32x4, get, I32, i32, i32x4, load, set, simd, SIMD, store, V128 } from './asm.js'
import type { WasmMemory } from './asm.js'
import { heapMemory, heapOffset, replaceWasmKernel } from '../heap.js'
import type { KernelFn, KernelInfo as Info, WasmHeapBackend } from '../heap.js'
import { kernelState } from '../state.js'

/** The exported function: softplus of n4 floats (a multiple of 4) from byte offset `input` to `output`. */
export type SimdSoftplus = (n4: number, input: number, output: number) => void

// Parameters: 0 n4, 1 input, 2 output; locals: 3 off, 4 end (i32), 5 x, 6 a, 7 n, 8 g, 9 p, 10 e, 11 t, 12 t², 13 q (v128).
const [N4, IN, OUT, OFF, END, X, A, N, G, P, E, T, T2, Q] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
const LOG2E = 1.4426950408889634, LN2_HI = 0.693359375, LN2_LO = -2.12194440e-4

const op = (name: keyof typeof SIMD, ...args: number[][]): number[] => [...args.flat(), ...simd(SIMD[name])]
const horner = (v: number, coefficients: readonly number[], into: number): number[] =>
  [...f32x4(coefficients[0]!), ...coefficients.slice(1).flatMap((c) => [...get(v), ...simd(SIMD.mul), ...f32x4(c), ...simd(SIMD.add)]), ...set(into)]
/** 2^k for the i32 lanes k on the stack, as f32 bits: (k + 127) << 23. */
const pow2 = (k: number[]): number[] => op('i32Shl', op('i32Add', k, i32x4(127)), i32(23))

const code = (): number[] => {
  const ni = op('truncSat', get(N))
  const loop = [
    ...get(IN), ...get(OFF), 0x6a, ...load(), ...set(X),
    ...op('min', op('abs', get(X)), f32x4(150)), ...set(A),
    ...op('nearest', op('mul', get(A), f32x4(-LOG2E))), ...set(N),
    ...op('sub', op('sub', op('sub', f32x4(0), get(A)), op('mul', get(N), f32x4(LN2_HI))), op('mul', get(N), f32x4(LN2_LO))), ...set(G),
    ...horner(G, [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1].map(Math.fround), P),
    // e = p · 2^(n >> 1) · 2^(n − (n >> 1))
    ...op('mul', op('mul', get(P), pow2(op('i32ShrS', ni, i32(1)))), pow2(op('i32Sub', ni, op('i32ShrS', ni, i32(1))))), ...set(E),
    ...op('div', get(E), op('add', get(E), f32x4(2))), ...set(T),
    ...op('mul', get(T), get(T)), ...set(T2),
    ...horner(T2, [1 / 13, 1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3, 1].map(Math.fround), Q),
    ...get(OUT), ...get(OFF), 0x6a,
    ...op('add', op('max', get(X), f32x4(0)), op('mul', op('add', get(T), get(T)), get(Q))), ...store(),
    ...get(OFF), ...i32(16), 0x6a, ...set(OFF),
    ...get(OFF), ...get(END), 0x49, 0x0d, 0,
  ]
  return [...get(N4), ...i32(2), 0x74, ...set(END), ...get(END), 0x45, 0x04, 0x40, 0x0f, 0x0b, 0x03, 0x40, ...loop, 0x0b]
}

const BYTES = assemble('softplus', { params: [I32, I32, I32], results: [], locals: [[2, I32], [9, V128]], code: code() })

/**
 * The SIMD softplus bound to `memory`, or undefined where the engine has no wasm SIMD.
 *
 * @example
 * simdSoftplus(backend.wasm.asm.memory)?.(n4, inOffset, outOffset)
 */
export const simdSoftplus = (memory: WasmMemory | undefined): SimdSoftplus | undefined => bindToMemory(BYTES, 'softplus', memory) as SimdSoftplus | undefined

const softplusKernel = (original: KernelFn): KernelFn => (args) => {
  const x = args.inputs['x']! as Info
  const backend = args.backend as WasmHeapBackend
  const n = tf.util.sizeFromShape(x.shape)
  const f = x.dtype === 'float32' && n > 0 ? simdSoftplus(heapMemory(backend)) : undefined
  if (f === undefined) return original(args)
  const out = backend.makeOutput([...x.shape], 'float32')
  const [i, o] = [heapOffset(backend, x), heapOffset(backend, out)]
  if (n < 4) {
    if (fewerThanFour(f, backend, i, o, n)) return out
    backend.disposeData(out.dataId)
    return original(args)
  }
  const n4 = n - (n % 4)
  f(n4, i, o)
  if (n4 < n) f(4, i + 4 * (n - 4), o + 4 * (n - 4))   // the last 4 floats again: the tail, recomputed identically where it overlaps
  return out
}

/** 1–3 floats: one vector through a 4-float scratch tensor (reading 4 floats at the input, inside the heap), then copied out. */
const fewerThanFour = (f: SimdSoftplus, backend: WasmHeapBackend, i: number, o: number, n: number): boolean => {
  if (i + 16 > backend.wasm.HEAPU8.byteLength) return false
  const scratch = backend.makeOutput([4], 'float32')
  const s = heapOffset(backend, scratch)
  f(4, i, s)
  backend.wasm.HEAPU8.copyWithin(o, s, s + 4 * n)
  backend.disposeData(scratch.dataId)
  return true
}

/**
 * Replaces wasm's `Softplus` with the SIMD kernel (idempotent; `register.ts` calls it).
 *
 * @example
 * installWasmSoftplus(); tf.softplus(x)   // four lanes at a time
 */
export const installWasmSoftplus = (): void => {
  if (kernelState.wasm.has('softplus')) return
  if (replaceWasmKernel('Softplus', softplusKernel) !== undefined) kernelState.wasm.add('softplus')
}

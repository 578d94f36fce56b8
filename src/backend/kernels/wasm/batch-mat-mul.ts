/**
 * A faster `BatchMatMul` for the stock wasm backend. tfjs-backend-wasm 4.22
 * sends a product to XNNPACK only when neither operand is transposed; with
 * `transposeA` or `transposeB` it falls to a scalar loop ≈ 10× slower — and
 * tfjs's gradient of every `matMul` asks for exactly those products. We
 * replace the kernel: a transposed operand is first made contiguous by the
 * backend's own `Transpose` kernel (a cheap copy), then the original kernel
 * runs with no transpose flag:
 *   op(A)·op(B) = (Aᵀ materialised)·(Bᵀ materialised).
 * Untransposed products go straight to the original kernel. Results are the
 * same products (summation order may differ in the last float32 bits).
 *
 * XNNPACK packs the right-hand operand of every product it has not seen (a
 * training step's weights are new tensors every step): ≈ 8 ns per float,
 * against ≈ 2 ns to transpose one. So a 2-D product whose right operand is much
 * larger than its left one runs transposed instead, packing the smaller:
 *   op(A)·op(B) = (op(B)ᵀ·op(A)ᵀ)ᵀ,
 * when that moves fewer floats by the cost model below (measured on stock wasm,
 * 128×784 · 784×400: 6.7 → 5.6 ms; 128×784 · (400×784)ᵀ: 6.3 → 4.6 ms). A right
 * operand that comes back untransposed keeps the plain path, so XNNPACK's cache
 * of its packed form still serves repeated products with fixed weights.
 */
import * as tf from '@tensorflow/tfjs-core'
import { replaceWasmKernel } from '../heap.js'
import type { KernelFn, KernelInfo as Info, WasmHeapBackend } from '../heap.js'
import { kernelState } from '../state.js'

/** Relative costs per float moved (measured on stock wasm): a Transpose, and XNNPACK's packing of a right-hand operand. */
const TRANSPOSE_COST = 2, PACK_COST = 8

/**
 * Whether op(A)·op(B), A·B of sizes M×K and K×N after the flags, is cheaper as (op(B)ᵀ·op(A)ᵀ)ᵀ:
 * plain: materialise the flagged operands, pack op(B) (K·N); swapped: materialise the unflagged
 * ones, pack op(A)ᵀ (K·M), transpose the M×N result. A margin of 20% keeps near-ties plain.
 */
export const swapPays = (m: number, k: number, n: number, tA: boolean, tB: boolean): boolean => {
  const plain = TRANSPOSE_COST * ((tA ? m * k : 0) + (tB ? k * n : 0)) + PACK_COST * k * n
  const swapped = TRANSPOSE_COST * ((tA ? 0 : m * k) + (tB ? 0 : k * n) + m * n) + PACK_COST * k * m
  return swapped < 0.8 * plain
}

/** The last two axes swapped. */
const swapLast = (rank: number): number[] => [...Array(rank).keys()].map((i) => (i === rank - 2 ? rank - 1 : i === rank - 1 ? rank - 2 : i))

/**
 * Replaces wasm's `BatchMatMul` with the transpose-then-multiply kernel (idempotent).
 * Call after the wasm backend is registered; `register.ts` does it.
 *
 * @example
 * await tf.setBackend('wasm'); installWasmMatMul()
 * tf.matMul(a, b, true, false)   // now a Transpose + XNNPACK product
 */
export const installWasmMatMul = (): void => {
  if (kernelState.wasm.has('batch-mat-mul')) return
  const transpose = tf.getKernel('Transpose', 'wasm')
  if (transpose === undefined) return
  const runTranspose = transpose.kernelFunc as unknown as KernelFn
  const flip = (x: Info, backend: unknown): Info => runTranspose({ inputs: { x }, backend, attrs: { perm: swapLast(x.shape.length) } }) as Info
  const seenRight = new WeakSet<object>()   // untransposed right operands already multiplied: XNNPACK may hold them packed
  const product = (run: KernelFn, a: Info, b: Info, backend: unknown, attrs: Record<string, unknown> | undefined, tA: boolean, tB: boolean): Info => {
    const made: Info[] = []
    const flipped = (x: Info): Info => { const y = flip(x, backend); made.push(y); return y }
    try {
      return run({ inputs: { a: tA ? flipped(a) : a, b: tB ? flipped(b) : b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } }) as Info
    } finally {
      for (const t of made) (backend as WasmHeapBackend).disposeData(t.dataId)
    }
  }
  const replaced = replaceWasmKernel('BatchMatMul', (run) => ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: Info; b: Info }
    const tA = attrs?.['transposeA'] === true, tB = attrs?.['transposeB'] === true
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return run({ inputs, backend, attrs })
    const [m, k] = tA ? [a.shape.at(-1)!, a.shape.at(-2)!] : [a.shape.at(-2)!, a.shape.at(-1)!], n = tB ? b.shape.at(-2)! : b.shape.at(-1)!
    const cached = !tB && seenRight.has(b.dataId)
    if (!tB) seenRight.add(b.dataId)
    if (a.shape.length === 2 && b.shape.length === 2 && !cached && swapPays(m, k, n, tA, tB)) {
      // (op(B)ᵀ·op(A)ᵀ)ᵀ: op(B)ᵀ is b itself when tB, else bᵀ; likewise for A.
      const ct = product(run, b, a, backend, attrs, !tB, !tA)
      try { return flip(ct, backend) } finally { (backend as WasmHeapBackend).disposeData(ct.dataId) }
    }
    return !tA && !tB ? run({ inputs, backend, attrs }) : product(run, a, b, backend, attrs, tA, tB)
  })
  if (replaced === undefined) return
  kernelState.wasm.add('batch-mat-mul')
}

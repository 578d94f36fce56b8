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
 */
import * as tf from '@tensorflow/tfjs-core'
import { replaceWasmKernel } from './wasm-kernels.js'
import type { KernelFn, KernelInfo as Info } from './wasm-kernels.js'

interface WasmBackendLike { readonly disposeData: (dataId: object) => unknown }

let installed = false

/** The last two axes swapped. */
const swapLast = (rank: number): number[] => [...Array(rank).keys()].map((i) => (i === rank - 2 ? rank - 1 : i === rank - 1 ? rank - 2 : i))

/**
 * Replaces wasm's `BatchMatMul` with the transpose-then-multiply kernel (idempotent).
 * Call after the wasm backend is registered; {@link initBackend} does it.
 *
 * @example
 * await tf.setBackend('wasm'); installWasmMatMul()
 * tf.matMul(a, b, true, false)   // now a Transpose + XNNPACK product
 */
export const installWasmMatMul = (): void => {
  if (installed) return
  const transpose = tf.getKernel('Transpose', 'wasm')
  if (transpose === undefined) return
  const runTranspose = transpose.kernelFunc as unknown as KernelFn
  const flip = (x: Info, backend: unknown): Info => runTranspose({ inputs: { x }, backend, attrs: { perm: swapLast(x.shape.length) } }) as Info
  const replaced = replaceWasmKernel('BatchMatMul', (run) => ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: Info; b: Info }
    const tA = attrs?.['transposeA'] === true, tB = attrs?.['transposeB'] === true
    if ((!tA && !tB) || a.dtype !== 'float32' || b.dtype !== 'float32') return run({ inputs, backend, attrs })
    const a2 = tA ? flip(a, backend) : a, b2 = tB ? flip(b, backend) : b
    try {
      return run({ inputs: { a: a2, b: b2 }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } })
    } finally {
      const owner = backend as WasmBackendLike
      if (tA) owner.disposeData(a2.dataId)
      if (tB) owner.disposeData(b2.dataId)
    }
  })
  if (replaced === undefined) return
  installed = true
}

/**
 * The stock-wasm Softplus kernel (a WebAssembly SIMD function on the backend's memory): accuracy
 * against float64 over the float32 range, special values, sizes that are not a multiple of 4,
 * the gradient, memory growth and leaks; and the assembler's integer encoding.
 */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { backendInfo, initBackend, setNative } from '../../../../src/backend/init.js'
import { simdSoftplus } from '../../../../src/backend/kernels/wasm/softplus.js'
import { i32, leb } from '../../../../src/backend/kernels/wasm/asm.js'
import type { WasmMemory } from '../../../../src/backend/kernels/wasm/asm.js'
import { read } from '../../../helpers.js'

const info = await initBackend()
const onWasm = info.name === 'wasm'

const softplus64 = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))
/** The spacing of float32 numbers at |v| (the smallest subnormal below 2⁻¹²⁶). */
const ulp = (v: number): number => (Math.abs(v) < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(Math.abs(Math.fround(v)))) - 23))
const newMemory = (pages: number): WasmMemory =>
  new (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => WasmMemory } }).WebAssembly.Memory({ initial: pages })

/** Runs the softplus kernel on stock wasm (the accelerator's own Softplus replaces it otherwise). */
const stock = <T>(f: () => T): T => {
  const native = backendInfo().native
  setNative(false)
  try { return f() } finally { setNative(native) }
}

describe('wasm-asm', () => {
  it('encodes unsigned LEB128 and signed i32.const immediates', () => {
    expect([leb(0), leb(127), leb(128), leb(300)]).toEqual([[0], [127], [0x80, 1], [0xac, 2]])
    expect([i32(0), i32(16), i32(63), i32(64), i32(-1), i32(-129)]).toEqual([[0x41, 0], [0x41, 16], [0x41, 63], [0x41, 0xc0, 0], [0x41, 0x7f], [0x41, 0xff, 0x7e]])
  })
})

describe('SIMD softplus', () => {
  it('is within 4 ulps of the float64 value over [−150, 150] and in the subnormal tail (400,000 draws)', () => {
    const memory = newMemory(64), f = simdSoftplus(memory)
    expect(f).toBeTypeOf('function')
    const n = 100_000, h = new Float32Array(memory.buffer)
    let worst = 0
    for (const [lo, hi] of [[-150, 150], [-3, 3], [-104, -80], [15, 90]] as const) {
      for (let i = 0; i < n; i++) h[i] = lo + (hi - lo) * Math.sin(i * 12.9898 + lo) ** 2
      f!(n, 0, 4 * n)
      for (let i = 0; i < n; i++) {
        const want = softplus64(h[i]!)
        worst = Math.max(worst, Math.abs(h[n + i]! - want) / ulp(want))
      }
    }
    expect(worst).toBeLessThanOrEqual(4)
  })

  it('keeps NaN, maps ±∞ to ∞ and 0, and is exact where softplus is x or log 2', () => {
    const memory = newMemory(1), f = simdSoftplus(memory)!, h = new Float32Array(memory.buffer)
    h.set([NaN, Infinity, -Infinity, 0, -0, 1e30, -1e30, 3.4e38])
    f(8, 0, 64)
    expect(Array.from(h.slice(16, 24))).toEqual([NaN, Infinity, 0, Math.fround(Math.LN2), Math.fround(Math.LN2), 1e30, 0, Math.fround(3.4e38)].map(Math.fround))
  })

  it.skipIf(!onWasm)('is the stock wasm Softplus kernel: every size (tails, fewer than 4 floats), values and gradient', () => stock(() => {
    for (const n of [1, 3, 4, 5, 127, 100_352]) {
      const xs = Array.from({ length: n }, (_, i) => Math.fround(30 * Math.sin(i * 0.37 + n)))   // float32 inputs, so the reference sees the same x
      const [y, dy] = tf.tidy(() => {
        const x = tf.tensor1d(xs)
        return [read(tf.softplus(x)), read(tf.grad((v: tf.Tensor) => tf.sum(tf.softplus(v)))(x))]
      })   // tidy frees the tensors read
      y.forEach((v, i) => expect(Math.abs(v - softplus64(xs[i]!))).toBeLessThanOrEqual(4 * ulp(softplus64(xs[i]!))))
      dy.forEach((v, i) => expect(v).toBeCloseTo(1 / (1 + Math.exp(-xs[i]!)), 6))
    }
  }))

  it.skipIf(!onWasm)('gives the same values after the wasm memory grows, and leaks nothing', () => stock(() => {
    const x = tf.randomNormal([1001], 0, 10, 'float32', 4)
    const values = (): number[] => { const y = tf.softplus(x); try { return read(y) } finally { y.dispose() } }
    const before = values()
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength
    tf.dispose(tf.zeros([heap / 2]))   // larger than what is free: the memory grows
    expect((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength).toBeGreaterThan(heap)
    const tensors = tf.memory().numTensors
    expect(values()).toEqual(before)
    expect(tf.memory().numTensors).toBe(tensors)
    x.dispose()
  }))
})

/**
 * The accelerator's `Sum` over leading dims (`kernels/native/sum.ts`, `native/sum.c`): with 32 or more
 * kept elements bit-identical to what tfjs-wasm's `Sum` computes for it (the reduced dims transposed
 * innermost, each row summed in order) on random shapes, with and without keepDims, at special values
 * and after the wasm memory grows; with fewer (partial sums per column) within its stated rounding
 * bound of the float64 sum; that it runs where it covers the reduction and leaves the rest to the
 * original kernel; the C argument checks. Skipped where the accelerator is inactive.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src/backend/init.js'
import { loadNative } from '../../../../src/backend/native.js'
import { heapBuffer, replaceWasmKernel, restoreWasmKernel } from '../../../../src/backend/kernels/heap.js'
import type { NativeAddon } from '../../../../src/backend/kernels/native/addon.js'
import { installNativeSum } from '../../../../src/backend/kernels/native/sum.js'
import type { WasmHeapBackend } from '../../../../src/backend/kernels/heap.js'
import { FC, read } from '../../../helpers.js'

const info = await initBackend()

/** The sum over the first k dims as the stock kernel computes it: those dims moved innermost, then a trailing Sum. */
const stockLeadingSum = (x: tf.Tensor, k: number, keepDims: boolean): tf.Tensor => tf.tidy(() => {
  const r = x.rank
  const moved = tf.transpose(x, [...Array.from({ length: r - k }, (_, i) => k + i), ...Array.from({ length: k }, (_, i) => i)])
  const summed = tf.sum(moved, Array.from({ length: k }, (_, i) => r - k + i))
  return keepDims ? tf.reshape(summed, x.shape.map((d, i) => (i < k ? 1 : d))) : summed
})

const bits = (t: tf.Tensor): number[] => Array.from(new Int32Array(new Float32Array(t.dataSync()).buffer))
const heapBytes = (): number => (tf.backend() as unknown as WasmHeapBackend).wasm.HEAPU8.buffer.byteLength

describe.skipIf(!info.native)('native Sum over leading dims', () => {
  /** Normal values scaled over e^±8 (sums with cancellation), of `shape`. */
  const spread = (shape: number[], seed: number): tf.Tensor =>
    tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed + 1), tf.exp(tf.randomUniform(shape, -8, 8, 'float32', seed + 2)))

  it('bit-identical to the stock kernel for random shapes with ≥ 32 kept elements, k leading dims, keepDims or not', () => {
    const cases = fc.tuple(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 32, max: 70 }))
      .chain(([s, last]) => fc.tuple(fc.constant([...s, last]), fc.integer({ min: 1, max: s.length }), fc.boolean(), fc.integer({ min: 0, max: 1e6 })))
    fc.assert(fc.property(cases, ([shape, k, keepDims, seed]) => tf.tidy(() => {
      const x = spread([...shape], seed)
      const got = tf.sum(x, Array.from({ length: k }, (_, i) => i), keepDims), want = stockLeadingSum(x, k, keepDims)
      expect(got.shape).toEqual(want.shape)
      expect(bits(got)).toEqual(bits(want))
    })), FC)
  })

  it('with fewer than 32 kept elements, within (⌈m/R⌉ + R − 2)·2⁻²⁴·Σ|x| of the float64 sum (R = ⌈32/n⌉ partials per column)', () => {
    // Long columns (m up to 20,000 rows, not a multiple of R in general): the serial sum's bound is (m − 1)·2⁻²⁴·Σ|x|.
    const cases = fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: 31 }), fc.boolean(), fc.integer({ min: 0, max: 1e6 }))
    fc.assert(fc.property(cases, ([m, n, keepDims, seed]) => tf.tidy(() => {
      const x = spread([m, n], seed), values = x.dataSync()
      const got = tf.sum(x, 0, keepDims)
      expect(got.shape).toEqual(keepDims ? [1, n] : [n])
      const r = Math.ceil(32 / n), bound = (Math.ceil(m / r) + r - 2) * 2 ** -24
      const sums = got.dataSync()
      for (let j = 0; j < n; j++) {
        let exact = 0, magnitude = 0
        for (let i = 0; i < m; i++) { exact += values[i * n + j]!; magnitude += Math.abs(values[i * n + j]!) }
        expect(Math.abs(sums[j]! - exact)).toBeLessThanOrEqual(bound * magnitude * 1.001 + 1e-45)
      }
    })), { ...FC, numRuns: 30 })
  })

  it('with fewer than 32 kept elements, a long column of equal values drifts from the float64 sum less than a quarter as far as one chain of adds', () => tf.tidy(() => {
    // 100,000 × 0.1 in one float32 chain (the stock kernel) drifts by 1.4e-4 relative; 32 partials of 3,125 terms by 3.1e-5.
    const x = tf.fill([100_000, 1], 0.1), exact = 100_000 * Math.fround(0.1)
    const stockError = Math.abs(read(stockLeadingSum(x, 1, false))[0]! - exact) / exact
    const error = Math.abs(read(tf.sum(x, 0))[0]! - exact) / exact
    expect(stockError).toBeGreaterThan(1e-4)
    expect(error).toBeLessThan(stockError / 4)
  }))

  it('NaN, ±∞, ±0 and huge values as the stock kernel; negative axes; bit-identical after the wasm memory grows', () => tf.tidy(() => {
    const x = tf.tensor3d([NaN, 1, -0, 3e38, 3e38, -Infinity, 0, -0, 1e-45, 2, Infinity, 5], [2, 2, 3])
    expect(read(tf.sum(x, [0, 1]))).toEqual(read(stockLeadingSum(x, 2, false)))
    expect(read(tf.sum(x, [-3]))).toEqual(read(stockLeadingSum(x, 1, false)))
    tf.dispose(tf.zeros([heapBytes()]))   // four times the heap: memory.grow detaches the old buffer
    const y = tf.randomNormal([64, 7, 7, 32], 0, 1, 'float32', 3)
    expect(bits(tf.sum(y, [0, 1, 2]))).toEqual(bits(stockLeadingSum(y, 3, false)))
  }))

  it('runs natively where it covers the reduction; trailing, mixed, all axes and int32 go to the original', () => {
    const n = loadNative()
    if (!n.ok) throw new Error(n.reason)
    const calls: number[][] = []   // (m, n) of each native call, through a recording copy of the addon installed over the current Sum
    const recording: NativeAddon = { ...n.addon, sumLeading: (...a) => { calls.push([a[1], a[2]]); n.addon.sumLeading(...a) } }
    const replaced: tf.KernelConfig[] = []
    installNativeSum(recording, (name, make) => { const o = replaceWasmKernel(name, make); if (o !== undefined) replaced.push(o) })
    const x = tf.randomNormal([8, 5, 4], 0, 1, 'float32', 1), xi = tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32')
    try {
      const results = [tf.sum(x, [0, 1]), tf.sum(x, [1, 0], true), tf.sum(x, [0, 2]), tf.sum(x, [1, 2]), tf.sum(x), tf.sum(xi, 0)]
      expect(calls).toEqual([[40, 4], [40, 4]])
      expect(read(results[2]!)).toEqual(read(tf.tidy(() => tf.sum(tf.transpose(x, [1, 0, 2]), [1, 2]))))
      expect(read(results[5]!)).toEqual([4, 6])
      expect(results.map((r) => r.shape)).toEqual([[4], [1, 1, 4], [5], [8], [], [2]])
      tf.dispose(results)
    } finally {
      replaced.forEach(restoreWasmKernel)
      tf.dispose([x, xi])
    }
  })

  it('rejects bad arguments in C with a RangeError (code TFPPL_NATIVE)', () => {
    const n = loadNative()
    if (!n.ok) throw new Error(n.reason)
    const heap = heapBuffer(tf.backend() as unknown as WasmHeapBackend), end = heap.byteLength
    const cases: [() => void, RegExp][] = [
      [() => n.addon.sumLeading(heap, 4, 4, end - 8, 0), /sumLeading: an operand lies outside/],
      [() => n.addon.sumLeading(heap, 1, 4, 0, end), /sumLeading: an operand lies outside/],
      [() => n.addon.sumLeading(heap, 2, 0, 0, 0), /sumLeading: expected/],
      [() => n.addon.sumLeading(heap, -1, 2, 0, 0), /sumLeading: expected/],
    ]
    for (const [call, message] of cases) {
      expect(call).toThrow(message)
      try { call() } catch (e) { expect((e as { code?: unknown }).code).toBe('TFPPL_NATIVE') }
    }
  })
})

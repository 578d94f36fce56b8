/**
 * `nearestCodes`: the nearest code of each row. On every backend against a float64 search (the chosen
 * code's distance within float32 rounding of the least); with the accelerator, the native kernel
 * against the composite tfjs ops, bit-identical, on random shapes (blocks of 256 rows crossed), with
 * tied codes, NaN and ±∞, and after the wasm memory grows; that it runs natively only where it covers
 * the call; the C argument checks.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initBackend } from '../../src/backend/init.js'
import { loadNative } from '../../src/backend/native.js'
import { nearestCodes, nearestCodesComposite } from '../../src/backend/nearest-codes.js'
import { heapBuffer } from '../../src/backend/kernels/heap.js'
import type { WasmHeapBackend } from '../../src/backend/kernels/heap.js'
import { FC, read } from '../helpers.js'

const info = await initBackend()

/** ‖x_i − e_c‖² in float64 for every code c. */
const distances = (x: readonly number[], book: readonly number[], d: number): number[] =>
  Array.from({ length: book.length / d }, (_, c) => x.reduce((s, v, j) => s + (v - book[c * d + j]!) ** 2, 0))

/** Random rows and codebook of the given sizes, values spread over e^±3. */
const problem = (n: number, k: number, d: number, seed: number): [tf.Tensor2D, tf.Tensor2D] => [
  tf.mul(tf.randomNormal([n, d], 0, 1, 'float32', seed), 2) as tf.Tensor2D,
  tf.mul(tf.randomNormal([k, d], 0, 1, 'float32', seed + 1), 2) as tf.Tensor2D,
]

const heapBytes = (): number => (tf.backend() as unknown as WasmHeapBackend).wasm.HEAPU8.buffer.byteLength

describe('nearestCodes', () => {
  it('picks a code whose float64 distance is the least up to float32 rounding of ‖x‖² + ‖e‖² (random shapes)', () => {
    const cases = fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 1e6 }))
    fc.assert(fc.property(cases, ([n, k, d, seed]) => tf.tidy(() => {
      const [x, book] = problem(n, k, d, seed)
      const codes = nearestCodes(x, book)
      expect(codes.dtype).toBe('int32')
      expect(codes.shape).toEqual([n])
      const xs = read(x), es = read(book), chosen = read(codes)
      for (let i = 0; i < n; i++) {
        const row = xs.slice(i * d, (i + 1) * d), dist = distances(row, es, d)
        const least = Math.min(...dist), scale = row.reduce((s, v) => s + v * v, 0) + Math.max(...dist)
        expect(dist[chosen[i]!]! - least).toBeLessThanOrEqual(4 * d * 2 ** -24 * scale)
      }
    })), FC)
  })

  it('the first of tied codes', () => tf.tidy(() => {
    const book = tf.tensor2d([[1, 0], [0, 1], [1, 0], [0, 1]])
    expect(read(nearestCodes(tf.tensor2d([[2, 0], [0, 3], [0.5, 0.5]]), book))).toEqual([0, 1, 0])
  }))
})

describe.skipIf(!info.native)('nearestCodes on the accelerator', () => {
  it('bit-identical to the composite ops for random shapes, 1 to 700 rows (blocks of 256), 1 to 70 codes', () => {
    const cases = fc.tuple(fc.integer({ min: 1, max: 700 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 1e6 }))
    fc.assert(fc.property(cases, ([n, k, d, seed]) => tf.tidy(() => {
      const [x, book] = problem(n, k, d, seed)
      expect(read(nearestCodes(x, book))).toEqual(read(nearestCodesComposite(x, book)))
    })), FC)
  })

  it('bit-identical with tied codes, NaN and ±∞ in rows and codes, and after the wasm memory grows', () => tf.tidy(() => {
    const book = tf.tensor2d([[1, 0], [0, 1], [1, 0], [NaN, 0], [Infinity, 0], [-0, 0], [0, 0]])
    const x = tf.tensor2d([[2, 0], [0, 3], [0.5, 0.5], [NaN, 1], [Infinity, 0], [-Infinity, 0], [0, 0], [1e20, -1e20], [1e-30, 0]])
    const want = read(nearestCodesComposite(x, book))
    expect(read(nearestCodes(x, book))).toEqual(want)
    const nanFirst = tf.tensor2d([[NaN, 0], [1, 0]])
    expect(read(nearestCodes(x, nanFirst))).toEqual(read(nearestCodesComposite(x, nanFirst)))
    tf.dispose(tf.zeros([heapBytes()]))   // four times the heap: memory.grow detaches the old buffer
    const [big, codes] = problem(6272, 64, 16, 7)
    expect(read(nearestCodes(big, codes))).toEqual(read(nearestCodesComposite(big, codes)))
  }))

  it('runs as the one native kernel', async () => {
    const p = await tf.profile(() => { tf.dispose(nearestCodes(tf.ones([3, 2]), tf.ones([4, 2]))) })
    expect(p.kernels.map((k) => k.name)).toEqual(['TfpplNearestCodes'])
  })

  it('rejects bad arguments in C with a RangeError (code TFPPL_NATIVE)', () => {
    const n = loadNative()
    if (!n.ok) throw new Error(n.reason)
    const nearest = n.addon.nearestCodes!
    const heap = heapBuffer(tf.backend() as unknown as WasmHeapBackend), end = heap.byteLength
    const cases: [() => void, RegExp][] = [
      [() => nearest(heap, 4, 2, 2, end - 8, 0, 0), /nearestCodes: an operand lies outside/],
      [() => nearest(heap, 1, 2, 2, 0, end, 0), /nearestCodes: an operand lies outside/],
      [() => nearest(heap, 1, 1, 1, 0, 0, end), /nearestCodes: an operand lies outside/],
      [() => nearest(heap, 0, 2, 2, 0, 0, 0), /nearestCodes: n, k, d must be positive/],
      [() => nearest(heap, -1, 2, 2, 0, 0, 0), /nearestCodes: expected/],
    ]
    for (const [call, message] of cases) {
      expect(call).toThrow(message)
      try { call() } catch (e) { expect((e as { code?: unknown }).code).toBe('TFPPL_NATIVE') }
    }
  })
})

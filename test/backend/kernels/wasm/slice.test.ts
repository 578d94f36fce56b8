/**
 * tfppl's `Slice` and `GatherV2` (on wasm they replace kernels that copy the whole input) against
 * plain-JS references: random shapes of rank 1–5, boxes, dtypes, and row gathers; an index out of
 * range is still tfjs's own error. On cpu the same assertions check tfjs's kernels.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FC } from '../../../helpers.js'

/** The row-major elements of the box begin…begin+size of an array of `shape`. */
const boxOf = (values: readonly number[], shape: readonly number[], begin: readonly number[], size: readonly number[]): number[] => {
  const strides = tf.util.computeStrides([...shape])
  const out: number[] = []
  const walk = (d: number, offset: number): void => {
    if (d === shape.length) { out.push(values[offset]!); return }
    for (let i = 0; i < size[d]!; i++) walk(d + 1, offset + (begin[d]! + i) * (strides[d] ?? 1))
  }
  walk(0, 0)
  return out
}

const box = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 }).chain((shape) =>
  fc.tuple(fc.constant(shape), ...shape.map((d) => fc.integer({ min: 0, max: d - 1 }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: d - b }))))))

describe('Slice and GatherV2', () => {
  it.each(['float32', 'int32', 'bool'] as const)('slice returns exactly the box, %s', (dtype) => {
    fc.assert(fc.property(box, ([shape, ...bs]) => {
      const n = shape.reduce((a, d) => a * d, 1)
      const values = Array.from({ length: n }, (_, i) => (dtype === 'bool' ? i % 3 === 0 ? 1 : 0 : i * 7 - 3))
      const begin = bs.map((b) => b[0]), size = bs.map((b) => b[1])
      const got = tf.tidy(() => Array.from(tf.slice(tf.tensor(values, shape, dtype), begin, size).dataSync()))
      expect(got).toEqual(boxOf(values, shape, begin, size))
    }), FC)
  })

  it('gather along axis 0 copies the indexed rows, repeats and all', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }), fc.array(fc.nat(), { minLength: 1, maxLength: 9 }),
      (rows, rest, raw) => {
        const row = rest.reduce((a, d) => a * d, 1)
        const values = Array.from({ length: rows * row }, (_, i) => i + 0.5)
        const idx = raw.map((i) => i % rows)
        const got = tf.tidy(() => {
          const y = tf.gather(tf.tensor(values, [rows, ...rest]), tf.tensor1d(idx, 'int32'))
          expect(y.shape).toEqual([idx.length, ...rest])
          return Array.from(y.dataSync())
        })
        expect(got).toEqual(idx.flatMap((i) => values.slice(i * row, (i + 1) * row)))
      }), FC)
  })

  it('an index out of range is still an error', () => {
    expect(() => tf.tidy(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], 'int32')).dataSync())).toThrow(/3/)
  })
})

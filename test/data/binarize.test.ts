import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/errors.js'
import { DataError, binarize, oneHot } from '../../src/data/index.js'
import { expectNoLeak, read } from '../helpers.js'

const P = [0, 0.1, 0.5, 0.9, 1]

/** `n` rows, column j constant P[j]: one call gives n draws per probability. */
const columns = (n: number): tf.Tensor2D => tf.tile(tf.tensor2d([P]), [n, 1]) as tf.Tensor2D

/** Column means of a [n, k] tensor. */
const colMeans = (x: tf.Tensor): number[] => { const m = tf.mean(x, 0); const out = read(m); m.dispose(); return out }

describe('binarize.fixed', () => {
  it('is 1 exactly where the pixel is strictly above the threshold', () => {
    const x = tf.tensor4d([0, 0.3, 0.5, 0.5001, 0.7, 1], [1, 2, 3, 1])
    const b = binarize.fixed()(x), c = binarize.fixed(0.3)(x)
    expect([b.dtype, b.shape]).toEqual(['float32', [1, 2, 3, 1]])
    expect(read(b)).toEqual([0, 0, 0, 1, 1, 1])
    expect(read(c)).toEqual([0, 0, 1, 1, 1, 1])
    expectNoLeak(() => binarize.fixed(0.5)(x))
    tf.dispose([x, b, c])
  })

  it('rejects a threshold outside [0, 1] and non-float images', () => {
    expect(() => binarize.fixed(1.5)).toThrow(InvalidArgumentError)
    expect(() => binarize.fixed(NaN)).toThrow(/binarize.fixed: threshold must be in \[0, 1\]; got NaN/)
    const i = tf.tensor1d([0, 1], 'int32')
    expect(() => binarize.fixed()(i)).toThrow(/images must be float32/)
    i.dispose()
  })
})

describe('binarize.dynamic', () => {
  it('draws Bernoulli(pixel): {0, 1}, column means ≈ p within 5σ, 0 and 1 exact', () => {
    const n = 20000, x = columns(n)
    const b = binarize.dynamic(1)(x)
    expect([b.dtype, b.shape]).toEqual(['float32', [n, 5]])
    expect(new Set(read(b))).toEqual(new Set([0, 1]))
    colMeans(b).forEach((m, j) => {
      const p = P[j]!
      expect(Math.abs(m - p)).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / n))
    })
    tf.dispose([x, b])
  })

  it('averages to the image over many calls, each call a fresh draw', () => {
    const x = tf.tensor2d([[0.05, 0.3, 0.5, 0.75, 0.95]])
    const bin = binarize.dynamic(7), k = 4000
    const draws = Array.from({ length: k }, () => bin(x))
    const stacked = tf.concat(draws, 0)
    colMeans(stacked).forEach((m, j) => {
      const p = read(x)[j]!
      expect(Math.abs(m - p)).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / k))
    })
    expect(new Set(draws.slice(0, 20).map((d) => read(d).join(''))).size).toBeGreaterThan(1)
    tf.dispose([x, stacked, ...draws])
  })

  it('the same seed repeats its sequence; different seeds and successive calls differ', () => {
    const x = columns(200)
    const [a, b] = [binarize.dynamic(3), binarize.dynamic(3)]
    const a1 = a(x), a2 = a(x), b1 = b(x), b2 = b(x), c1 = binarize.dynamic(4)(x)
    expect(read(a1)).toEqual(read(b1))
    expect(read(a2)).toEqual(read(b2))
    expect(read(a1)).not.toEqual(read(a2))
    expect(read(a1)).not.toEqual(read(c1))
    expectNoLeak(() => binarize.dynamic(5)(x))
    tf.dispose([x, a1, a2, b1, b2, c1])
  })

  it('rejects a non-integer seed', () => {
    expect(() => binarize.dynamic(0.5)).toThrow(/binarize.dynamic: seed must be an integer; got 0.5/)
  })
})

describe('oneHot', () => {
  it('encodes int32 labels as float32 [n, K]', () => {
    const l = tf.tensor1d([2, 0, 1, 2], 'int32')
    const y = oneHot(l, 3)
    expect([y.dtype, y.shape]).toEqual(['float32', [4, 3]])
    expect(read(y)).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1])
    expectNoLeak(() => oneHot(l, 3))
    tf.dispose([l, y])
  })

  it('names an out-of-range label, and rejects bad arguments', () => {
    const l = tf.tensor1d([0, 1, 3, 1], 'int32')
    expect(() => oneHot(l, 3)).toThrow(DataError)
    expect(() => oneHot(l, 3)).toThrow('oneHot: label 2 is 3; expected labels in [0, 3)')
    const neg = tf.tensor1d([0, -1], 'int32'), f = tf.tensor1d([0, 1])
    expect(() => oneHot(neg, 3)).toThrow('oneHot: label 1 is -1')
    expect(() => oneHot(f as tf.Tensor1D, 3)).toThrow(/labels must be an int32 tensor \[n\]; got float32 \[2\]/)
    expect(() => oneHot(l, 1)).toThrow(InvalidArgumentError)
    tf.dispose([l, neg, f])
  })
})

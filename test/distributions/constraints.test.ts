/** The constraints the new families' supports and parameters need: counts, integer ranges, Cholesky factors, covariances. */
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import * as constraints from '../../src/distributions/constraints.js'
import { read } from '../helpers.js'
import { bijectTo } from '../../src/distributions/biject.js'
import { exponential } from '../../src/distributions/exponential.js'
import { halfNormal } from '../../src/distributions/half-normal.js'

const bools = (t: tf.Tensor): boolean[] => read(t).map((v) => v === 1)

describe('constraints', () => {
  it('nonNegativeInteger: 0, 1, 7 pass; −1, 0.5, NaN, ∞ fail; holds agrees', () => tf.tidy(() => {
    const xs = [0, 1, 7, -1, 0.5, Number.NaN, Infinity]
    expect(bools(constraints.nonNegativeInteger.check(tf.tensor1d(xs)))).toEqual([true, true, true, false, false, false, false])
    expect(xs.map((v) => constraints.nonNegativeInteger.holds!(v))).toEqual([true, true, true, false, false, false, false])
  }))

  it('integerRange broadcasts tensor bounds: {0, …, n_i} per element', () => tf.tidy(() => {
    const c = constraints.integerRange(0, tf.tensor1d([3, 5, 2]))
    expect(bools(c.check(tf.tensor1d([3, 6, 1.5])))).toEqual([true, false, false])
  }))

  it('lowerCholesky: lower-triangular with a positive diagonal, per matrix of a batch', () => tf.tidy(() => {
    const good = [[1, 0], [0.5, 2]], upper = [[1, 0.1], [0.5, 2]], zeroDiag = [[1, 0], [0.5, 0]]
    expect(bools(constraints.lowerCholesky.check(tf.tensor3d([good, upper, zeroDiag])))).toEqual([true, false, false])
  }))

  it('positiveDefinite (necessary test): symmetric with a positive diagonal', () => tf.tidy(() => {
    const good = [[2, 0.5], [0.5, 1]], asym = [[2, 0.5], [0.1, 1]], neg = [[-1, 0], [0, 1]]
    expect(bools(constraints.positiveDefinite.check(tf.tensor3d([good, asym, neg])))).toEqual([true, false, false])
  }))

  it('nonNegative: 0 is in (the exponential and half families put mass up to it), −0.1, NaN, ∞ are not; bijectTo maps onto it by exp', () => tf.tidy(() => {
    expect(bools(constraints.nonNegative.check(tf.tensor1d([0, 2, -0.1, Number.NaN, Infinity])))).toEqual([true, true, false, false, false])
    expect(read(exponential(2).logProb(tf.scalar(0)))[0]).toBeCloseTo(Math.log(2), 6)
    expect(halfNormal(1).support._tag).toBe('nonNegative')
    expect(read(bijectTo(constraints.nonNegative).forward(tf.scalar(0)))[0]).toBe(1)
  }))
})

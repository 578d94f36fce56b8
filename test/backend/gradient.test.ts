import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { stopGradient, straightThroughGrad } from '../../src/backend/gradient.js'
import { expectClose, expectNoLeak, read, t } from '../helpers.js'

describe('gradient', () => {
  it('stopGradient is the identity forward and blocks the gradient', () => tf.tidy(() => {
    const x = tf.scalar(3)
    expect(read(stopGradient(x))).toEqual([3])
    // d/dx [sg(x)·x] = sg(x) = 3, not 2x = 6
    expect(read(tf.grad((v: tf.Tensor) => tf.mul(stopGradient(v), v))(x))).toEqual([3])
  }))

  it('straightThroughGrad takes the value of hard and the gradient of soft', () => tf.tidy(() => {
    const p = t([0.2, 0.7], [2])
    const f = (v: tf.Tensor) => tf.sum(tf.mul(straightThroughGrad(tf.round(v), tf.square(v)), t([1, 10], [2])))
    expect(read(straightThroughGrad(tf.round(p), tf.square(p)))).toEqual([0, 1])
    // gradient of Σ w·v² is 2 w v
    const g = read(tf.grad(f)(p))
    expect(g[0]).toBeCloseTo(2 * 1 * 0.2, 5)
    expect(g[1]).toBeCloseTo(2 * 10 * 0.7, 4)
  }))

  it('comparisons of int tensors derived from a parameter differentiate to zero (regression)', () => tf.tidy(() => {
    // argMax → int32 → equal → where: the tape crosses int32 comparisons, whose gradients must be float32 zeros.
    const f = (v: tf.Tensor) => {
      const picked = tf.equal(tf.argMax(v, -1), tf.tensor1d([1], 'int32'))
      return tf.sum(tf.where(picked, v.max(-1), tf.neg(v.max(-1))))
    }
    expect(read(tf.grad(f)(t([0.1, 0.9, 0.3], [1, 3])))).toEqual([0, 1, 0])
  }))

  it('leaks nothing, gradients included', () => {
    const x = t([1, 2], [2]), hard = t([1, 0], [2])
    expectNoLeak(() => [stopGradient(x), straightThroughGrad(hard, x)])
    expectNoLeak(() => tf.grad((v: tf.Tensor) => tf.sum(straightThroughGrad(stopGradient(v), v)))(x))
    tf.dispose([x, hard])
  })
})

describe("Sum's gradient (backend ones instead of JS-filled ones)", () => {
  it.each([[undefined], [0], [1], [-1], [[0, 2]]] as const)('is dy broadcast back over the summed axes (axis %j), keepDims or not', (axis) => tf.tidy(() => {
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 5)
    const w = tf.randomNormal(tf.sum(x, axis as number | number[] | undefined).shape, 0, 1, 'float32', 6)
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.sum(v, axis as number | number[] | undefined), w)))(x)
    const gKeep = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.sum(v, axis as number | number[] | undefined, true), tf.reshape(w, tf.sum(x, axis as number | number[] | undefined, true).shape))))(x)
    const expected = tf.mul(tf.reshape(w, tf.sum(x, axis as number | number[] | undefined, true).shape), tf.onesLike(x))
    expect(read(g)).toEqual(read(expected))
    expect(read(gKeep)).toEqual(read(expected))
  }))

  it('tile (and broadcastTo, which runs it) differentiates at ranks 5 and 6: each element gets the sum over its copies', () => tf.tidy(() => {
    const x = tf.reshape(tf.range(1, 7), [1, 2, 1, 3, 1])
    const u = tf.randomNormal([4, 2, 2, 3, 5], 0, 1, 'float32', 9)
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.broadcastTo(v, [4, 2, 2, 3, 5]), u)))(x)
    expect(g.shape).toEqual(x.shape)
    expectClose(read(g), read(tf.sum(u, [0, 2, 4])))
    const y = tf.reshape(tf.range(0, 4), [2, 1, 1, 2, 1, 1])
    const gt = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.tile(v, [1, 2, 1, 1, 3, 1]), tf.reshape(tf.range(0, 24), [2, 2, 1, 2, 3, 1]))))(y)
    expectClose(read(gt), read(tf.reshape(tf.sum(tf.reshape(tf.range(0, 24), [2, 2, 1, 2, 3, 1]), [1, 4], true), [4])))
  }))
})

/**
 * The hand-differentiated log densities against tfjs's autodiff of the same formulas, with every
 * broadcasting pattern (x larger than the parameters, parameters larger than x, scalars).
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bernoulliLogDensity, normalLogDensity } from '../../src/backend/log-densities.js'
import { FC, read } from '../helpers.js'

const autodiffNormal = (x: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor): tf.Tensor =>
  tf.sub(tf.mul(-0.5, tf.square(tf.div(tf.sub(x, loc), scale))), tf.add(tf.log(scale), 0.5 * Math.log(2 * Math.PI)))
const autodiffBernoulli = (x: tf.Tensor, logits: tf.Tensor): tf.Tensor => tf.sub(tf.mul(x, logits), tf.softplus(logits))

/** Value and input gradients of Σ f(inputs) ⊙ u, for u fixed. */
const valueAndGrads = (f: (...t: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): number[][] => tf.tidy(() => {
  const y = f(...inputs)
  const u = tf.randomUniform(y.shape, 0.5, 2, 'float32', 7)
  return [y, ...tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(f(...t), u)))(inputs)].map(read)
})

const close = (a: number[][], b: number[][]): void => {
  expect(a.map((v) => v.length)).toEqual(b.map((v) => v.length))
  a.forEach((v, i) => v.forEach((e, j) => expect(Math.abs(e - b[i]![j]!)).toBeLessThan(1e-4 * (1 + Math.abs(b[i]![j]!)))))
}

/** Shapes of two or three operands that broadcast together: a full shape and some suffix/one-padded variants. */
const shapes = (n: number) => fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 })).chain(([a, b]) =>
  fc.array(fc.constantFrom<number[]>([a, b], [b], [1, b], [], [a, 1]), { minLength: n, maxLength: n }))

describe('log densities with hand-written gradients', () => {
  it('normalLogDensity equals autodiff of the formula, value and gradients, under broadcasting', () => {
    fc.assert(fc.property(shapes(3), fc.integer({ min: 0, max: 1000 }), ([sx, sl, ss], seed) => {
      const t = [tf.randomNormal(sx!, 0, 2, 'float32', seed), tf.randomNormal(sl!, 0, 1, 'float32', seed + 1), tf.randomUniform(ss!, 0.2, 3, 'float32', seed + 2)]
      try { close(valueAndGrads((...a) => normalLogDensity(a[0]!, a[1]!, a[2]!), t), valueAndGrads(autodiffNormal, t)) } finally { tf.dispose(t) }
    }), FC)
  })

  it('bernoulliLogDensity equals autodiff of the formula, value and gradients, under broadcasting', () => {
    fc.assert(fc.property(shapes(2), fc.integer({ min: 0, max: 1000 }), ([sx, sl], seed) => {
      const t = [tf.tidy(() => tf.cast(tf.greater(tf.randomUniform(sx!, 0, 1, 'float32', seed), 0.5), 'float32')), tf.randomNormal(sl!, 0, 3, 'float32', seed + 1)]
      try { close(valueAndGrads((...a) => bernoulliLogDensity(a[0]!, a[1]!), t), valueAndGrads(autodiffBernoulli, t)) } finally { tf.dispose(t) }
    }), FC)
  })

  it('sumLast sums the rightmost dims of the broadcast value inside the op: equal to tf.sum after it, values and gradients', () => {
    fc.assert(fc.property(shapes(3), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 2 }), ([sx, sl, ss], seed, k) => {
      const t = [tf.randomNormal(sx!, 0, 2, 'float32', seed), tf.randomNormal(sl!, 0, 1, 'float32', seed + 1), tf.randomUniform(ss!, 0.2, 3, 'float32', seed + 2)]
      const rank = Math.max(...[sx!, sl!, ss!].map((s) => s.length)), n = Math.min(k, rank)
      const lastDims = (v: tf.Tensor) => tf.sum(v, Array.from({ length: n }, (_, i) => v.rank - n + i))
      try {
        close(valueAndGrads((...a) => normalLogDensity(a[0]!, a[1]!, a[2]!, n), t), valueAndGrads((...a) => lastDims(autodiffNormal(a[0]!, a[1]!, a[2]!)), t))
        const b = [tf.tidy(() => tf.cast(tf.greater(t[0]!, 0), 'float32')), t[1]!]
        try { close(valueAndGrads((...a) => bernoulliLogDensity(a[0]!, a[1]!, n), b), valueAndGrads((...a) => lastDims(autodiffBernoulli(a[0]!, a[1]!)), b)) } finally { b[0]!.dispose() }
      } finally { tf.dispose(t) }
    }), FC)
  })

  it('leaves no tensors behind', () => {
    const [x, l, s] = [tf.ones([3, 2]), tf.zeros([2]), tf.scalar(2)]
    const before = tf.memory().numTensors
    valueAndGrads((...a) => normalLogDensity(a[0]!, a[1]!, a[2]!), [x, l, s])
    valueAndGrads((...a) => bernoulliLogDensity(a[0]!, a[1]!), [x, l])
    valueAndGrads((...a) => normalLogDensity(a[0]!, a[1]!, a[2]!, 2), [x, l, s])
    valueAndGrads((...a) => bernoulliLogDensity(a[0]!, a[1]!, 1), [x, l])
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([x, l, s])
  })
})
